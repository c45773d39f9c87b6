//! A dispatch of a case to a department: its number, its `minhu.v1.Dispatch` body and its
//! outbox row, written in the caller's transaction. New cases, case updates, co-handlers'
//! views and re-dispatches all hand off here, so every department reads the same shape.
use crate::db::{Conn, params};

use super::StoreError;
use super::open_cases::OpenCase;
use super::outbox_rows::{encode, write_sealed};
use super::writer::State;
use crate::outbox::envelope::{self, CaseDispatch};
use crate::outbox::{self, OutboxMessage};
use crate::pb;

/// Creates a dispatch of `kind` about `case` carrying one ticket, and its outbox row; `json`
/// encodes it as proto3 JSON, a non-empty `reason` is the routing reason a new case carries (or
/// the reason for an update), and a non-empty `lead` names the lead department when `case` is
/// a co-handler's view of the case. The deadline is marked provisional when it is.
#[allow(clippy::too_many_arguments)]
pub(super) fn hand_off(
    tx: &Conn,
    st: &mut State,
    req: &pb::Request,
    priority: u8,
    case: &OpenCase,
    ticket_id: &str,
    (accepted_at_ms, kind, now): (i64, pb::DispatchKind, i64),
    (json, reason, lead): (bool, &str, &str),
) -> Result<OutboxMessage, StoreError> {
    // The relay publishes higher priorities first. An update must not overtake the case's
    // earlier dispatches still waiting in the outbox (a department would hear of an update to a
    // case it does not have yet), so it goes at their priority, and then in commit order.
    let priority = if kind == pb::DispatchKind::NewCase {
        priority
    } else {
        let waiting = outbox::lowest_waiting_priority(tx, &case.case_id)?;
        waiting.map_or(priority, |w| w.min(priority))
    };
    let (dispatch_seq, dispatch_id) = st.seq.next_dispatch(tx, now)?;
    tx.prepare_cached(
        "INSERT INTO dispatches (dispatch_id, case_id, kind, department_id, created_at, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![dispatch_id, case.case_id, kind as i32, case.department_id, now, dispatch_seq])?;
    let mut body = envelope::build(&CaseDispatch {
        kind,
        dispatch_id: &dispatch_id,
        case_id: &case.case_id,
        case_status: pb::CaseStatus::try_from(case.status).unwrap_or_default(),
        category: &case.category,
        opened_at_ms: case.opened_at_ms,
        report_count: case.report_count,
        urgency: case.urgency,
        ticket_id,
        accepted_at_ms,
        request: req,
        department_id: &case.department_id,
        level: case.level,
        due_at_ms: case.due_at_ms,
        rule_id: &case.rule_id,
        routing_version: &case.routing_version,
        version: case.version,
    });
    let channel = pb::Channel::try_from(req.channel)
        .unwrap_or_default()
        .as_str_name();
    if reason.is_empty() {
    } else if kind == pb::DispatchKind::NewCase {
        body.routing_reason = reason.to_owned();
    } else {
        body.update_reason = reason.to_owned();
    }
    lead.clone_into(&mut body.lead_department_id);
    body.due_at_provisional =
        super::deadlines::is_provisional(tx, &case.case_id, &case.department_id)?;
    let (payload, content) = encode(&body, json)?;
    let row = write_sealed(
        tx,
        &st.seal,
        outbox::NewRow {
            dispatch_id: &dispatch_id,
            case_id: &case.case_id,
            routing_key: &case.routing_key,
            priority,
            channel,
            level: envelope::level_code(case.level),
            now,
            payload,
            content,
        },
    )?;
    st.depth += 1;
    Ok(row)
}
