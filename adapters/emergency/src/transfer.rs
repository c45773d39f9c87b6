//! A transfer as a dispatch centre (接警中心) sends it, read from JSON by hand so that every
//! problem names its field:
//!
//! ```json
//! {
//!   "line": "119",                                  // 110 | 119 | 120 | 122 (string or number)
//!   "incident_number": "XA119-20261122-0042",      // 接警单号: the idempotency key
//!   "received_at": "2026-11-22T14:05:00+08:00",    // when the call came in (RFC 3339)
//!   "caller": {"name": "王先生", "phone": "13912345678"},   // optional
//!   "content": "小区消防通道被私家车长期占用",      // 诉求内容, required
//!   "address": "莲湖区北大街 12 号",                // optional
//!   "district_code": "610104",                      // optional: 6/9/12-digit division codes
//!   "street_code": "610104001", "community_code": "610104001002",
//!   "coordinates": {"lat": 34.2656, "lng": 108.9536, "system": "bd09"},  // optional
//!   "reason": "非警情：消防通道占用，转 12345 处理", // 转办原因, required
//!   "critical": false,                              // true: URGENCY_CRITICAL
//!   "category": "fire.lane"                         // optional taxonomy code
//! }
//! ```
//!
//! Unknown keys are refused (a misspelt key would otherwise lose data silently).
use minhu_adapter::{division, geo, pb};
use prost_types::Timestamp;
use serde_json::{Map, Value};

use crate::error::TransferError;
use crate::limits;
use crate::time::parse_time;

/// The emergency line a call came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Line {
    /// 110 police (公安).
    #[serde(rename = "110")]
    L110,
    /// 119 fire and rescue (消防).
    #[serde(rename = "119")]
    L119,
    /// 120 ambulance (急救).
    #[serde(rename = "120")]
    L120,
    /// 122 traffic accidents (交通事故).
    #[serde(rename = "122")]
    L122,
}

impl Line {
    /// Every line.
    pub const ALL: [Line; 4] = [Line::L110, Line::L119, Line::L120, Line::L122];

    /// `"110"`, `"119"`, `"120"` or `"122"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Line::L110 => "110",
            Line::L119 => "119",
            Line::L120 => "120",
            Line::L122 => "122",
        }
    }

    /// The line named by `s` (surrounding blanks ignored).
    pub fn parse(s: &str) -> Option<Line> {
        Line::ALL.into_iter().find(|l| l.as_str() == s.trim())
    }

    /// The channel of a transfer from this line.
    pub fn channel(self) -> pb::Channel {
        match self {
            Line::L110 => pb::Channel::Emergency110,
            Line::L119 => pb::Channel::Emergency119,
            Line::L120 => pb::Channel::Emergency120,
            Line::L122 => pb::Channel::Emergency122,
        }
    }
}

/// A position and the coordinate system it was given in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub lat: f64,
    pub lng: f64,
    pub system: pb::CoordinateSystem,
}

/// One transfer, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub line: Line,
    pub incident_number: String,
    pub received_at: Timestamp,
    /// `received_at` as sent.
    pub received_at_text: String,
    pub caller_name: String,
    pub caller_phone: String,
    pub content: String,
    pub address: String,
    /// The location's division codes and position, already normalised and validated.
    pub location: pb::Location,
    pub reason: String,
    pub critical: bool,
    pub category: String,
}

const KEYS: [&str; 13] = [
    "line",
    "incident_number",
    "received_at",
    "caller",
    "content",
    "address",
    "district_code",
    "street_code",
    "community_code",
    "coordinates",
    "reason",
    "critical",
    "category",
];

/// Parses a body: one transfer object, or an array of at most `max_batch` of them. The outer
/// error refuses the whole body; the inner ones are per item, in order.
pub fn parse_transfers(
    body: &[u8],
    max_batch: usize,
) -> Result<Vec<Result<Transfer, TransferError>>, TransferError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| TransferError::Malformed(e.to_string()))?;
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(TransferError::EmptyBatch);
            }
            if items.len() > max_batch {
                return Err(TransferError::BatchTooLarge {
                    got: items.len(),
                    max: max_batch,
                });
            }
            Ok(items.iter().map(parse_transfer).collect())
        }
        v @ Value::Object(_) => Ok(vec![parse_transfer(&v)]),
        _ => Err(TransferError::Malformed(
            "neither an object nor an array".into(),
        )),
    }
}

/// Parses one transfer object.
pub fn parse_transfer(v: &Value) -> Result<Transfer, TransferError> {
    let Value::Object(o) = v else {
        return Err(TransferError::Malformed("an item is not an object".into()));
    };
    if let Some(k) = o.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(TransferError::UnknownField(k.clone()));
    }
    let line = match o.get("line") {
        None | Some(Value::Null) => return Err(TransferError::Missing("line".into())),
        Some(Value::String(s)) => Line::parse(s),
        Some(Value::Number(n)) => Line::parse(&n.to_string()),
        Some(_) => None,
    }
    .ok_or(TransferError::UnknownLine)?;
    let incident_number = required(o, "incident_number", limits::INCIDENT_NUMBER)?;
    if incident_number.chars().any(char::is_control) {
        return Err(TransferError::ControlCharacters("incident_number".into()));
    }
    let received_at_text = required(o, "received_at", 64)?;
    let received_at = parse_time(&received_at_text).ok_or(TransferError::BadTime)?;
    let (caller_name, caller_phone) = match o.get("caller") {
        None | Some(Value::Null) => (String::new(), String::new()),
        Some(Value::Object(c)) => {
            if let Some(k) = c.keys().find(|k| !matches!(k.as_str(), "name" | "phone")) {
                return Err(TransferError::UnknownField(format!("caller.{k}")));
            }
            (
                optional(c, "name", "caller.name", limits::FIELD)?,
                optional(c, "phone", "caller.phone", limits::FIELD)?,
            )
        }
        Some(_) => return Err(wrong_type("caller", "an object {name, phone}")),
    };
    let content = required(o, "content", limits::CONTENT)?;
    let reason = required(o, "reason", limits::FIELD)?;
    let address = optional(o, "address", "address", limits::FIELD)?;
    let mut location = pb::Location {
        address: address.clone(),
        ..Default::default()
    };
    let codes = [
        optional(o, "district_code", "district_code", 16)?,
        optional(o, "street_code", "street_code", 16)?,
        optional(o, "community_code", "community_code", 16)?,
    ];
    division::set_codes(&mut location, &codes[0], &codes[1], &codes[2])
        .map_err(TransferError::Division)?;
    if let Some(p) = position(o.get("coordinates"))? {
        geo::set_position(&mut location, p.lat, p.lng, p.system)
            .map_err(TransferError::Coordinates)?;
    }
    let critical = match o.get("critical") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(wrong_type("critical", "true or false")),
    };
    Ok(Transfer {
        line,
        incident_number,
        received_at,
        received_at_text,
        caller_name,
        caller_phone,
        content,
        address,
        location,
        reason,
        critical,
        category: optional(o, "category", "category", 64)?,
    })
}

fn wrong_type(field: &str, expected: &'static str) -> TransferError {
    TransferError::WrongType {
        field: field.into(),
        expected,
    }
}

/// A string field, trimmed; empty when absent or null.
fn optional(
    o: &Map<String, Value>,
    key: &str,
    field: &str,
    max: usize,
) -> Result<String, TransferError> {
    let s = match o.get(key) {
        None | Some(Value::Null) => return Ok(String::new()),
        Some(Value::String(s)) => s.trim(),
        Some(_) => return Err(wrong_type(field, "a string")),
    };
    if s.chars().take(max + 1).count() > max {
        return Err(TransferError::TooLong {
            field: field.into(),
            max,
        });
    }
    if s.contains('\0') {
        return Err(TransferError::ControlCharacters(field.into()));
    }
    Ok(s.to_owned())
}

/// A string field that must be present and not blank.
fn required(o: &Map<String, Value>, key: &str, max: usize) -> Result<String, TransferError> {
    let s = optional(o, key, key, max)?;
    if s.is_empty() {
        return Err(TransferError::Missing(key.into()));
    }
    Ok(s)
}

/// `coordinates`: `{lat, lng, system}`, all three required when the object is given.
fn position(v: Option<&Value>) -> Result<Option<Position>, TransferError> {
    let o = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(wrong_type("coordinates", "an object {lat, lng, system}")),
    };
    if let Some(k) = o
        .keys()
        .find(|k| !matches!(k.as_str(), "lat" | "lng" | "system"))
    {
        return Err(TransferError::UnknownField(format!("coordinates.{k}")));
    }
    let number = |k: &str| match o.get(k) {
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| wrong_type(&format!("coordinates.{k}"), "a number")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| wrong_type(&format!("coordinates.{k}"), "a number")),
        None | Some(Value::Null) => Err(TransferError::Missing(format!("coordinates.{k}"))),
        Some(_) => Err(wrong_type(&format!("coordinates.{k}"), "a number")),
    };
    let (lat, lng) = (number("lat")?, number("lng")?);
    let system = match o.get("system") {
        Some(Value::String(s)) => {
            geo::parse_system(s).ok_or(TransferError::UnknownCoordinateSystem)?
        }
        None | Some(Value::Null) => {
            return Err(TransferError::Missing("coordinates.system".into()));
        }
        Some(_) => return Err(wrong_type("coordinates.system", "a string")),
    };
    Ok(Some(Position { lat, lng, system }))
}

#[cfg(test)]
#[path = "transfer_tests.rs"]
mod tests;
