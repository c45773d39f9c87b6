//! Outbound WeChat API calls, pure: the JSON bodies of the three messages Minhu sends a citizen
//! (customer-service text, official-account template message, mini-program subscribe message),
//! the access-token request, and WeChat's answers parsed into a typed verdict. No I/O and no
//! token cache: the gateway's sender (`minhu::notify::wechat`) does those.
//!
//! Access tokens come from `POST /cgi-bin/stable_token`, not `GET /cgi-bin/token`: a city's
//! official account usually has another backend (its menu, its own replies) holding a token
//! from `/cgi-bin/token`, and every call there invalidates the previous token within minutes.
//! Stable tokens are separate from those, and every caller of `stable_token` in normal mode
//! gets the same one, so several gateways and that backend do not knock each other's tokens
//! out.
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub use minhu_adapter::template::truncate_chars;

/// `POST`, JSON [`stable_token_request`] → [`parse_token`].
pub const STABLE_TOKEN_PATH: &str = "/cgi-bin/stable_token";
/// Customer-service message (客服消息): `POST ?access_token=`, body [`custom_text`].
pub const CUSTOM_SEND_PATH: &str = "/cgi-bin/message/custom/send";
/// Official-account template message (模板消息): body [`template_message`].
pub const TEMPLATE_SEND_PATH: &str = "/cgi-bin/message/template/send";
/// Mini-program subscribe message (订阅消息): body [`subscribe_message`].
pub const SUBSCRIBE_SEND_PATH: &str = "/cgi-bin/message/subscribe/send";

/// Longest customer-service text in UTF-8 bytes: WeChat refuses longer ones.
pub const MAX_TEXT_BYTES: usize = 2048;

/// The body of a stable access-token request. `force_refresh` invalidates the token every
/// other caller holds (and is limited to a few calls a day): only for a token WeChat itself
/// has just refused.
pub fn stable_token_request(app_id: &str, secret: &str, force_refresh: bool) -> Value {
    json!({
        "grant_type": "client_credential",
        "appid": app_id,
        "secret": secret,
        "force_refresh": force_refresh,
    })
}

/// A customer-service text message; `content` is cut to [`MAX_TEXT_BYTES`].
pub fn custom_text(touser: &str, content: &str) -> Value {
    json!({
        "touser": touser,
        "msgtype": "text",
        "text": { "content": truncate_bytes(content, MAX_TEXT_BYTES) },
    })
}

/// An official-account template message. `client_msg_id` is WeChat's de-duplication key (one
/// message per openid and id, within minutes): the notice id, so a retry after a lost answer
/// does not show the citizen the result twice. Values are fitted with [`fit_value`].
pub fn template_message(
    touser: &str,
    template_id: &str,
    url: Option<&str>,
    client_msg_id: Option<&str>,
    fields: &[(&str, &str)],
) -> Value {
    let mut m = Map::new();
    m.insert("touser".into(), json!(touser));
    m.insert("template_id".into(), json!(template_id));
    if let Some(u) = url.filter(|u| !u.is_empty()) {
        m.insert("url".into(), json!(u));
    }
    if let Some(id) = client_msg_id.filter(|i| !i.is_empty()) {
        m.insert("client_msg_id".into(), json!(id));
    }
    m.insert("data".into(), data(fields));
    Value::Object(m)
}

/// A mini-program subscribe message. `page` is where tapping the card leads (inside the
/// mini-program); `state` is `developer`, `trial` or `formal` (WeChat's default). Values are
/// fitted with [`fit_value`]: WeChat refuses a whole message whose one field is too long.
pub fn subscribe_message(
    touser: &str,
    template_id: &str,
    page: Option<&str>,
    state: Option<&str>,
    fields: &[(&str, &str)],
) -> Value {
    let mut m = Map::new();
    m.insert("touser".into(), json!(touser));
    m.insert("template_id".into(), json!(template_id));
    if let Some(p) = page.filter(|p| !p.is_empty()) {
        m.insert("page".into(), json!(p));
    }
    if let Some(s) = state.filter(|s| !s.is_empty()) {
        m.insert("miniprogram_state".into(), json!(s));
    }
    m.insert("data".into(), data(fields));
    Value::Object(m)
}

fn data(fields: &[(&str, &str)]) -> Value {
    let data: Map<String, Value> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!({ "value": fit_value(k, v) })))
        .collect();
    Value::Object(data)
}

/// The kind of a template field, from its key (`thing3` → [`FieldType::Thing`]): WeChat's
/// category templates (subscribe messages, and official-account templates since 2023) type
/// every field by its key's prefix, and each type has its own limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `thing`: up to 20 characters of anything.
    Thing,
    /// `number`: up to 32 digits.
    Number,
    /// `letter`: up to 32 letters.
    Letter,
    /// `symbol`: up to 5 symbols.
    Symbol,
    /// `character_string`: up to 32 digits, letters or symbols.
    CharacterString,
    /// `time`, `date`: a time or date; not cut (a cut date is a wrong date).
    Time,
    /// `amount`: a sum of money; not cut.
    Amount,
    /// `phone_number`: up to 17 digits and symbols.
    PhoneNumber,
    /// `car_number`: up to 8 characters.
    CarNumber,
    /// `name`: up to 10 Chinese characters, or 20 letters.
    Name,
    /// `phrase`: up to 5 Chinese characters.
    Phrase,
    /// Anything else (`keyword1`, `first`, `remark` of legacy templates): no documented limit.
    Other,
}

impl FieldType {
    /// The type named by `key` without its trailing number.
    pub fn of_key(key: &str) -> FieldType {
        match key.trim_end_matches(|c: char| c.is_ascii_digit()) {
            "thing" => FieldType::Thing,
            "number" => FieldType::Number,
            "letter" => FieldType::Letter,
            "symbol" => FieldType::Symbol,
            "character_string" => FieldType::CharacterString,
            "time" | "date" => FieldType::Time,
            "amount" => FieldType::Amount,
            "phone_number" => FieldType::PhoneNumber,
            "car_number" => FieldType::CarNumber,
            "name" => FieldType::Name,
            "phrase" => FieldType::Phrase,
            _ => FieldType::Other,
        }
    }

    /// Most characters of `value` this type takes, if it has a limit.
    pub fn max_chars(self, value: &str) -> Option<usize> {
        match self {
            FieldType::Thing => Some(20),
            FieldType::Number | FieldType::Letter | FieldType::CharacterString => Some(32),
            FieldType::Symbol | FieldType::Phrase => Some(5),
            FieldType::PhoneNumber => Some(17),
            FieldType::CarNumber => Some(8),
            FieldType::Name if value.is_ascii() => Some(20),
            FieldType::Name => Some(10),
            FieldType::Time | FieldType::Amount | FieldType::Other => None,
        }
    }
}

/// `value` made acceptable for the field `key`: line breaks become spaces (template fields
/// are one line), an empty value becomes `-` (WeChat refuses empty fields), and a value over
/// the type's limit is cut by characters. Only `thing` and untyped fields end in `…` when
/// cut: the other types refuse a character outside their alphabet.
pub fn fit_value(key: &str, value: &str) -> String {
    let one_line: String = value
        .trim()
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if one_line.is_empty() {
        return "-".to_owned();
    }
    let ty = FieldType::of_key(key);
    match ty.max_chars(&one_line) {
        None => one_line,
        Some(max) if ty == FieldType::Thing => truncate_chars(&one_line, max),
        Some(max) => one_line.chars().take(max).collect(),
    }
}

/// Cuts `s` to at most `max` UTF-8 bytes on a character boundary, ending in `…` when cut.
pub fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let budget = max.saturating_sub('…'.len_utf8());
    let mut out = String::new();
    for c in s.chars() {
        if out.len() + c.len_utf8() > budget {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// WeChat's answer to a call: `errcode` 0 is success.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Answer {
    /// Absent on some successes; read as 0.
    #[serde(default)]
    pub errcode: i64,
    #[serde(default)]
    pub errmsg: String,
    /// The message's id (template and subscribe messages), as text.
    #[serde(default, deserialize_with = "id_text")]
    pub msgid: Option<String>,
}

/// What a sender should do about an [`Answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered.
    Sent,
    /// 40001, 42001, 40014: the access token is invalid or expired: refresh it once and call
    /// again.
    TokenInvalid,
    /// 45015 (the citizen last wrote over 48 hours ago), 45047 (the window's message quota is
    /// used up): customer-service messages cannot reach them; send a template message instead.
    WindowClosed,
    /// 43004 (not following the account), 43101 (refused subscribe messages), 40003 (no such
    /// openid): this message can never reach them.
    Unreachable,
    /// -1 (system busy), 45009 (frequency limit) and every other code: try again later.
    Retry,
}

impl Answer {
    /// The verdict on this answer's `errcode`.
    pub fn verdict(&self) -> Verdict {
        classify(self.errcode)
    }

    /// `errcode errmsg`, for errors and the ledger.
    pub fn describe(&self) -> String {
        format!("errcode {} {}", self.errcode, self.errmsg)
    }
}

/// The verdict on a WeChat `errcode`.
pub fn classify(errcode: i64) -> Verdict {
    match errcode {
        0 => Verdict::Sent,
        40001 | 42001 | 40014 => Verdict::TokenInvalid,
        45015 | 45047 => Verdict::WindowClosed,
        43004 | 43101 | 40003 => Verdict::Unreachable,
        _ => Verdict::Retry,
    }
}

/// A body that is not the JSON WeChat documents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WeChat answered something other than its documented JSON: {0}")]
pub struct AnswerError(pub String);

/// Parses the answer to a send call.
pub fn parse_answer(body: &[u8]) -> Result<Answer, AnswerError> {
    serde_json::from_slice(body).map_err(|e| AnswerError(e.to_string()))
}

/// An access token and how long it lives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    /// Seconds from now.
    pub expires_in: u64,
}

/// Parses the answer to [`STABLE_TOKEN_PATH`]: a token, or WeChat's refusal.
pub fn parse_token(body: &[u8]) -> Result<Result<AccessToken, Answer>, AnswerError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| AnswerError(e.to_string()))?;
    if v.get("access_token").is_some() {
        let t: AccessToken = serde_json::from_value(v).map_err(|e| AnswerError(e.to_string()))?;
        if t.access_token.is_empty() {
            return Err(AnswerError("empty access_token".into()));
        }
        return Ok(Ok(t));
    }
    let a: Answer = serde_json::from_value(v).map_err(|e| AnswerError(e.to_string()))?;
    if a.errcode == 0 {
        return Err(AnswerError("neither access_token nor errcode".into()));
    }
    Ok(Err(a))
}

/// What an operator should check when WeChat refuses a token, if the code says.
pub fn token_hint(errcode: i64) -> Option<&'static str> {
    match errcode {
        40013 => Some("the AppId is wrong"),
        40125 | 41004 => Some("the AppSecret is wrong or was reset in the WeChat console"),
        40164 | 61004 => Some("this machine's IP is not on the account's IP whitelist"),
        _ => None,
    }
}

/// `msgid` arrives as a number (or, from some APIs, a string): kept as text.
fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    })
}

/// Every character outside RFC 3986's unreserved set percent-encoded: a value placed in a
/// `url` or `page` template (a ticket id in a query string) cannot break the link.
pub fn encode_url_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[path = "outbound_tests.rs"]
mod tests;
