//! Writing an accepted update: the case row's new state, its unit's clocks and deadline, the
//! audit entry, and for a return or re-dispatch the handover to the next department with a
//! REDISPATCH dispatch. Decided first by `updates`; this only writes.
use crate::db::{Conn, params};
use serde_json::json;

use super::StoreError;
use super::open_cases::OpenCase;
use super::update_model::{CaseUpdate, Move, Step};
use super::updates::Held;
use super::writer::State;
use crate::handling::machine::{self, Action};
use crate::outbox::OutboxMessage;
use crate::pb;
use crate::time::ms_to_timestamp;

/// Applies an accepted update to the case row (and, for a move, hands it to its next
/// department); returns the outcome (version filled in by the caller).
#[allow(clippy::too_many_arguments)]
pub(super) fn apply_step(
    tx: &Conn,
    st: &mut State,
    u: &CaseUpdate,
    c: &Held,
    next: pb::CaseStatus,
    version: u64,
    now: i64,
    fresh: &mut Vec<OutboxMessage>,
) -> Result<pb::UpdateOutcome, StoreError> {
    let h = &u.header;
    let mut holder = c.department_id.clone();
    let mut unit_due = c.unit_due_at_ms;
    let mut extension = c.extension_due_at_ms;
    let mut audit = json!({
        "update_id": h.update_id,
        "department_id": h.department_id,
        "caller": u.caller,
        "via": u.via.as_str(),
        "operator_id": h.operator_id,
        "from": machine::name(&c.status),
        "to": machine::name(&next),
        "version": version,
        "detail": u.detail,
    });
    let clocks = u.clocks.as_ref();
    match &u.step {
        Step::Plain if u.action == Action::SignFor => {
            super::stints::responded(tx, &h.case_id, now, clocks)?;
            super::clocks::signed(tx, &h.case_id, now)?
        }
        Step::Plain => {}
        Step::Progress {
            waiting_for_citizen,
        } => {
            if *waiting_for_citizen {
                super::clocks::pause(tx, &h.case_id, now)?;
            } else if extension.is_none() && super::clocks::is_paused(tx, &h.case_id)? {
                // The citizen came back; a pending extension keeps the clocks standing.
                if let Some(due) = super::clocks::resume(tx, &h.case_id, now, clocks, None)? {
                    unit_due = due;
                }
            }
        }
        Step::Extension { new_due_at_ms } => {
            extension = Some(*new_due_at_ms);
            super::clocks::pause(tx, &h.case_id, now)?;
        }
        Step::Decide { approve } => {
            // Only the unit's deadline moves; the citizen's (cases.due_at) keeps running. The
            // wait for the decision is not the department's time either way.
            let asked = extension.filter(|_| *approve);
            if let Some(due) = super::clocks::resume(tx, &h.case_id, now, clocks, asked)? {
                unit_due = due;
            } else if let Some(asked) = asked {
                unit_due = asked;
            }
            audit["approved"] = json!(approve);
            extension = None;
        }
        Step::Move(m) => {
            // Not recounted after a move: the holder's unit deadline is its own (issue 14's
            // clocks), and the department that let the case go must hear nothing more of it.
            super::deadlines::forget(tx, &h.case_id, &c.department_id)?;
            holder = m.route.department_id.clone();
            unit_due = m.route.due_at_ms;
            extension = None;
            let end = match u.action {
                Action::Return => super::stints::End::Returned,
                _ => super::stints::End::Reassigned,
            };
            // Before the new holder's clocks replace the old one's (a reopen finds none).
            super::stints::ended(tx, &h.case_id, now, end, clocks)?;
            let row = hand_over(tx, st, u, c, m, version, now)?;
            super::clocks::start(tx, &h.case_id, &m.route, now, true)?;
            audit["to_department_id"] = json!(holder);
            audit["dispatch_id"] = json!(row.dispatch_id);
            audit["routing_reason"] = json!(m.reason);
            fresh.push(row);
        }
    }
    // A return passes through RETURNED to the re-route in the same transaction.
    let status = if next == pb::CaseStatus::Returned {
        machine::next(next, Action::Reroute).map_err(|e| StoreError::Corrupt(e.to_string()))?
    } else {
        next
    };
    let closed = (status == pb::CaseStatus::Completed).then_some(now);
    let reopened = u.action == Action::Reopen;
    if u.action == Action::Complete {
        super::stints::ended(tx, &h.case_id, now, super::stints::End::Completed, clocks)?;
    }
    if closed.is_some() {
        super::clocks::stop(tx, &h.case_id)?;
    }
    tx.prepare_cached(
        "UPDATE cases SET status = ?2, version = ?3, department_id = ?4, unit_due_at = ?5,
                extension_due_at = ?6, updated_at = ?7,
                closed_at = CASE WHEN ?9 THEN NULL ELSE COALESCE(?8, closed_at) END
          WHERE seq = ?1",
    )?
    .execute(params![
        c.seq,
        status as i32,
        version as i64,
        holder,
        unit_due,
        extension,
        now,
        closed,
        reopened
    ])?;
    tx.prepare_cached("INSERT INTO audit (at, case_id, event, detail) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![
            now,
            h.case_id,
            u.action.as_str(),
            audit.to_string()
        ])?;
    Ok(pb::UpdateOutcome {
        update_id: h.update_id.clone(),
        case_id: h.case_id.clone(),
        department_id: h.department_id.clone(),
        applied: true,
        code: 0,
        message: String::new(),
        status: status as i32,
        case_version: version,
        holder_department_id: holder,
        unit_due_at: Some(ms_to_timestamp(unit_due)),
        decided_at: Some(ms_to_timestamp(now)),
    })
}

/// The case goes to the move's department: a handover row, and a REDISPATCH dispatch with a
/// fresh unit deadline.
fn hand_over(
    tx: &Conn,
    st: &mut State,
    u: &CaseUpdate,
    c: &Held,
    m: &Move,
    version: u64,
    now: i64,
) -> Result<OutboxMessage, StoreError> {
    let h = &u.header;
    let how = match u.action {
        Action::Return => "returned",
        Action::Reopen => "reopened",
        _ => "reassigned",
    };
    tx.prepare_cached(
        "INSERT INTO handovers (case_id, department_id, how, at, to_department, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        h.case_id,
        c.department_id,
        how,
        now,
        m.route.department_id,
        u.detail.to_string()
    ])?;
    super::deadlines::record(tx, &h.case_id, &m.route)?;
    let view = OpenCase {
        seq: c.seq,
        case_id: h.case_id.clone(),
        category: c.category.clone(),
        department_id: m.route.department_id.clone(),
        routing_key: m.route.routing_key.clone(),
        level: m.route.level,
        due_at_ms: m.route.due_at_ms,
        urgency: c.urgency,
        opened_at_ms: c.opened_at_ms,
        report_count: c.report_count,
        status: pb::CaseStatus::Open as i32,
        rule_id: m.route.rule_id.clone(),
        routing_version: m.route.routing_version.clone(),
        version,
    };
    super::hand_off::hand_off(
        tx,
        st,
        &m.request,
        m.priority,
        &view,
        &m.ticket_id,
        (m.accepted_at_ms, pb::DispatchKind::Redispatch, now),
        (m.json, &m.reason, ""),
    )
}
