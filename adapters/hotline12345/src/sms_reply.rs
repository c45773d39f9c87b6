//! Citizens' replies by SMS (上行短信), the pure part: the SMS gateway's callback described in
//! config ([`ReplySpec`], `[adapters.sms_replies]`) rather than one vendor's API in code, as
//! the outbound [`crate::sms`] gateway is. [`Replies::compile`] checks the description once;
//! then [`Replies::authenticate`] checks that a callback really comes from the gateway (a
//! shared token, or a signature over a string the description spells out, with the same
//! primitives as outbound requests) and [`Replies::read`] takes the sender's phone, the text
//! and the gateway's message id out of a JSON or form body. What the text means is
//! [`minhu_adapter::rating_reply`]'s business. No I/O.
//!
//! The signed string is a template over `{timestamp}`, `{nonce}` (from the headers the
//! description names), `{body}` (as received), `{method}`, `{path}`, `{query}` and `{secret}`.
use std::time::Duration;

use minhu_adapter::template::Template;
use subtle::ConstantTimeEq;

use crate::sms::ContentType;
use crate::sms::sign::{self, Algorithm, Encoding};

mod fields;
mod spec;

use fields::Fields;
pub use spec::{ReplySignatureSpec, ReplySpec};

/// Longest message id taken from a gateway (it becomes part of the rating's id).
pub const MAX_MESSAGE_ID: usize = 100;

/// The placeholders of the signed string.
const SIGNED: &[&str] = &[
    "timestamp",
    "nonce",
    "body",
    "method",
    "path",
    "query",
    "secret",
];

/// A checked callback description with its secret.
#[derive(Clone)]
pub struct Replies {
    content_type: ContentType,
    phone: String,
    text: String,
    message_id: String,
    auth: Auth,
    secret: String,
}

impl std::fmt::Debug for Replies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("Replies").finish_non_exhaustive()
    }
}

#[derive(Clone)]
enum Auth {
    TokenHeader(String),
    TokenQuery(String),
    Signature {
        algorithm: Algorithm,
        encoding: Encoding,
        header: String,
        signed: Template,
        timestamp_header: String,
        nonce_header: String,
        max_skew_s: i64,
    },
}

/// One callback as received.
#[derive(Debug, Clone, Copy)]
pub struct Callback<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// Header (name, value) pairs; names compare case-blind.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    /// Now, in Unix seconds (from the caller's clock).
    pub now_s: i64,
}

impl Callback<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Why a callback is not believed to come from the gateway. The text names the header or
/// parameter, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Forged {
    #[error("no {0}")]
    Missing(String),
    #[error("{0} does not match")]
    Mismatch(String),
    #[error("{0} is not a Unix time")]
    BadTimestamp(String),
    #[error("{header} is {skew_s}s away from now (at most {max_s}s allowed)")]
    Stale {
        header: String,
        skew_s: i64,
        max_s: i64,
    },
}

/// A malformed callback: the field to blame (as configured) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Malformed {
    pub field: String,
    pub message: String,
}

/// One reply, as the gateway sent it. Holds the phone number and text: never log it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsReply {
    /// The sender's number as the gateway wrote it (normalise with [`crate::sms::mobile`]).
    pub phone: String,
    pub text: String,
    pub message_id: String,
}

impl Replies {
    /// Checks `spec` with `secret`; every problem as (key under the section, message).
    pub fn compile(
        spec: &ReplySpec,
        secret: &str,
        max_skew: Duration,
    ) -> Result<Replies, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let mut bad = |k: &str, m: &str| problems.push((k.to_owned(), m.to_owned()));
        for (key, v) in [
            ("phone_field", &spec.phone_field),
            ("text_field", &spec.text_field),
            ("message_id_field", &spec.message_id_field),
        ] {
            if v.trim().is_empty() {
                bad(key, "must name the callback's field");
            }
        }
        let schemes = [
            !spec.token_header.is_empty(),
            !spec.token_query.is_empty(),
            spec.signature.is_some(),
        ];
        if schemes.iter().filter(|s| **s).count() != 1 {
            bad(
                "signature",
                "set exactly one of token_header, token_query and [signature]: anyone who \
                 could post here unchecked could rate any citizen's case",
            );
        }
        if secret.is_empty() {
            bad("secret", "the shared secret is required");
        }
        let max_skew_s = i64::try_from(max_skew.as_secs()).unwrap_or(i64::MAX);
        let auth = match &spec.signature {
            Some(s) => {
                let signed = Template::parse(&s.signed, SIGNED).unwrap_or_else(|e| {
                    bad("signature.signed", &e.to_string());
                    Template::parse("", &[]).unwrap_or_else(|_| unreachable!("the empty template"))
                });
                if s.header.trim().is_empty() {
                    bad(
                        "signature.header",
                        "must name the header carrying the signature",
                    );
                }
                for (name, header, key) in [
                    (
                        "timestamp",
                        &s.timestamp_header,
                        "signature.timestamp_header",
                    ),
                    ("nonce", &s.nonce_header, "signature.nonce_header"),
                ] {
                    if header.is_empty() && uses(&s.signed, name) {
                        bad(
                            key,
                            &format!("signed uses {{{name}}}: name the header it is in"),
                        );
                    }
                }
                if !s.algorithm.keyed() && !uses(&s.signed, "secret") {
                    bad("signature.signed", "a plain sha256 must include {secret}");
                }
                Auth::Signature {
                    algorithm: s.algorithm,
                    encoding: s.encoding,
                    header: s.header.clone(),
                    signed,
                    timestamp_header: s.timestamp_header.clone(),
                    nonce_header: s.nonce_header.clone(),
                    max_skew_s,
                }
            }
            None if !spec.token_query.is_empty() => Auth::TokenQuery(spec.token_query.clone()),
            None => Auth::TokenHeader(spec.token_header.clone()),
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Replies {
            content_type: spec.content_type,
            phone: spec.phone_field.clone(),
            text: spec.text_field.clone(),
            message_id: spec.message_id_field.clone(),
            auth,
            secret: secret.to_owned(),
        })
    }

    /// Whether `c` comes from the gateway: its token or signature, and its timestamp.
    pub fn authenticate(&self, c: &Callback<'_>) -> Result<(), Forged> {
        match &self.auth {
            Auth::TokenHeader(h) => {
                let given = c.header(h).ok_or_else(|| Forged::Missing(h.clone()))?;
                same(given, &self.secret)
                    .then_some(())
                    .ok_or_else(|| Forged::Mismatch(h.clone()))
            }
            Auth::TokenQuery(q) => {
                let given = form_urlencoded::parse(c.query.as_bytes())
                    .find(|(k, _)| k == q)
                    .map(|(_, v)| v.into_owned())
                    .ok_or_else(|| Forged::Missing(q.clone()))?;
                same(&given, &self.secret)
                    .then_some(())
                    .ok_or_else(|| Forged::Mismatch(q.clone()))
            }
            Auth::Signature {
                algorithm,
                encoding,
                header,
                signed,
                timestamp_header,
                nonce_header,
                max_skew_s,
            } => {
                let given = c
                    .header(header)
                    .ok_or_else(|| Forged::Missing(header.clone()))?;
                let timestamp = if timestamp_header.is_empty() {
                    ""
                } else {
                    let t = c
                        .header(timestamp_header)
                        .ok_or_else(|| Forged::Missing(timestamp_header.clone()))?;
                    fresh(t, timestamp_header, c.now_s, *max_skew_s)?;
                    t
                };
                let nonce = if nonce_header.is_empty() {
                    ""
                } else {
                    c.header(nonce_header)
                        .ok_or_else(|| Forged::Missing(nonce_header.clone()))?
                };
                let body = String::from_utf8_lossy(c.body);
                let message = signed.render(&[
                    ("timestamp", timestamp),
                    ("nonce", nonce),
                    ("body", &body),
                    ("method", c.method),
                    ("path", c.path),
                    ("query", c.query),
                    ("secret", &self.secret),
                ]);
                let want = sign::sign(
                    *algorithm,
                    *encoding,
                    self.secret.as_bytes(),
                    message.as_bytes(),
                );
                let given = match encoding {
                    // Hex is compared case-blind: gateways differ, and the bytes are the same.
                    Encoding::Hex | Encoding::HexUpper => given.trim().to_ascii_lowercase(),
                    Encoding::Base64 => given.trim().to_owned(),
                };
                let want = match encoding {
                    Encoding::Hex | Encoding::HexUpper => want.to_ascii_lowercase(),
                    Encoding::Base64 => want,
                };
                same(&given, &want)
                    .then_some(())
                    .ok_or_else(|| Forged::Mismatch(header.clone()))
            }
        }
    }

    /// The configured name of the phone field (to blame for a number that is not a mobile).
    pub fn phone_field(&self) -> &str {
        &self.phone
    }

    /// The reply in a callback body.
    pub fn read(&self, body: &[u8]) -> Result<SmsReply, Malformed> {
        let fields = match self.content_type {
            ContentType::Json => {
                Fields::Json(serde_json::from_slice(body).map_err(|e| Malformed {
                    field: "body".into(),
                    message: format!("not JSON: {e}"),
                })?)
            }
            ContentType::Form => Fields::Form(
                form_urlencoded::parse(body)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            ),
        };
        let get = |field: &str| {
            fields.get(field).ok_or_else(|| Malformed {
                field: field.to_owned(),
                message: "is missing".into(),
            })
        };
        let phone = get(&self.phone)?;
        let text = get(&self.text)?;
        let message_id = get(&self.message_id)?.trim().to_owned();
        if message_id.is_empty()
            || message_id.chars().count() > MAX_MESSAGE_ID
            || message_id
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(Malformed {
                field: self.message_id.clone(),
                message: format!("must be 1-{MAX_MESSAGE_ID} printable characters without spaces"),
            });
        }
        Ok(SmsReply {
            phone,
            text,
            message_id,
        })
    }
}

/// Whether the signed string template uses `{name}`.
fn uses(signed: &str, name: &str) -> bool {
    let without: Vec<&str> = SIGNED.iter().copied().filter(|k| *k != name).collect();
    Template::parse(signed, &without).is_err() && Template::parse(signed, SIGNED).is_ok()
}

/// A timestamp header within `max_s` of `now_s`; milliseconds are read as such.
fn fresh(t: &str, header: &str, now_s: i64, max_s: i64) -> Result<(), Forged> {
    let v: i64 = t
        .trim()
        .parse()
        .map_err(|_| Forged::BadTimestamp(header.to_owned()))?;
    let secs = if v > 100_000_000_000 { v / 1000 } else { v };
    let skew_s = now_s.saturating_sub(secs).saturating_abs();
    if skew_s > max_s {
        return Err(Forged::Stale {
            header: header.to_owned(),
            skew_s,
            max_s,
        });
    }
    Ok(())
}

/// Constant-time equality, so the answer's timing does not tell how much of a guess was right.
fn same(given: &str, want: &str) -> bool {
    bool::from(given.as_bytes().ct_eq(want.as_bytes()))
}

#[cfg(test)]
#[path = "sms_reply_tests.rs"]
mod tests;
