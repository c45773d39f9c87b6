//! Checking a [`GatewaySpec`] once, when the config is checked, so that rendering a request
//! can neither fail nor surprise: every template parses against the placeholders its place
//! allows, header values stay plain ASCII, and the signature neither signs itself nor goes
//! nowhere.
use minhu_adapter::template::{Template, TemplateError};
use serde_json::Value;

use super::render::{AnswerSpec, Body, Json, Signer};
use super::{BodySpec, ContentType, Gateway, GatewaySpec, Method};

/// Placeholders of the URL and body (plus `signature` when signing, plus the caller's extras).
const REQUEST: &[&str] = &[
    "phone",
    "phone_e164",
    "text",
    "notice_id",
    "timestamp",
    "timestamp_ms",
    "datetime",
    "iso8601",
    "nonce",
];
/// Placeholders of header values: those whose values are plain ASCII without line breaks.
const HEADER: &[&str] = &[
    "phone",
    "phone_e164",
    "notice_id",
    "timestamp",
    "timestamp_ms",
    "datetime",
    "iso8601",
    "nonce",
];
/// What the signed string knows besides the request placeholders.
const SIGNED: &[&str] = &["method", "url", "path", "query", "body", "secret"];

/// Whether `text` (which parses with `known`) uses the placeholder `name`.
fn uses(text: &str, known: &[&str], name: &str) -> bool {
    let without: Vec<&str> = known.iter().copied().filter(|k| *k != name).collect();
    matches!(Template::parse(text, &without), Err(TemplateError::Unknown { name: n, .. }) if n == name)
}

/// Header names are RFC 9110 tokens.
fn token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Every string leaf of a JSON body table.
fn leaves<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
        Value::Object(o) => o.values().for_each(|x| leaves(x, out)),
        _ => {}
    }
}

struct Checker {
    problems: Vec<(String, String)>,
}

impl Checker {
    fn bad(&mut self, key: impl Into<String>, msg: impl Into<String>) {
        self.problems.push((key.into(), msg.into()));
    }

    fn template(&mut self, key: &str, text: &str, known: &[&str]) -> Template {
        Template::parse(text, known).unwrap_or_else(|e| {
            self.bad(key, e.to_string());
            Template::parse("", &[]).unwrap_or_else(|_| unreachable!("the empty template"))
        })
    }

    fn json(&mut self, key: &str, v: &Value, known: &[&str]) -> Json {
        match v {
            Value::String(s) => Json::Str(self.template(key, s, known)),
            Value::Array(a) => Json::Arr(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| self.json(&format!("{key}[{i}]"), x, known))
                    .collect(),
            ),
            Value::Object(o) => {
                let mut fields: Vec<_> = o.iter().collect();
                // Sorted, so the body's bytes do not depend on how the config was read.
                fields.sort_by(|a, b| a.0.cmp(b.0));
                Json::Obj(
                    fields
                        .into_iter()
                        .map(|(k, x)| (k.clone(), self.json(&format!("{key}.{k}"), x, known)))
                        .collect(),
                )
            }
            other => Json::Lit(other.clone()),
        }
    }
}

impl Gateway {
    /// Checks `spec`; `secret` signs the requests, `extras` are the caller's placeholders
    /// (e.g. the case's facts). Every problem as (key relative to the gateway's section,
    /// message).
    pub fn compile(
        spec: &GatewaySpec,
        secret: &str,
        extras: &[&str],
    ) -> Result<Gateway, Vec<(String, String)>> {
        let mut c = Checker {
            problems: Vec::new(),
        };
        let signing = spec.signature.is_some();
        let mut request: Vec<&str> = REQUEST.iter().chain(extras).copied().collect();
        let mut header: Vec<&str> = HEADER.to_vec();
        if signing {
            request.push("signature");
            header.push("signature");
        }
        if !(spec.url.starts_with("https://") || spec.url.starts_with("http://")) {
            c.bad("url", "must start with https:// or http://");
        }
        let url = c.template("url", &spec.url, &request);
        let mut texts: Vec<&str> = Vec::new();
        let body = match (&spec.body, spec.content_type) {
            (BodySpec::Text(s), _) if s.is_empty() => Body::Empty,
            (BodySpec::Fields(m), _) if m.is_empty() => Body::Empty,
            (BodySpec::Text(s), ct) => {
                texts.push(s);
                Body::Text(c.template("body", s, &request), ct)
            }
            (BodySpec::Fields(m), ContentType::Json) => {
                m.values().for_each(|v| leaves(v, &mut texts));
                let obj = Value::Object(m.clone().into_iter().collect());
                Body::Json(c.json("body", &obj, &request))
            }
            (BodySpec::Fields(m), ContentType::Form) => {
                let mut fields = Vec::new();
                for (k, v) in m {
                    let key = format!("body.{k}");
                    let text = match v {
                        Value::String(s) => {
                            texts.push(s);
                            s.clone()
                        }
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => {
                            c.bad(key, "a form field is text, a number or a boolean");
                            continue;
                        }
                    };
                    fields.push((k.clone(), c.template(&key, &text, &request)));
                }
                Body::Form(fields)
            }
        };
        if spec.method == Method::GET && !matches!(body, Body::Empty) {
            c.bad(
                "body",
                "a GET request has no body: put the fields in the url's query",
            );
        }
        let mut headers = Vec::new();
        for (name, v) in &spec.headers {
            let key = format!("headers.{name}");
            if !token(name) {
                c.bad(&key, "not a valid header name");
            }
            if !v.chars().all(|ch| ch == '\t' || (' '..='~').contains(&ch)) {
                c.bad(&key, "a header value must be printable ASCII");
            }
            headers.push((name.clone(), c.template(&key, v, &header)));
        }
        let in_request = uses(&spec.url, &request, "signature")
            || texts.iter().any(|t| uses(t, &request, "signature"));
        let signer = spec.signature.as_ref().map(|s| {
            let known: Vec<&str> = request
                .iter()
                .copied()
                .filter(|k| *k != "signature")
                .chain(SIGNED.iter().copied())
                .collect();
            let signed = c.template("signature.signed", &s.signed, &known);
            let in_headers = spec.headers.values().any(|v| uses(v, &header, "signature"));
            if !s.header.is_empty() && !token(&s.header) {
                c.bad("signature.header", "not a valid header name");
            }
            if s.header.is_empty() && !in_request && !in_headers {
                c.bad(
                    "signature.header",
                    "the signature is sent nowhere: name a header, or put {signature} in the url, body or a header",
                );
            }
            if in_request && ["url", "path", "query", "body"].iter().any(|n| uses(&s.signed, &known, n)) {
                c.bad(
                    "signature.signed",
                    "{signature} is in the url or body, so the signed string cannot contain {url}, {path}, {query} or {body}",
                );
            }
            if !s.algorithm.keyed() && !uses(&s.signed, &known, "secret") {
                c.bad("signature.signed", "a plain sha256 digest must contain {secret}, or anyone could sign");
            }
            Signer {
                algorithm: s.algorithm,
                encoding: s.encoding,
                header: s.header.clone(),
                signed,
                secret: secret.to_owned(),
            }
        });
        if !spec.code_field.is_empty() && spec.success_codes.is_empty() {
            c.bad(
                "success_codes",
                "must list at least one code (or leave code_field empty: any 2xx is then a success)",
            );
        }
        for code in &spec.permanent_codes {
            if spec.success_codes.contains(code) {
                c.bad(
                    "permanent_codes",
                    format!("{code:?} is also a success code"),
                );
            }
        }
        if !c.problems.is_empty() {
            return Err(c.problems);
        }
        Ok(Gateway {
            method: spec.method,
            url,
            body,
            headers,
            signer,
            sig_in_request: in_request && signing,
            answer: AnswerSpec {
                code_field: spec.code_field.clone(),
                success_codes: spec.success_codes.clone(),
                permanent_codes: spec.permanent_codes.clone(),
                receipt_field: spec.receipt_field.clone(),
                message_field: spec.message_field.clone(),
            },
        })
    }
}
