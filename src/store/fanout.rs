//! The messages a new case sends besides its lead's dispatch (routing's fan-out): one dispatch
//! per co-handler (协办) and one emergency linkage message per linked line, all written in the
//! same transaction as the ticket, so they are published exactly when the ticket is accepted.
//! A report merged into a case later reaches the case's co-handlers too, as a case update.
use super::open_cases::OpenCase;
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
        let row = super::hand_off::hand_off(
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
