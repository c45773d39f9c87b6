//! The other direction (12345 → 110/119/120 联动): a hotline, WeChat or mailbox report that is
//! really an emergency (gas leak, fire, someone injured) is matched by a routing rule and
//! published at once to the emergency linkage queue. This is that message, as JSON
//! (`content_type` `application/json`, `type` [`MESSAGE_TYPE`]) so that a dispatch centre's
//! system can read it without Minhu's protobuf files:
//!
//! ```json
//! {
//!   "schema": "minhu.emergency_linkage.v1",
//!   "ticket_id": "T20261122000042",
//!   "case_id": "C20261122000017",
//!   "line": "119",
//!   "reason": "燃气泄漏",
//!   "matched_rule": "linkage-gas-leak",
//!   "request": {
//!     "channel": "CHANNEL_HOTLINE_12345",
//!     "source_system": "xian-12345",
//!     "source_id": "GD20261122000123",
//!     "title": "…",
//!     "description": "楼道里燃气味很重",
//!     "reporter_name": "王先生",
//!     "reporter_phone": "13912345678"
//!   },
//!   "location": {
//!     "address": "莲湖区北大街 12 号 3 单元",
//!     "district_code": "610104",
//!     "lat": 34.2656, "lng": 108.9536
//!   },
//!   "reported_at": "2026-11-22T06:05:00Z"
//! }
//! ```
//!
//! `location` is absent when the report had none; `lat`/`lng` (WGS-84) are absent when it had
//! no coordinates. The reporter's name and phone are included on purpose: the dispatch centre
//! must be able to call back. They are personal data; never log the message body.
use minhu_adapter::pb;
use serde::{Deserialize, Serialize};

use crate::time::format_rfc3339;
use crate::transfer::Line;

/// The AMQP `type` property of a linkage message.
pub const MESSAGE_TYPE: &str = "minhu.EmergencyLinkage";
/// The `schema` field's value; a breaking change gets a new one.
pub const SCHEMA: &str = "minhu.emergency_linkage.v1";
/// The AMQP `content_type` of a linkage message.
pub const CONTENT_TYPE: &str = "application/json";

/// A report handed to an emergency line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmergencyLinkage {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Minhu's ticket number of the report.
    pub ticket_id: String,
    /// The case the ticket belongs to.
    pub case_id: String,
    /// Which line must act: 110 police, 119 fire, 120 ambulance (122 traffic is accepted too).
    pub line: Line,
    /// Why it is an emergency, in words the dispatcher reads (the rule's description).
    pub reason: String,
    /// The routing rule's id that matched.
    pub matched_rule: String,
    /// What the citizen reported.
    pub request: RequestSummary,
    /// Where, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LinkageLocation>,
    /// When the citizen reported it, RFC 3339 UTC; empty when the channel did not say.
    pub reported_at: String,
}

/// The parts of the report a dispatcher needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestSummary {
    /// The channel's proto enum name, e.g. `CHANNEL_HOTLINE_12345`.
    pub channel: String,
    pub source_system: String,
    pub source_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporter_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporter_phone: String,
}

/// Where the problem is; coordinates in WGS-84.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkageLocation {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub district_code: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub street_code: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub community_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lng: Option<f64>,
}

impl EmergencyLinkage {
    /// The message for `req` (accepted as `ticket_id` in `case_id`), which rule `matched_rule`
    /// sent to `line` because of `reason`.
    pub fn new(
        ticket_id: &str,
        case_id: &str,
        line: Line,
        reason: &str,
        matched_rule: &str,
        req: &pb::Request,
    ) -> Self {
        let reporter = req.reporter.clone().unwrap_or_default();
        let location = req.location.as_ref().map(|l| LinkageLocation {
            address: l.address.clone(),
            district_code: l.district_code.clone(),
            street_code: l.street_code.clone(),
            community_code: l.community_code.clone(),
            lat: l.has_coordinates.then_some(l.lat),
            lng: l.has_coordinates.then_some(l.lng),
        });
        Self {
            schema: SCHEMA.into(),
            ticket_id: ticket_id.into(),
            case_id: case_id.into(),
            line,
            reason: reason.into(),
            matched_rule: matched_rule.into(),
            request: RequestSummary {
                channel: pb::Channel::try_from(req.channel)
                    .map_or("CHANNEL_UNSPECIFIED", |c| c.as_str_name())
                    .into(),
                source_system: req.source_system.clone(),
                source_id: req.source_id.clone(),
                title: req.title.clone(),
                description: req.description.clone(),
                reporter_name: reporter.name,
                reporter_phone: reporter.phone,
            },
            location,
            reported_at: req
                .reported_at
                .as_ref()
                .and_then(format_rfc3339)
                .unwrap_or_default(),
        }
    }

    /// The message body.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain strings, numbers and options cannot fail; an empty body would be
        // refused by any consumer rather than half-read.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linkage_message_round_trips_as_json() {
        let req = pb::Request {
            channel: pb::Channel::Hotline12345 as i32,
            source_system: "xian-12345".into(),
            source_id: "GD1".into(),
            description: "楼道里燃气味很重".into(),
            reported_at: Some(prost_types::Timestamp {
                seconds: 1_795_327_500,
                nanos: 0,
            }),
            location: Some(pb::Location {
                address: "北大街 12 号".into(),
                district_code: "610104".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let m = EmergencyLinkage::new("T1", "C1", Line::L119, "燃气泄漏", "gas", &req);
        let json: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
        assert_eq!(json["line"], "119");
        assert_eq!(json["schema"], SCHEMA);
        assert_eq!(json["request"]["channel"], "CHANNEL_HOTLINE_12345");
        assert_eq!(json["reported_at"], "2026-11-22T06:05:00Z");
        assert_eq!(json["location"]["district_code"], "610104");
        assert!(
            json["location"].get("lat").is_none(),
            "no coordinates, no lat"
        );
        let back: EmergencyLinkage = serde_json::from_value(json).unwrap();
        assert_eq!(back, m);
    }
}
