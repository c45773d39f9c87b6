//! One event from a 数字城管 platform, as it posts it (`POST /v1/citymgmt/events`, JSON):
//!
//! | key | meaning | |
//! |---|---|---|
//! | `case_number` | 案卷号, the platform's case id → `source_id` (idempotency key) | required |
//! | `kind` | `event`/`事件` or `component`/`部件` | required |
//! | `major_code`, `minor_code` | 大类/小类 codes (strings: leading zeros count) | required |
//! | `description` | 问题描述 | required |
//! | `title` | short title | |
//! | `grid_id` | 单元网格 → `location.grid_id` | |
//! | `district_code`, `street_code`, `community_code` | 行政区划代码 (6/9/12 digits) | |
//! | `address` | 地址 | |
//! | `lng`, `lat` | CGCS2000 degrees (numbers or numeric strings), both or neither | |
//! | `inspector` | `{name, id, phone}` of the grid inspector (网格员) → reporter | |
//! | `reported_at` | `2026-11-22 09:15:00` (China time) or ISO 8601 | |
//! | `photos` | http(s) URLs → attachments | |
//! | `urgency` | `normal`, `urgent` (紧急) or `critical` (特急) | |
//!
//! Unknown keys are ignored (platforms add vendor fields). CGCS2000 differs from WGS-84 by
//! centimetres, so lat/lng are taken as WGS-84; `coordinate_system` says CGCS2000 and the
//! original values are kept.
use std::collections::HashMap;

use serde_json::{Map, Value};

use minhu_adapter::geo;

use crate::{CHANNEL, Invalid, Kind, Options, extra, is_http_url, pb};

type Obj = Map<String, Value>;

/// A string field; numbers are refused for codes (they lose leading zeros).
fn string(o: &Obj, key: &str) -> Result<String, Invalid> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.trim().to_owned()),
        Some(_) => Err(Invalid::new(key, "must be a string")),
    }
}

fn required(o: &Obj, key: &str, what: &str) -> Result<String, Invalid> {
    let v = string(o, key)?;
    if v.is_empty() {
        return Err(Invalid::new(key, format!("is required ({what})")));
    }
    Ok(v)
}

/// A coordinate as a number or numeric string; None when absent.
fn coordinate(o: &Obj, key: &str) -> Result<Option<f64>, Invalid> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| Invalid::new(key, "must be a number of degrees")),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| Invalid::new(key, "must be a number of degrees")),
        Some(_) => Err(Invalid::new(key, "must be a number of degrees")),
    }
}

fn code(field: &str, v: &str, digits: usize) -> Result<(), Invalid> {
    if !v.is_empty() && (v.len() != digits || !v.bytes().all(|b| b.is_ascii_digit())) {
        return Err(Invalid::new(
            field,
            format!("must be a {digits}-digit administrative division code (行政区划代码)"),
        ));
    }
    Ok(())
}

/// Parses and translates one event (the JSON body's bytes).
pub fn translate_event(body: &[u8], opts: &Options) -> Result<pb::Request, Invalid> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Invalid::new("body", format!("is not JSON: {e}")))?;
    let Value::Object(o) = v else {
        return Err(Invalid::new("body", "must be a JSON object (one event)"));
    };
    translate_object(&o, opts)
}

/// Translates one parsed event.
pub fn translate_object(o: &Obj, opts: &Options) -> Result<pb::Request, Invalid> {
    let case_number = required(o, "case_number", "the platform's 案卷号")?;
    if case_number.chars().count() > 64 || case_number.chars().any(char::is_control) {
        return Err(Invalid::new(
            "case_number",
            "must be at most 64 printable characters",
        ));
    }
    let kind_text = required(o, "kind", "event/事件 or component/部件")?;
    let kind = Kind::parse(&kind_text)
        .ok_or_else(|| Invalid::new("kind", "must be event (事件) or component (部件)"))?;
    let major = required(o, "major_code", "大类 code")?;
    let minor = required(o, "minor_code", "小类 code")?;
    for (field, v) in [("major_code", &major), ("minor_code", &minor)] {
        if v.len() > 32 || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Invalid::new(
                field,
                "must be letters and digits, at most 32",
            ));
        }
    }
    let category = opts.classes.category(kind, &major, &minor).ok_or_else(|| {
        Invalid::new(
            "minor_code",
            format!(
                "unknown class code: {} major {major} minor {minor} is not in \
                 [adapters.citymgmt] class_codes",
                kind.as_str()
            ),
        )
    })?;
    let description = required(o, "description", "问题描述")?;
    if description.chars().count() > opts.max_description_chars {
        return Err(Invalid::new(
            "description",
            format!("is longer than {} characters", opts.max_description_chars),
        ));
    }
    let field = |key: &str| -> Result<String, Invalid> {
        let v = string(o, key)?;
        if v.chars().count() > opts.max_field_chars {
            return Err(Invalid::new(
                key,
                format!("is longer than {} characters", opts.max_field_chars),
            ));
        }
        Ok(v)
    };
    let title = field("title")?;
    let address = field("address")?;
    let grid_id = field("grid_id")?;
    let district_code = string(o, "district_code")?;
    let street_code = string(o, "street_code")?;
    let community_code = string(o, "community_code")?;
    code("district_code", &district_code, 6)?;
    code("street_code", &street_code, 9)?;
    code("community_code", &community_code, 12)?;
    let mut location = pb::Location {
        address,
        district_code,
        street_code,
        community_code,
        grid_id,
        ..Default::default()
    };
    match (coordinate(o, "lat")?, coordinate(o, "lng")?) {
        (None, None) => {}
        (Some(lat), Some(lng)) => {
            geo::set_position(&mut location, lat, lng, pb::CoordinateSystem::Cgcs2000).map_err(
                |_| {
                    Invalid::new(
                        "lat",
                        "lat must be within ±90 and lng within ±180 degrees (CGCS2000)",
                    )
                },
            )?;
        }
        (None, Some(_)) => return Err(Invalid::new("lat", "is required when lng is given")),
        (Some(_), None) => return Err(Invalid::new("lng", "is required when lat is given")),
    }
    let mut extra = HashMap::from([
        (extra::KIND.to_owned(), kind.as_str().to_owned()),
        (extra::MAJOR_CODE.to_owned(), major),
        (extra::MINOR_CODE.to_owned(), minor),
    ]);
    let reporter = match o.get("inspector") {
        None | Some(Value::Null) => None,
        Some(Value::Object(i)) => {
            let name = string(i, "name").map_err(|e| Invalid::new("inspector.name", e.message))?;
            let phone =
                string(i, "phone").map_err(|e| Invalid::new("inspector.phone", e.message))?;
            let id = string(i, "id").map_err(|e| Invalid::new("inspector.id", e.message))?;
            if !id.is_empty() {
                extra.insert(extra::INSPECTOR_ID.to_owned(), id);
            }
            Some(pb::Reporter {
                name,
                phone,
                ..Default::default()
            })
        }
        Some(_) => {
            return Err(Invalid::new(
                "inspector",
                "must be an object {name, id, phone}",
            ));
        }
    };
    let reported_at = match string(o, "reported_at")? {
        t if t.is_empty() => None,
        t => Some(crate::time::parse(&t).ok_or_else(|| {
            Invalid::new(
                "reported_at",
                "must be a date-time such as 2026-11-22 09:15:00 or 2026-11-22T09:15:00+08:00",
            )
        })?),
    };
    let urgency = match string(o, "urgency")?.as_str() {
        "" => pb::Urgency::Unspecified,
        "normal" => pb::Urgency::Normal,
        "urgent" | "紧急" => pb::Urgency::Urgent,
        "critical" | "特急" => pb::Urgency::Critical,
        _ => {
            return Err(Invalid::new(
                "urgency",
                "must be normal, urgent or critical",
            ));
        }
    };
    let attachments = photos(o, opts)?;
    Ok(pb::Request {
        channel: CHANNEL as i32,
        source_system: opts.source_system.clone(),
        source_id: case_number,
        reported_at,
        request_type: pb::RequestType::Report as i32,
        category: category.to_owned(),
        title,
        description,
        location: Some(location),
        reporter,
        attachments,
        urgency: urgency as i32,
        extra,
    })
}

fn photos(o: &Obj, opts: &Options) -> Result<Vec<pb::Attachment>, Invalid> {
    let items = match o.get("photos") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(Invalid::new("photos", "must be an array of URLs")),
    };
    if items.len() > opts.max_attachments {
        return Err(Invalid::new(
            "photos",
            format!("at most {} are accepted", opts.max_attachments),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, p)| match p {
            Value::String(url) if is_http_url(url.trim()) => Ok(pb::Attachment {
                url: url.trim().to_owned(),
                media_type: media_type(url),
                ..Default::default()
            }),
            _ => Err(Invalid::new(
                format!("photos[{i}]"),
                "must be an http or https URL",
            )),
        })
        .collect()
}

/// The media type a photo URL's extension names, or empty.
fn media_type(url: &str) -> String {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let t = match path.rsplit_once('.').map(|(_, e)| e) {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("mp4") => "video/mp4",
        _ => "",
    };
    t.to_owned()
}
