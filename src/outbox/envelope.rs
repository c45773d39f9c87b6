//! Builds the `minhu.v1.Dispatch` a department receives, encodes it (protobuf, or proto3 JSON
//! for departments that ask), and gives the short codes its AMQP headers carry. Pure
//! functions: the store calls them inside the transaction that creates the dispatch, so the
//! body is fixed once and every re-publish sends the same bytes.
use prost::Message;

use crate::pb;
use crate::time::ms_to_timestamp;

/// Everything a case dispatch says: the case as it now stands and the one ticket that caused
/// the dispatch (the case's first for NEW_CASE, the newcomer for CASE_UPDATED).
#[derive(Debug)]
pub struct CaseDispatch<'a> {
    pub kind: pb::DispatchKind,
    pub dispatch_id: &'a str,
    pub case_id: &'a str,
    pub case_status: pb::CaseStatus,
    pub category: &'a str,
    pub opened_at_ms: i64,
    /// Reports the case holds, this one included.
    pub report_count: u32,
    /// The case's urgency: the highest of its reports.
    pub urgency: i32,
    pub ticket_id: &'a str,
    /// When this ticket was accepted (also the dispatch's creation time).
    pub accepted_at_ms: i64,
    pub request: &'a pb::Request,
    pub department_id: &'a str,
    pub level: pb::Level,
    pub due_at_ms: i64,
    pub rule_id: &'a str,
    pub routing_version: &'a str,
    /// The case's version (see `minhu.v1.Case.version`).
    pub version: u64,
}

/// The `Dispatch` body.
pub fn build(d: &CaseDispatch<'_>) -> pb::Dispatch {
    pb::Dispatch {
        dispatch_id: d.dispatch_id.to_owned(),
        kind: d.kind as i32,
        case: Some(pb::Case {
            case_id: d.case_id.to_owned(),
            // What the department sees is a case handed to it.
            status: match d.case_status {
                pb::CaseStatus::Open | pb::CaseStatus::Unspecified => pb::CaseStatus::Dispatched,
                other => other,
            } as i32,
            category: d.category.to_owned(),
            opened_at: Some(ms_to_timestamp(d.opened_at_ms)),
            report_count: d.report_count,
            urgency: d.urgency,
            version: d.version,
        }),
        tickets: vec![pb::Ticket {
            ticket_id: d.ticket_id.to_owned(),
            accepted_at: Some(ms_to_timestamp(d.accepted_at_ms)),
            request: Some(for_department(d.request)),
        }],
        department_id: d.department_id.to_owned(),
        level: d.level as i32,
        due_at: Some(ms_to_timestamp(d.due_at_ms)),
        created_at: Some(ms_to_timestamp(d.accepted_at_ms)),
        rule_id: d.rule_id.to_owned(),
        routing_version: d.routing_version.to_owned(),
        // Routing fills these in where they apply (see `store::fanout`).
        ..Default::default()
    }
}

/// The report as its department sees it: a citizen who asked not to be identified to the
/// department (匿名, `Reporter.anonymous`) arrives without name, phone, e-mail or openid —
/// Minhu still answers them itself on their own channel. Emergency linkage keeps the caller
/// (a dispatcher must be able to call back about a gas leak).
fn for_department(request: &pb::Request) -> pb::Request {
    let mut r = request.clone();
    if let Some(who) = r.reporter.as_mut().filter(|who| who.anonymous) {
        *who = pb::Reporter {
            anonymous: true,
            no_contact: who.no_contact,
            ..Default::default()
        };
    }
    r
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

/// A dispatch's body and, unless protobuf, its (`content_type`, `type`).
pub type Encoded = (Vec<u8>, Option<(String, String)>);

/// Encodes a dispatch as protobuf or, for a department that asked, proto3 JSON.
pub fn encode(body: &pb::Dispatch, as_json: bool) -> Result<Encoded, String> {
    if !as_json {
        return Ok((body.encode_to_vec(), None));
    }
    let bytes = crate::json::dispatch_to_json(body)?;
    Ok((
        bytes,
        Some((
            super::kinds::JSON.to_owned(),
            super::kinds::DISPATCH_TYPE.to_owned(),
        )),
    ))
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
    fn a_dispatch_carries_its_ticket_case_and_deadline() {
        let req = pb::Request {
            description: "路灯不亮".into(),
            ..Default::default()
        };
        let d = build(&CaseDispatch {
            kind: pb::DispatchKind::CaseUpdated,
            dispatch_id: "D1",
            case_id: "C1",
            case_status: pb::CaseStatus::Open,
            category: "light.streetlight",
            opened_at_ms: 500,
            report_count: 2,
            urgency: pb::Urgency::Urgent as i32,
            ticket_id: "T2",
            accepted_at_ms: 1_000,
            request: &req,
            department_id: "urban-mgmt",
            level: pb::Level::BStreet,
            due_at_ms: 2_000,
            rule_id: "r",
            routing_version: "v",
            version: 0,
        });
        assert_eq!(d.kind, pb::DispatchKind::CaseUpdated as i32);
        let case = d.case.unwrap();
        assert_eq!(
            (case.report_count, case.status),
            (2, pb::CaseStatus::Dispatched as i32)
        );
        assert_eq!(d.tickets.len(), 1);
        assert_eq!(d.tickets[0].ticket_id, "T2");
        assert_eq!(d.due_at.map(|t| t.seconds), Some(2));
    }

    #[test]
    fn an_anonymous_reporter_reaches_the_department_without_contacts() {
        let reporter = |anonymous| pb::Reporter {
            name: "王先生".into(),
            phone: "13800001111".into(),
            email: "w@example.cn".into(),
            wechat_openid: "o-1".into(),
            anonymous,
            no_contact: false,
        };
        let seen = |anonymous| {
            let req = pb::Request {
                reporter: Some(reporter(anonymous)),
                ..Default::default()
            };
            for_department(&req).reporter.unwrap()
        };
        assert_eq!(
            seen(true),
            pb::Reporter {
                anonymous: true,
                ..Default::default()
            }
        );
        assert_eq!(seen(false), reporter(false));
    }
}
