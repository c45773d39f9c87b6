//! Request validation: everything a Request must satisfy before anything is written. Each
//! failure names the field (as a path from the `SubmitRequest`) so the caller can fix it.
use crate::config::service::LimitsConfig;
use crate::pb;

/// Why a request was refused, and which field is to blame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Field path, e.g. `request.location.district_code`.
    pub field: String,
    pub message: String,
}

fn invalid(field: &str, message: impl Into<String>) -> Invalid {
    Invalid {
        field: format!("request.{field}"),
        message: message.into(),
    }
}

/// Longest source_system / source_id: ids, not documents.
const MAX_ID_CHARS: usize = 256;

/// Checks a request against the contract and the configured limits.
pub fn validate(req: &pb::Request, limits: &LimitsConfig) -> Result<(), Invalid> {
    match pb::Channel::try_from(req.channel) {
        Ok(pb::Channel::Unspecified) => return Err(invalid("channel", "is required")),
        Err(_) => {
            return Err(invalid(
                "channel",
                format!("unknown channel value {}", req.channel),
            ));
        }
        Ok(_) => {}
    }
    id_field("source_system", &req.source_system)?;
    id_field("source_id", &req.source_id)?;
    if pb::RequestType::try_from(req.request_type).is_err() {
        return Err(invalid(
            "request_type",
            format!("unknown request type value {}", req.request_type),
        ));
    }
    if pb::Urgency::try_from(req.urgency).is_err() {
        return Err(invalid(
            "urgency",
            format!("unknown urgency value {}", req.urgency),
        ));
    }
    if req.description.trim().is_empty() {
        return Err(invalid("description", "is required"));
    }
    text(
        "description",
        &req.description,
        limits.max_description_chars,
    )?;
    text("title", &req.title, limits.max_field_chars)?;
    text("category", &req.category, 64)?;
    if let Some(ts) = &req.reported_at
        && (!(0..1_000_000_000).contains(&ts.nanos)
            || ts.seconds < 0
            || ts.seconds > 253_402_300_799)
    {
        return Err(invalid("reported_at", "is not a valid timestamp"));
    }
    if let Some(loc) = &req.location {
        location(loc, limits)?;
    }
    if let Some(r) = &req.reporter {
        for (name, v) in [
            ("name", &r.name),
            ("phone", &r.phone),
            ("wechat_openid", &r.wechat_openid),
            ("email", &r.email),
        ] {
            text(&format!("reporter.{name}"), v, limits.max_field_chars)?;
        }
    }
    if req.attachments.len() > limits.max_attachments {
        return Err(invalid(
            "attachments",
            format!(
                "{} attachments; at most {}",
                req.attachments.len(),
                limits.max_attachments
            ),
        ));
    }
    for (i, a) in req.attachments.iter().enumerate() {
        text(&format!("attachments[{i}].url"), &a.url, 2048)?;
        text(&format!("attachments[{i}].media_type"), &a.media_type, 128)?;
        if !a.sha256.is_empty()
            && (a.sha256.len() != 64 || !a.sha256.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(invalid(
                &format!("attachments[{i}].sha256"),
                "must be 64 hex digits",
            ));
        }
    }
    if req.extra.len() > limits.max_extra_entries {
        return Err(invalid(
            "extra",
            format!(
                "{} entries; at most {}",
                req.extra.len(),
                limits.max_extra_entries
            ),
        ));
    }
    for (k, v) in &req.extra {
        text("extra", k, 128)?;
        text(&format!("extra[{k}]"), v, limits.max_field_chars)?;
    }
    Ok(())
}

fn id_field(field: &str, v: &str) -> Result<(), Invalid> {
    if v.trim().is_empty() {
        return Err(invalid(field, "is required"));
    }
    if v.chars().count() > MAX_ID_CHARS {
        return Err(invalid(
            field,
            format!("longer than {MAX_ID_CHARS} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

fn text(field: &str, v: &str, max_chars: usize) -> Result<(), Invalid> {
    // Counting stops just past the limit, so a 4 MiB description costs no more than a short one.
    if v.chars().take(max_chars + 1).count() > max_chars {
        return Err(invalid(
            field,
            format!("longer than {max_chars} characters"),
        ));
    }
    if v.contains('\0') {
        return Err(invalid(field, "contains a NUL character"));
    }
    Ok(())
}

fn digits(field: &str, v: &str, n: usize) -> Result<(), Invalid> {
    if v.len() != n || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            field,
            format!("{v:?} is not a {n}-digit administrative division code"),
        ));
    }
    Ok(())
}

fn location(loc: &pb::Location, limits: &LimitsConfig) -> Result<(), Invalid> {
    text("location.address", &loc.address, limits.max_field_chars)?;
    text("location.grid_id", &loc.grid_id, 64)?;
    if !loc.district_code.is_empty() {
        digits("location.district_code", &loc.district_code, 6)?;
    }
    if !loc.street_code.is_empty() {
        digits("location.street_code", &loc.street_code, 9)?;
        if !loc.district_code.is_empty() && !loc.street_code.starts_with(&loc.district_code) {
            return Err(invalid(
                "location.street_code",
                "does not lie in location.district_code",
            ));
        }
    }
    if !loc.community_code.is_empty() {
        digits("location.community_code", &loc.community_code, 12)?;
        if !loc.street_code.is_empty() && !loc.community_code.starts_with(&loc.street_code) {
            return Err(invalid(
                "location.community_code",
                "does not lie in location.street_code",
            ));
        }
    }
    if pb::CoordinateSystem::try_from(loc.coordinate_system).is_err() {
        return Err(invalid(
            "location.coordinate_system",
            format!("unknown value {}", loc.coordinate_system),
        ));
    }
    if loc.has_coordinates {
        if !loc.lat.is_finite() || !(-90.0..=90.0).contains(&loc.lat) {
            return Err(invalid(
                "location.lat",
                format!("{} is out of range -90..90", loc.lat),
            ));
        }
        if !loc.lng.is_finite() || !(-180.0..=180.0).contains(&loc.lng) {
            return Err(invalid(
                "location.lng",
                format!("{} is out of range -180..180", loc.lng),
            ));
        }
    } else if loc.lat != 0.0 || loc.lng != 0.0 {
        return Err(invalid(
            "location.has_coordinates",
            "lat/lng are set but has_coordinates is false",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> pb::Request {
        pb::Request {
            channel: pb::Channel::Hotline12345 as i32,
            source_system: "xian-12345".into(),
            source_id: "GD001".into(),
            description: "路灯不亮".into(),
            location: Some(pb::Location {
                district_code: "610104".into(),
                street_code: "610104001".into(),
                community_code: "610104001002".into(),
                lat: 34.26,
                lng: 108.94,
                has_coordinates: true,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn field_of(req: &pb::Request) -> String {
        validate(req, &LimitsConfig::default()).unwrap_err().field
    }

    #[test]
    fn a_good_request_passes() {
        validate(&good(), &LimitsConfig::default()).unwrap();
    }

    #[test]
    fn each_bad_field_is_named() {
        type Mutate = Box<dyn Fn(&mut pb::Request)>;
        let cases: Vec<(&str, Mutate)> = vec![
            ("request.channel", Box::new(|r| r.channel = 0)),
            ("request.channel", Box::new(|r| r.channel = 99)),
            (
                "request.source_system",
                Box::new(|r| r.source_system = " ".into()),
            ),
            ("request.source_id", Box::new(|r| r.source_id.clear())),
            (
                "request.source_id",
                Box::new(|r| r.source_id = "x".repeat(300)),
            ),
            (
                "request.description",
                Box::new(|r| r.description = "  ".into()),
            ),
            (
                "request.description",
                Box::new(|r| r.description = "长".repeat(10_001)),
            ),
            (
                "request.location.district_code",
                Box::new(|r| r.location.as_mut().unwrap().district_code = "61010".into()),
            ),
            (
                "request.location.district_code",
                Box::new(|r| r.location.as_mut().unwrap().district_code = "六一〇一〇四".into()),
            ),
            (
                "request.location.street_code",
                Box::new(|r| r.location.as_mut().unwrap().street_code = "610102001".into()),
            ),
            (
                "request.location.community_code",
                Box::new(|r| r.location.as_mut().unwrap().community_code = "610104002002".into()),
            ),
            (
                "request.location.lat",
                Box::new(|r| r.location.as_mut().unwrap().lat = 91.0),
            ),
            (
                "request.location.lng",
                Box::new(|r| r.location.as_mut().unwrap().lng = f64::NAN),
            ),
            ("request.urgency", Box::new(|r| r.urgency = 7)),
            (
                "request.attachments",
                Box::new(|r| r.attachments = vec![pb::Attachment::default(); 21]),
            ),
        ];
        for (want, mutate) in cases {
            let mut r = good();
            mutate(&mut r);
            assert_eq!(field_of(&r), want);
        }
    }

    #[test]
    fn description_limit_counts_characters_not_bytes() {
        let mut r = good();
        r.description = "长".repeat(10_000); // 30,000 bytes
        validate(&r, &LimitsConfig::default()).unwrap();
    }
}
