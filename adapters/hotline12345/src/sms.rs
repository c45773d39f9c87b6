//! SMS to hotline (12345) and phone-only citizens, the pure part: an HTTP SMS gateway described
//! in config ([`GatewaySpec`], `[notify.sms.gateway]`) rather than one vendor's API in code, in
//! the same spirit as the call-centres' field mappings. [`Gateway::compile`] checks the
//! description once; then [`Gateway::render`] turns a message into the exact HTTP request
//! (URL, headers, body, signature) and [`Gateway::classify`] reads the gateway's answer.
//! [`mobile`] normalises a number as the citizen gave it, and [`QuietHours`] says when an SMS
//! must wait for the morning. No I/O: the gateway crate's sender does the sending.
//!
//! Templates (URL, body, headers, signed string) use `{placeholder}`s, `{{`/`}}` for braces:
//!
//! | placeholder | value |
//! | --- | --- |
//! | `{phone}`, `{phone_e164}` | `13812345678`, `+8613812345678` |
//! | `{text}` | the message, already cut to the configured length |
//! | `{notice_id}` | stable across retries: the gateway's request / idempotency id |
//! | `{timestamp}`, `{timestamp_ms}` | Unix seconds, milliseconds |
//! | `{datetime}`, `{iso8601}` | `20261122093015` (Beijing time), `2026-11-22T01:30:15Z` (UTC) |
//! | `{nonce}` | 16 hex digits, new per attempt |
//! | `{signature}` | the signature (not in the signed string itself) |
//! | the caller's extras | e.g. `{ticket_id}`, `{result}`, for template-message gateways |
//!
//! Values are JSON-escaped in a JSON body and percent-encoded in a form body and the URL. The
//! signed string also knows `{method}`, `{url}`, `{path}`, `{query}`, `{body}` (as sent) and
//! `{secret}`; headers know only the placeholders whose values are plain ASCII.
pub(crate) mod answer;
mod compile;
mod phone;
mod quiet;
mod render;
pub(crate) mod sign;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use minhu_adapter::template::Template;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use answer::Answer;
pub use phone::{Mobile, NotMobile, mobile};
pub use quiet::{QuietHours, quiet_until};
pub use sign::{Algorithm, Encoding};

/// The HTTP method of the send request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum Method {
    #[default]
    #[serde(alias = "post")]
    POST,
    /// Everything in the URL's query; no body.
    #[serde(alias = "get")]
    GET,
}

/// How the body is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentType {
    /// `application/json; charset=utf-8`.
    #[default]
    Json,
    /// `application/x-www-form-urlencoded; charset=utf-8`.
    Form,
}

/// The body: a template string, or a table of fields (values are templates) that is encoded
/// as a JSON object (nested tables and arrays allowed) or as form fields (sorted by name).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum BodySpec {
    Text(String),
    Fields(BTreeMap<String, Value>),
}

impl Default for BodySpec {
    fn default() -> Self {
        BodySpec::Text(String::new())
    }
}

/// An HTTP SMS gateway as the service config describes it (`[notify.sms.gateway]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewaySpec {
    /// The send endpoint, `http://` or `https://`; a template (e.g. a GET gateway's query).
    pub url: String,
    /// `POST` (default) or `GET`.
    pub method: Method,
    /// `json` (default) or `form`.
    pub content_type: ContentType,
    /// The body (POST only): a template string, e.g.
    /// `'{{"mobile":"{phone}","content":"{text}"}}'`, or a table of fields, e.g.
    /// `{ mobile = "{phone}", content = "{text}", requestId = "{notice_id}" }`.
    pub body: BodySpec,
    /// Extra headers, name → template, e.g. `{ "X-Timestamp" = "{timestamp}" }`.
    pub headers: BTreeMap<String, String>,
    /// How requests are signed; none when absent.
    pub signature: Option<SignatureSpec>,
    /// Dotted path of the result code in the JSON answer (e.g. `code`, `result.status`). Empty:
    /// any 2xx answer counts as sent.
    pub code_field: String,
    /// Codes that mean "accepted" (JSON numbers compare by their text: `0` matches `"0"`).
    pub success_codes: Vec<String>,
    /// Codes that mean this number can never get the SMS (invalid, blacklisted, unsubscribed):
    /// the notice is recorded as unreachable instead of retried.
    pub permanent_codes: Vec<String>,
    /// Dotted path of the gateway's message id in a success answer (e.g. `data.bizId`).
    pub receipt_field: String,
    /// Dotted path of the gateway's error text, quoted (masked) in retries and failures.
    pub message_field: String,
}

impl Default for GatewaySpec {
    fn default() -> Self {
        Self {
            url: String::new(),
            method: Method::POST,
            content_type: ContentType::Json,
            body: BodySpec::default(),
            headers: BTreeMap::new(),
            signature: None,
            code_field: "code".into(),
            success_codes: vec!["OK".into(), "0".into()],
            permanent_codes: Vec::new(),
            receipt_field: String::new(),
            message_field: "message".into(),
        }
    }
}

/// How a request is signed (`[notify.sms.gateway.signature]`); the secret itself is given
/// separately so that it never sits beside the description.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignatureSpec {
    /// `hmac-sha256` (default), `hmac-sha1`, or `sha256` (a plain digest; `signed` must then
    /// contain `{secret}`).
    pub algorithm: Algorithm,
    /// `hex` (default), `hex-upper` or `base64`.
    pub encoding: Encoding,
    /// The header that carries the signature; empty when `{signature}` is placed elsewhere.
    pub header: String,
    /// The string signed, a template (default `"{timestamp}\n{body}"`).
    pub signed: String,
}

impl Default for SignatureSpec {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::HmacSha256,
            encoding: Encoding::Hex,
            header: "X-Signature".into(),
            signed: "{timestamp}\n{body}".into(),
        }
    }
}

/// One SMS to render.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub phone: &'a Mobile,
    /// The text, already cut to length.
    pub text: &'a str,
    pub notice_id: &'a str,
    /// The attempt's instant, ms since the epoch (timestamps, nonce).
    pub now_ms: i64,
    /// The caller's extra placeholders (names given to [`Gateway::compile`]).
    pub vars: &'a [(&'a str, &'a str)],
}

/// The request to send, exactly. Holds the phone number and text: never log it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsRequest {
    pub method: Method,
    pub url: String,
    /// In order: `Content-Type` (unless configured), the configured headers by name, the
    /// signature header.
    pub headers: Vec<(String, String)>,
    /// Empty for GET.
    pub body: String,
}

/// A checked gateway description with its secret, ready to render requests.
#[derive(Clone)]
pub struct Gateway {
    method: Method,
    url: Template,
    body: render::Body,
    headers: Vec<(String, Template)>,
    signer: Option<render::Signer>,
    /// `{signature}` is in the URL or body, so it is computed before them.
    sig_in_request: bool,
    answer: render::AnswerSpec,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("Gateway")
            .field("method", &self.method)
            .field("signed", &self.signer.is_some())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Renders the request for `m`.
    pub fn render(&self, m: &Message<'_>) -> SmsRequest {
        let method = match self.method {
            Method::POST => "POST",
            Method::GET => "GET",
        };
        let base = render::base_vars(m);
        let early = match &self.signer {
            Some(s) if self.sig_in_request => Some(s.sign(&base, method, None)),
            _ => None,
        };
        let mut vars = base.clone();
        vars.push(("signature", early.clone().unwrap_or_default()));
        let url = render::render(&self.url, &vars, render::percent);
        let body = self.body.render(&vars);
        let signature = match (&self.signer, early) {
            (_, Some(s)) => Some(s),
            (Some(s), None) => Some(s.sign(&base, method, Some((&url, &body)))),
            (None, None) => None,
        };
        if let (Some(sig), Some(last)) = (&signature, vars.last_mut()) {
            last.1 = sig.clone();
        }
        let mut headers = Vec::new();
        let configured = |n: &str| self.headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
        if !body.is_empty() && !configured("content-type") {
            headers.push((
                "Content-Type".to_owned(),
                self.body.content_type().to_owned(),
            ));
        }
        for (name, t) in &self.headers {
            headers.push((name.clone(), render::render(t, &vars, render::raw)));
        }
        if let (Some(s), Some(sig)) = (&self.signer, signature)
            && !s.header.is_empty()
        {
            headers.push((s.header.clone(), sig));
        }
        SmsRequest {
            method: self.method,
            url,
            headers,
            body,
        }
    }
}
