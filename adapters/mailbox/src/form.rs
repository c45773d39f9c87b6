//! The mayor's-mailbox web form (市长信箱 / 留言板), as the city's web site posts it: JSON or
//! `application/x-www-form-urlencoded`. Fields: `name`, `phone`, `email` (or `e-mail`),
//! `subject`, `content` (required), `address`, `district` (6-digit 行政区划代码), `attachments`
//! (URLs of files already uploaded; repeat the key in a urlencoded form, `attachments[]` is
//! accepted too) and an optional `id`: the site's own id for the submission, the idempotency key
//! (without one, a hash of the fields is used, so a double-click makes one ticket).
//!
//! Unlike mail, a form is refused with the field to blame rather than cut: the site can tell
//! the citizen what to fix.
use std::collections::HashMap;

use crate::attachment::sha256_hex;
use crate::error::FormError;
use crate::{CHANNEL, Options, extra, pb};

/// A form submission, fields as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pub id: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub subject: String,
    pub content: String,
    pub address: String,
    pub district: String,
    pub attachments: Vec<String>,
}

/// Longest form `id` and attachment URL.
const MAX_ID_CHARS: usize = 200;
const MAX_URL_CHARS: usize = 2048;

impl Form {
    /// Sets field `key` (after aliases) to `value`; an unknown key is an error naming it.
    fn set(&mut self, key: &str, value: String) -> Result<(), FormError> {
        let slot = match key {
            "id" => &mut self.id,
            "name" => &mut self.name,
            "phone" => &mut self.phone,
            "email" | "e-mail" => &mut self.email,
            "subject" => &mut self.subject,
            "content" => &mut self.content,
            "address" => &mut self.address,
            "district" => &mut self.district,
            "attachments" | "attachments[]" => {
                self.attachments.push(value);
                return Ok(());
            }
            other => {
                let shown: String = other.chars().take(40).collect();
                return Err(FormError::new(shown, "is not a form field"));
            }
        };
        *slot = value;
        Ok(())
    }

    /// Parses a JSON object. Strings everywhere; `district` and `phone` may also be numbers;
    /// `attachments` is an array of URLs.
    pub fn from_json(body: &[u8]) -> Result<Form, FormError> {
        let v: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| FormError::new("body", format!("is not JSON: {e}")))?;
        let serde_json::Value::Object(map) = v else {
            return Err(FormError::new("body", "must be a JSON object"));
        };
        let mut form = Form::default();
        for (key, value) in map {
            match (key.as_str(), value) {
                (_, serde_json::Value::Null) => {}
                ("attachments", serde_json::Value::Array(items)) => {
                    for (i, item) in items.into_iter().enumerate() {
                        let serde_json::Value::String(url) = item else {
                            return Err(FormError::new(
                                format!("attachments[{i}]"),
                                "must be a URL string",
                            ));
                        };
                        form.attachments.push(url);
                    }
                }
                (_, serde_json::Value::String(s)) => form.set(&key, s)?,
                ("district" | "phone", serde_json::Value::Number(n)) => {
                    form.set(&key, n.to_string())?
                }
                (_, _) => {
                    form.set(&key, String::new())?;
                    return Err(FormError::new(key, "must be a string"));
                }
            }
        }
        Ok(form)
    }

    /// Parses `application/x-www-form-urlencoded` (UTF-8).
    pub fn from_urlencoded(body: &[u8]) -> Result<Form, FormError> {
        let mut form = Form::default();
        for (key, value) in form_urlencoded::parse(body) {
            form.set(&key, value.into_owned())?;
        }
        Ok(form)
    }
}

/// Checks a form and translates it. `source_id` is `form:<id>`, or `form:sha256:<hex>` of the
/// fields when the site gives no id.
pub fn translate_form(form: &Form, opts: &Options) -> Result<pb::Request, FormError> {
    let content = crate::text::normalize_body(&form.content);
    if content.is_empty() {
        return Err(FormError::new("content", "is required"));
    }
    if content.chars().count() > opts.max_description_chars {
        return Err(FormError::new(
            "content",
            format!("is longer than {} characters", opts.max_description_chars),
        ));
    }
    let field = |name: &str, v: &str| -> Result<String, FormError> {
        let v = crate::text::one_line(v);
        if v.chars().count() > opts.max_field_chars {
            return Err(FormError::new(
                name,
                format!("is longer than {} characters", opts.max_field_chars),
            ));
        }
        Ok(v)
    };
    let name = field("name", &form.name)?;
    let subject = field("subject", &form.subject)?;
    let address = field("address", &form.address)?;
    let phone = check_phone(form.phone.trim())?;
    let email = check_email(form.email.trim())?;
    let district = form.district.trim();
    let district_ok = district.is_empty()
        || (district.len() == 6 && district.bytes().all(|b| b.is_ascii_digit()));
    if !district_ok {
        return Err(FormError::new(
            "district",
            "must be a 6-digit administrative division code (行政区划代码), e.g. 610104",
        ));
    }
    if form.attachments.len() > opts.max_attachments {
        return Err(FormError::new(
            "attachments",
            format!("at most {} are accepted", opts.max_attachments),
        ));
    }
    let mut attachments = Vec::new();
    for (i, url) in form.attachments.iter().enumerate() {
        let url = url.trim();
        let scheme_ok = url
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
            || url
                .get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("http://"));
        if !scheme_ok || url.len() > MAX_URL_CHARS || url.chars().any(char::is_whitespace) {
            return Err(FormError::new(
                format!("attachments[{i}]"),
                "must be an http or https URL",
            ));
        }
        attachments.push(pb::Attachment {
            url: url.to_owned(),
            ..Default::default()
        });
    }
    let id = form.id.trim();
    if id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
        return Err(FormError::new(
            "id",
            format!("must be at most {MAX_ID_CHARS} printable characters"),
        ));
    }
    let source_id = if id.is_empty() {
        format!("form:sha256:{}", content_hash(form))
    } else {
        format!("form:{id}")
    };
    let location = (!address.is_empty() || !district.is_empty()).then(|| pb::Location {
        address,
        district_code: district.to_owned(),
        ..Default::default()
    });
    Ok(pb::Request {
        channel: CHANNEL as i32,
        source_system: opts.source_system.clone(),
        source_id,
        title: subject,
        description: content,
        location,
        reporter: Some(pb::Reporter {
            name,
            phone,
            email,
            ..Default::default()
        }),
        attachments,
        extra: HashMap::from([(extra::KIND.to_owned(), "form".to_owned())]),
        ..Default::default()
    })
}

/// Digits with optional `+`, `-`, spaces and parentheses; 3 to 20 digits (110 to +86 landlines).
fn check_phone(p: &str) -> Result<String, FormError> {
    if p.is_empty() {
        return Ok(String::new());
    }
    let digits = p.bytes().filter(u8::is_ascii_digit).count();
    let allowed = p
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
    if !allowed || !(3..=20).contains(&digits) {
        return Err(FormError::new(
            "phone",
            "must be a phone number (digits, optionally +, -, spaces, parentheses)",
        ));
    }
    Ok(p.to_owned())
}

fn check_email(e: &str) -> Result<String, FormError> {
    if e.is_empty() {
        return Ok(String::new());
    }
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'));
    if !ok {
        return Err(FormError::new("email", "must be an e-mail address"));
    }
    Ok(e.to_owned())
}

/// SHA-256 over every field, each followed by a 0 byte (so fields cannot run into each other).
fn content_hash(f: &Form) -> String {
    let mut buf = Vec::new();
    for v in [
        &f.name,
        &f.phone,
        &f.email,
        &f.subject,
        &f.content,
        &f.address,
        &f.district,
    ]
    .into_iter()
    .chain(f.attachments.iter())
    {
        buf.extend_from_slice(v.as_bytes());
        buf.push(0);
    }
    sha256_hex(&buf)
}
