//! Builds the `minhu.v1.Dispatch` a department receives, and the short codes its AMQP headers
//! carry. Pure functions: the store calls them inside the transaction that creates the
//! dispatch, so the body is fixed once and every re-publish sends the same bytes.
use crate::pb;
use crate::time::ms_to_timestamp;

/// Everything a new-case dispatch says.
#[derive(Debug)]
pub struct NewCaseDispatch<'a> {
    pub dispatch_id: &'a str,
    pub case_id: &'a str,
    pub ticket_id: &'a str,
    pub accepted_at_ms: i64,
    pub request: &'a pb::Request,
    pub department_id: &'a str,
    pub level: pb::Level,
    pub due_at_ms: i64,
    pub rule_id: &'a str,
    pub routing_version: &'a str,
}

/// The `Dispatch` for a case that was just opened with one ticket.
pub fn new_case(d: &NewCaseDispatch<'_>) -> pb::Dispatch {
    pb::Dispatch {
        dispatch_id: d.dispatch_id.to_owned(),
        kind: pb::DispatchKind::NewCase as i32,
        case: Some(pb::Case {
            case_id: d.case_id.to_owned(),
            status: pb::CaseStatus::Dispatched as i32,
            category: d.request.category.clone(),
            opened_at: Some(ms_to_timestamp(d.accepted_at_ms)),
            report_count: 1,
            urgency: d.request.urgency,
        }),
        tickets: vec![pb::Ticket {
            ticket_id: d.ticket_id.to_owned(),
            accepted_at: Some(ms_to_timestamp(d.accepted_at_ms)),
            request: Some(d.request.clone()),
        }],
        department_id: d.department_id.to_owned(),
        level: d.level as i32,
        due_at: Some(ms_to_timestamp(d.due_at_ms)),
        created_at: Some(ms_to_timestamp(d.accepted_at_ms)),
        rule_id: d.rule_id.to_owned(),
        routing_version: d.routing_version.to_owned(),
    }
}

/// `A`, `B`, `C` or `D` for the `x-minhu-level` header (empty when unspecified).
pub fn level_code(level: pb::Level) -> &'static str {
    match level {
        pb::Level::ACommunity => "A",
        pb::Level::BStreet => "B",
        pb::Level::CDistrict => "C",
        pb::Level::DCity => "D",
        pb::Level::Unspecified => "",
    }
}

/// The level for a code `A`..`D` (as written in routing config).
pub fn level_from_code(code: &str) -> Option<pb::Level> {
    match code {
        "A" => Some(pb::Level::ACommunity),
        "B" => Some(pb::Level::BStreet),
        "C" => Some(pb::Level::CDistrict),
        "D" => Some(pb::Level::DCity),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_codes_round_trip() {
        for l in [
            pb::Level::ACommunity,
            pb::Level::BStreet,
            pb::Level::CDistrict,
            pb::Level::DCity,
        ] {
            assert_eq!(level_from_code(level_code(l)), Some(l));
        }
        assert_eq!(level_from_code("E"), None);
    }

    #[test]
    fn new_case_carries_the_ticket_and_deadline() {
        let req = pb::Request {
            description: "路灯不亮".into(),
            ..Default::default()
        };
        let d = new_case(&NewCaseDispatch {
            dispatch_id: "D1",
            case_id: "C1",
            ticket_id: "T1",
            accepted_at_ms: 1_000,
            request: &req,
            department_id: "urban-mgmt",
            level: pb::Level::BStreet,
            due_at_ms: 2_000,
            rule_id: "r",
            routing_version: "v",
        });
        assert_eq!(d.kind, pb::DispatchKind::NewCase as i32);
        assert_eq!(d.tickets.len(), 1);
        assert_eq!(
            d.tickets[0]
                .request
                .as_ref()
                .map(|r| r.description.as_str()),
            Some("路灯不亮")
        );
        assert_eq!(d.due_at.map(|t| t.seconds), Some(2));
    }
}
