//! Turning a compiled gateway's templates into bytes: the placeholder values of one message,
//! the escaping each place needs (JSON string, percent-encoding, none), the body encodings and
//! the signed string.
use std::fmt::Write as _;

use minhu_adapter::template::Template;
use serde_json::Value;

use super::sign::{self, Algorithm, Encoding};
use super::{ContentType, Message};

/// Asia/Shanghai is UTC+08:00 all year.
const BEIJING_OFFSET_S: i64 = 8 * 3600;

/// A body, compiled.
#[derive(Clone)]
pub(crate) enum Body {
    Empty,
    Text(Template, ContentType),
    Json(Json),
    Form(Vec<(String, Template)>),
}

/// A JSON body table: string leaves are templates, other leaves are sent as written.
#[derive(Clone)]
pub(crate) enum Json {
    Str(Template),
    Lit(Value),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

#[derive(Clone)]
pub(crate) struct Signer {
    pub(crate) algorithm: Algorithm,
    pub(crate) encoding: Encoding,
    pub(crate) header: String,
    pub(crate) signed: Template,
    pub(crate) secret: String,
}

#[derive(Clone)]
pub(crate) struct AnswerSpec {
    pub(crate) code_field: String,
    pub(crate) success_codes: Vec<String>,
    pub(crate) permanent_codes: Vec<String>,
    pub(crate) receipt_field: String,
    pub(crate) message_field: String,
}

/// Renders `t` with every value passed through `escape`.
pub(crate) fn render(t: &Template, vars: &[(&str, String)], escape: fn(&str) -> String) -> String {
    let owned: Vec<(&str, String)> = vars.iter().map(|(k, v)| (*k, escape(v))).collect();
    let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    t.render(&refs)
}

pub(crate) fn raw(v: &str) -> String {
    v.to_owned()
}

/// Percent-encoding for URLs and form bodies: all but the unreserved characters of RFC 3986,
/// so a space is `%20` (which form decoders read too) and `+` is `%2B`.
pub(crate) fn percent(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The inside of a JSON string literal.
pub(crate) fn json_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Control characters, and the two separators some JavaScript parsers choke on.
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `(y, m, d, hh, mm, ss)` of `ms` at a UTC offset.
fn civil_time(ms: i64, offset_s: i64) -> (i64, u32, u32, i64, i64, i64) {
    let secs = ms.div_euclid(1000).saturating_add(offset_s);
    let (day, s) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = minhu_adapter::civil::civil(day).unwrap_or((1970, 1, 1));
    (y, m, d, s / 3600, s % 3600 / 60, s % 60)
}

/// The placeholder values of one message, unescaped (without `signature`).
pub(crate) fn base_vars<'a>(m: &Message<'a>) -> Vec<(&'a str, String)> {
    let (y, mo, d, h, mi, s) = civil_time(m.now_ms, BEIJING_OFFSET_S);
    let (uy, umo, ud, uh, umi, us) = civil_time(m.now_ms, 0);
    let mut v = vec![
        ("phone", m.phone.as_str().to_owned()),
        ("phone_e164", m.phone.e164()),
        ("text", m.text.to_owned()),
        ("notice_id", m.notice_id.to_owned()),
        ("timestamp", m.now_ms.div_euclid(1000).to_string()),
        ("timestamp_ms", m.now_ms.to_string()),
        (
            "datetime",
            format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}"),
        ),
        (
            "iso8601",
            format!("{uy:04}-{umo:02}-{ud:02}T{uh:02}:{umi:02}:{us:02}Z"),
        ),
        ("nonce", sign::nonce(m.notice_id, m.now_ms)),
    ];
    v.extend(m.vars.iter().map(|(k, x)| (*k, (*x).to_owned())));
    v
}

impl Body {
    pub(crate) fn content_type(&self) -> &'static str {
        match self {
            Body::Text(_, ContentType::Form) | Body::Form(_) => {
                "application/x-www-form-urlencoded; charset=utf-8"
            }
            _ => "application/json; charset=utf-8",
        }
    }

    pub(crate) fn render(&self, vars: &[(&str, String)]) -> String {
        match self {
            Body::Empty => String::new(),
            Body::Text(t, ContentType::Json) => render(t, vars, json_escape),
            Body::Text(t, ContentType::Form) => render(t, vars, percent),
            Body::Json(j) => j.render(vars).to_string(),
            Body::Form(fields) => fields
                .iter()
                .map(|(k, t)| format!("{}={}", percent(k), percent(&render(t, vars, raw))))
                .collect::<Vec<_>>()
                .join("&"),
        }
    }
}

impl Json {
    fn render(&self, vars: &[(&str, String)]) -> Value {
        match self {
            Json::Str(t) => Value::String(render(t, vars, raw)),
            Json::Lit(v) => v.clone(),
            Json::Arr(a) => Value::Array(a.iter().map(|j| j.render(vars)).collect()),
            Json::Obj(o) => {
                Value::Object(o.iter().map(|(k, j)| (k.clone(), j.render(vars))).collect())
            }
        }
    }
}

impl Signer {
    /// The signature; `request` (URL, body) is None when the signature goes into them.
    pub(crate) fn sign(
        &self,
        base: &[(&str, String)],
        method: &str,
        request: Option<(&str, &str)>,
    ) -> String {
        let (url, body) = request.unwrap_or_default();
        let after_host = url.split_once("://").map_or(url, |(_, r)| r);
        let path_query = after_host.find('/').map_or("", |i| &after_host[i..]);
        let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
        let mut vars = base.to_vec();
        for (k, v) in [
            ("method", method),
            ("url", url),
            ("path", if path.is_empty() { "/" } else { path }),
            ("query", query),
            ("body", body),
            ("secret", &self.secret),
        ] {
            vars.push((k, v.to_owned()));
        }
        let text = render(&self.signed, &vars, raw);
        sign::sign(
            self.algorithm,
            self.encoding,
            self.secret.as_bytes(),
            text.as_bytes(),
        )
    }
}
