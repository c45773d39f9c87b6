//! A checked [`Transfer`] → the canonical `minhu.v1.Request`.
use minhu_adapter::pb;

use crate::extra;
use crate::transfer::Transfer;

/// Longest title, in characters (the reason is cut to fit).
const TITLE_CHARS: usize = 100;

/// Translates a transfer from the dispatch centre `centre` (the id its token was configured
/// under). `source_system` is `emergency:<line>:<centre>` and `source_id` the incident number,
/// so the same transfer sent again is a replay; urgency is URGENT, or CRITICAL when the centre
/// flagged it.
pub fn translate(t: &Transfer, centre: &str) -> pb::Request {
    let line = t.line.as_str();
    let title: String = format!("{line} 转办：{}", t.reason)
        .chars()
        .take(TITLE_CHARS)
        .collect();
    let reporter =
        (!t.caller_name.is_empty() || !t.caller_phone.is_empty()).then(|| pb::Reporter {
            name: t.caller_name.clone(),
            phone: t.caller_phone.clone(),
            ..Default::default()
        });
    let location = t.location.clone();
    let has_location = location != pb::Location::default();
    let mut req = pb::Request {
        channel: t.line.channel() as i32,
        source_system: format!("emergency:{line}:{centre}"),
        source_id: t.incident_number.clone(),
        reported_at: Some(t.received_at),
        category: t.category.clone(),
        title,
        description: t.content.clone(),
        location: has_location.then_some(location),
        reporter,
        urgency: if t.critical {
            pb::Urgency::Critical
        } else {
            pb::Urgency::Urgent
        } as i32,
        ..Default::default()
    };
    req.extra.insert(extra::LINE.into(), line.into());
    req.extra.insert(extra::CENTRE.into(), centre.into());
    req.extra.insert(extra::REASON.into(), t.reason.clone());
    req.extra
        .insert(extra::RECEIVED_AT.into(), t.received_at_text.clone());
    req
}
