//! The messages a new case sends besides its lead's dispatch (routing's fan-out): one dispatch
//! per co-handler (协办) and one emergency linkage message per linked line, all written in the
//! same transaction as the ticket, so they are published exactly when the ticket is accepted.
//! A report merged into a case later reaches the case's co-handlers too, as a case update.
use super::ops::OpenCase;
use super::outbox_rows::{encode, write_sealed};
use super::writer::State;
use super::{NewTicket, StoreError};
use crate::db::{Conn, OptionalExtension, params};
use crate::outbox::envelope::{self, CaseDispatch};
use crate::outbox::kinds::LINKAGE_ROUTING_KEY;
use crate::outbox::{NewRow, OutboxMessage};
use crate::pb;
use minhu_adapter_emergency::Line;
use minhu_adapter_emergency::linkage::{
    CONTENT_TYPE as LINKAGE_CONTENT_TYPE, EmergencyLinkage, MESSAGE_TYPE as LINKAGE_TYPE,
};

fn dispatch_row(
    tx: &Conn,
    st: &mut State,
    case_id: &str,
    kind: pb::DispatchKind,
    department_id: &str,
    now: i64,
) -> Result<String, StoreError> {
    let (seq, dispatch_id) = st.seq.next_dispatch(tx, now)?;
    tx.prepare_cached(
        "INSERT INTO dispatches (dispatch_id, case_id, kind, department_id, created_at, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![dispatch_id, case_id, kind as i32, department_id, now, seq])?;
    Ok(dispatch_id)
}

fn audit(
    tx: &Conn,
    now: i64,
    case_id: &str,
    ticket_id: &str,
    event: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO audit (at, case_id, ticket_id, event, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![now, case_id, ticket_id, event, detail.to_string()])?;
    Ok(())
}

/// Case updates for the co-handlers of `case`, which the report `t` was just merged into. Each
/// of this report's co-handlers that holds the case (the audit trail shows its co-handler
/// dispatch) hears of the new report as the lead does, with the deadline it was given then
/// (or, once a provisional deadline was counted again, its latest recount).
pub(super) fn co_handler_updates(
    tx: &Conn,
    st: &mut State,
    t: &NewTicket,
    case: &OpenCase,
    ticket_id: &str,
    now: i64,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let mut rows = Vec::new();
    for co in &t.fan_out.co_handlers {
        let r = &co.route;
        if r.department_id == case.department_id {
            continue;
        }
        let given: Option<(i64, String)> = tx
            .prepare_cached(
                "SELECT CAST(json_extract(detail, '$.due_at_ms') AS BIGINT), json_extract(detail, '$.rule_id')
                   FROM audit
                  WHERE case_id = ?1 AND event IN ('co_handler', 'deadline_recounted')
                    AND json_extract(detail, '$.department_id') = ?2
                  ORDER BY event = 'deadline_recounted' DESC,
                           CASE WHEN event = 'co_handler' THEN seq ELSE -seq END
                  LIMIT 1",
            )?
            .query_row(params![case.case_id, r.department_id], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        let Some((due_at_ms, rule_id)) = given else {
            continue;
        };
        let view = OpenCase {
            department_id: r.department_id.clone(),
            routing_key: r.routing_key.clone(),
            level: r.level,
            due_at_ms,
            rule_id,
            ..case.clone()
        };
        let row = super::ops::hand_off(
            tx,
            st,
            &t.request,
            t.priority,
            &view,
            ticket_id,
            (now, pb::DispatchKind::CaseUpdated, now),
            (co.json, "", &case.department_id),
        )?;
        audit(
            tx,
            now,
            &case.case_id,
            ticket_id,
            "co_handler_updated",
            serde_json::json!({
                "department_id": r.department_id,
                "dispatch_id": row.dispatch_id,
            }),
        )?;
        rows.push(row);
    }
    Ok(rows)
}

/// Linkage messages of a ticket filed under case `case_id` and, when it opened that case, its
/// co-handler dispatches. A follow-up merged into an open case is still linked: an emergency
/// is never absorbed into an earlier, ordinary report.
pub(super) fn extra(
    tx: &Conn,
    st: &mut State,
    t: &NewTicket,
    case_id: &str,
    ticket_id: &str,
    new_case: bool,
    now: i64,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let req = &t.request;
    let f = &t.fan_out;
    let channel = pb::Channel::try_from(req.channel)
        .unwrap_or_default()
        .as_str_name();
    let mut rows = Vec::new();
    for co in f.co_handlers.iter().filter(|_| new_case) {
        let r = &co.route;
        let dispatch_id = dispatch_row(
            tx,
            st,
            case_id,
            pb::DispatchKind::NewCase,
            &r.department_id,
            now,
        )?;
        let mut body = envelope::build(&CaseDispatch {
            kind: pb::DispatchKind::NewCase,
            dispatch_id: &dispatch_id,
            case_id,
            case_status: pb::CaseStatus::Open,
            category: &req.category,
            opened_at_ms: now,
            report_count: 1,
            urgency: req.urgency,
            ticket_id,
            accepted_at_ms: now,
            request: req,
            department_id: &r.department_id,
            level: r.level,
            due_at_ms: r.due_at_ms,
            rule_id: &r.rule_id,
            routing_version: &r.routing_version,
            version: 0,
        });
        body.routing_reason = format!("co-handler by rule {}", r.rule_id);
        body.lead_department_id.clone_from(&t.route.department_id);
        body.due_at_provisional = !r.provisional_years.is_empty() && r.working_days.is_some();
        super::deadlines::record(tx, case_id, r)?;
        let (payload, content) = encode(&body, co.json)?;
        rows.push(write_sealed(
            tx,
            &st.seal,
            NewRow {
                dispatch_id: &dispatch_id,
                case_id,
                routing_key: &r.routing_key,
                priority: t.priority,
                channel,
                level: envelope::level_code(r.level),
                now,
                payload,
                content,
            },
        )?);
        audit(
            tx,
            now,
            case_id,
            ticket_id,
            "co_handler",
            serde_json::json!({
                "department_id": r.department_id,
                "lead_department_id": t.route.department_id,
                "rule_id": r.rule_id,
                "due_at_ms": r.due_at_ms,
                "dispatch_id": dispatch_id,
            }),
        )?;
    }
    for l in &f.linkage {
        let Some(line) = Line::ALL.into_iter().find(|x| x.as_str() == l.line) else {
            continue;
        };
        let dispatch_id = dispatch_row(
            tx,
            st,
            case_id,
            pb::DispatchKind::EmergencyLinkage,
            &format!("emergency-linkage-{}", l.line),
            now,
        )?;
        let body =
            EmergencyLinkage::new(ticket_id, case_id, line, &l.reason, &l.rule_id, req).to_json();
        rows.push(write_sealed(
            tx,
            &st.seal,
            NewRow {
                dispatch_id: &dispatch_id,
                case_id,
                routing_key: LINKAGE_ROUTING_KEY,
                priority: crate::outbox::properties::MAX_PRIORITY,
                channel,
                level: envelope::level_code(t.route.level),
                now,
                payload: body,
                content: Some((LINKAGE_CONTENT_TYPE.to_owned(), LINKAGE_TYPE.to_owned())),
            },
        )?);
        audit(
            tx,
            now,
            case_id,
            ticket_id,
            "emergency_linkage",
            serde_json::json!({
                "line": l.line,
                "reason": l.reason,
                "rule_id": l.rule_id,
                "dispatch_id": dispatch_id,
            }),
        )?;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::{CoDispatch, FanOut, FollowUp, LinkageOut, NewTicket, RouteDecision, Store};
    use crate::config::service::StoreConfig;
    use crate::pb;
    use crate::telemetry::Metrics;

    fn route(department: &str) -> RouteDecision {
        RouteDecision {
            department_id: department.into(),
            routing_key: format!("dept.{department}"),
            level: pb::Level::BStreet,
            due_at_ms: 2_000_000_000_000,
            working_days: Some(5),
            counted_from_ms: 0,
            provisional_years: Vec::new(),
            rule_id: "r".into(),
            routing_version: "v".into(),
            clocks: None,
            escalation: None,
        }
    }

    fn ticket(source_id: &str, description: &str, linked: bool) -> NewTicket {
        NewTicket {
            request: pb::Request {
                channel: pb::Channel::Wechat as i32,
                source_system: "wx".into(),
                source_id: source_id.into(),
                description: description.into(),
                category: "env.fume".into(),
                ..Default::default()
            },
            route: route("eco-env"),
            priority: 0,
            emergency: false,
            merge: None,
            follow_up: Some(FollowUp {
                reporter_key: "wechat:app:openid".into(),
                window_ms: 3_600_000,
            }),
            fan_out: FanOut {
                lead_json: true,
                co_handlers: vec![CoDispatch {
                    route: route("urban-mgmt"),
                    json: false,
                }],
                linkage: if linked {
                    vec![LinkageOut {
                        rule_id: "gas".into(),
                        line: "119".into(),
                        reason: "燃气泄漏".into(),
                    }]
                } else {
                    vec![]
                },
                reason: "rule cooking-fumes".into(),
            },
        }
    }

    /// (routing_key, content_type) of every outbox row, in order.
    fn outbox(dir: &tempfile::TempDir) -> Vec<(String, Option<String>)> {
        let conn = crate::store::test_db::side(dir);
        let mut stmt = conn
            .prepare("SELECT routing_key, content_type FROM outbox ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[tokio::test]
    async fn a_new_case_fans_out_and_a_merged_emergency_is_still_linked() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = StoreConfig {
            max_batch: 16,
            outbox_budget: 100,
            ..crate::store::test_db::config(&dir)
        };
        let (store, _feed, _w) = Store::open(&cfg, Arc::new(Metrics::default())).unwrap();
        let first = store.accept(ticket("1", "烧烤油烟", false)).await.unwrap();
        assert_eq!(first.disposition, pb::Disposition::NewCase);
        // Why it went there is in the ticket's own audit entry (no separate entry for it).
        let conn = crate::store::test_db::side(&dir);
        let events: Vec<(String, String)> = conn
            .prepare("SELECT event, detail FROM audit ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(events[0].0, "accepted");
        assert!(
            events[0]
                .1
                .contains(r#""routing_reason":"rule cooking-fumes""#),
            "{events:?}"
        );
        assert_eq!(events[1].0, "co_handler", "{events:?}");
        assert_eq!(
            outbox(&dir),
            vec![
                ("dept.eco-env".into(), Some("application/json".into())),
                ("dept.urban-mgmt".into(), None),
            ]
        );
        // The same citizen writes again: it joins the case, so the lead and the co-handler
        // each get a case update (not a second new case), and a smell of gas is linked to 119
        // at once.
        // Today's rules would give the co-handler another deadline; the update keeps the one
        // it was given when the case opened.
        let mut second = ticket("2", "还有燃气味", true);
        second.fan_out.co_handlers[0].route.due_at_ms = 2_100_000_000_000;
        let second = store.accept(second).await.unwrap();
        assert_eq!(second.disposition, pb::Disposition::Merged);
        let rows = outbox(&dir);
        assert_eq!(rows.len(), 5, "{rows:?}");
        assert_eq!(rows[2].0, "dept.eco-env");
        assert_eq!(
            rows[3],
            (
                super::LINKAGE_ROUTING_KEY.into(),
                Some("application/json".into())
            )
        );
        assert_eq!(rows[4], ("dept.urban-mgmt".into(), None));
        let conn = crate::store::test_db::side(&dir);
        let update: Vec<u8> = conn
            .query_row(
                "SELECT payload FROM outbox ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let update = <pb::Dispatch as prost::Message>::decode(update.as_slice()).unwrap();
        assert_eq!(update.kind, pb::DispatchKind::CaseUpdated as i32);
        assert_eq!(update.department_id, "urban-mgmt");
        assert_eq!(update.lead_department_id, "eco-env");
        assert_eq!(
            update.due_at,
            Some(crate::time::ms_to_timestamp(2_000_000_000_000))
        );
        let case = update.case.unwrap();
        assert_eq!(case.case_id, first.case_id);
        assert_eq!(case.report_count, 2);
        // A co-handler that never held the case is not told of it.
        let mut third = ticket("3", "油烟还是很大", false);
        third.fan_out.co_handlers[0].route = route("greening");
        store.accept(third).await.unwrap();
        let rows = outbox(&dir);
        assert_eq!(rows.len(), 6, "{rows:?}");
        assert_eq!(rows[5].0, "dept.eco-env");
    }
}
