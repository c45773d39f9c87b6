//! Deciding and applying one department update inside the writer's transaction: the ledger
//! (idempotency by department and update_id), the version check (stale updates are refused),
//! the holder check, the state machine, and then — all in the same transaction — the case's
//! new state, its audit entry, its ledger row, the REDISPATCH of a case that changes hands and,
//! for updates that came over AMQP, the outcome message. A crash loses none of it and
//! duplicates none of it.
use crate::db::{Conn, OptionalExtension, params};
use prost::Message;
use serde_json::json;

use super::StoreError;
use super::ops::{self, OpenCase};
use super::update_model::{CaseUpdate, Decided, Move, Step, Via};
use super::writer::State;
use crate::handling::machine::{self, Action, Actor};
use crate::outbox::OutboxMessage;
use crate::outbox::kinds::{OUTCOME_TYPE, outcome_routing_key};
use crate::pb;
use crate::time::ms_to_timestamp;

/// The case columns an update needs.
struct Held {
    seq: i64,
    status: pb::CaseStatus,
    version: u64,
    department_id: String,
    unit_due_at_ms: i64,
    extension_due_at_ms: Option<i64>,
    category: String,
    opened_at_ms: i64,
    report_count: u32,
    urgency: i32,
}

/// gRPC codes of the refusals decided here (tonic's `Code` values).
mod code {
    pub const INVALID_ARGUMENT: i32 = 3;
    pub const NOT_FOUND: i32 = 5;
    pub const ALREADY_EXISTS: i32 = 6;
    pub const PERMISSION_DENIED: i32 = 7;
    pub const FAILED_PRECONDITION: i32 = 9;
    pub const ABORTED: i32 = 10;
}

/// Decides `u`. The outer error means SQLite failed part-way (or the route went stale, which
/// the caller retries); every refusal is a `Decided` with a code.
pub(super) fn apply(
    tx: &Conn,
    st: &mut State,
    u: &CaseUpdate,
    fresh: &mut Vec<OutboxMessage>,
) -> Result<Decided, StoreError> {
    let now = crate::time::now_ms();
    let h = &u.header;
    let held = load(tx, &h.case_id)?;
    if let Some((code, message)) = &u.refused {
        // Refused before the store: nothing to apply, nothing in the ledger.
        let outcome = outcome(u, held.as_ref(), *code, message, now);
        return finish(tx, st, u, outcome, false, now, fresh);
    }
    let prior: Option<(Vec<u8>, Vec<u8>)> = tx
        .prepare_cached(
            "SELECT digest, outcome FROM case_updates WHERE department_id = ?1 AND update_id = ?2",
        )?
        .query_row(params![h.department_id, h.update_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((digest, answer)) = prior {
        if digest == u.digest {
            // A duplicate: the first answer, and (over AMQP) no second outcome message, since
            // the first is in the outbox or already published.
            let outcome = pb::UpdateOutcome::decode(answer.as_slice())
                .map_err(|e| StoreError::Corrupt(format!("case_updates outcome: {e}")))?;
            return Ok(Decided {
                outcome,
                replay: true,
                left: None,
                notices: Default::default(),
            });
        }
        let message = format!(
            "update_id {:?} was already used by department {} for a different update; \
             choose a new update_id",
            h.update_id, h.department_id
        );
        let outcome = outcome(u, held.as_ref(), code::ALREADY_EXISTS, &message, now);
        return finish(tx, st, u, outcome, false, now, fresh);
    }
    let decision = match &held {
        None => Err((code::NOT_FOUND, format!("case {} not found", h.case_id))),
        Some(c) => check(u, c),
    };
    if let Err((code, message)) = decision {
        let outcome = outcome(u, held.as_ref(), code, &message, now);
        return finish(tx, st, u, outcome, true, now, fresh);
    }
    let (Some(c), Ok(next)) = (held, decision) else {
        return Err(StoreError::Corrupt("update decided without a case".into()));
    };
    if let Step::Move(m) = &u.step
        && m.base_version != c.version
    {
        // Routed against an older version than the one the caller named (a commit slipped in
        // between): not the caller's fault, so nothing is recorded and it is tried again.
        return Err(StoreError::Raced(h.case_id.clone()));
    }
    let version = c.version + 1;
    let mut applied = apply_step(tx, st, u, &c, next, version, now, fresh)?;
    applied.case_version = version;
    let notices = if u.action == Action::Complete {
        plan_results(tx, st, u, &c, version, now, fresh)?
    } else {
        Default::default()
    };
    if matches!(u.action, Action::Complete | Action::Reopen | Action::Verify) {
        super::case_scores::rescore(tx, &st.rules, &h.case_id, now)?;
    }
    let mut d = finish(tx, st, u, applied, true, now, fresh)?;
    d.notices = notices;
    if matches!(u.step, Step::Move(_)) {
        d.left = Some(c.department_id);
    }
    Ok(d)
}

/// The result notices of a completion, to every reporter of the case (see `notices`).
fn plan_results(
    tx: &Conn,
    st: &mut State,
    u: &CaseUpdate,
    c: &Held,
    version: u64,
    now: i64,
    fresh: &mut Vec<OutboxMessage>,
) -> Result<super::notices::PlannedNotices, StoreError> {
    let answered: Vec<String> = u.detail["answered_ticket_ids"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let done = crate::notify::plan::Completed {
        case_id: &u.header.case_id,
        category: &c.category,
        department_id: &c.department_id,
        result: u.detail["result"].as_str().unwrap_or_default(),
        completed_at_ms: now,
        answered: &answered,
    };
    super::notices::plan(
        tx,
        st,
        crate::notify::NoticeKind::Result,
        version,
        &done,
        None,
        now,
        fresh,
    )
}

/// The refusal, if any, of an update to case `c`; else the state it leads to.
fn check(u: &CaseUpdate, c: &Held) -> Result<pb::CaseStatus, (i32, String)> {
    let h = &u.header;
    // The holder check comes first: a department that does not hold the case learns nothing
    // about its version or state.
    if u.action.actor() == Actor::Holder && h.department_id != c.department_id {
        return Err((
            code::PERMISSION_DENIED,
            format!(
                "case {} is not held by department {}; a department acts only on its own cases",
                h.case_id, h.department_id
            ),
        ));
    }
    if h.case_version != c.version {
        return Err((
            code::ABORTED,
            format!(
                "case {} is at version {}, the update was based on version {}: read the case again",
                h.case_id, c.version, h.case_version
            ),
        ));
    }
    let next = machine::next(c.status, u.action).map_err(|e| {
        (
            code::FAILED_PRECONDITION,
            format!("case {}: {e}", h.case_id),
        )
    })?;
    match &u.step {
        Step::Extension { new_due_at_ms } if *new_due_at_ms <= c.unit_due_at_ms => Err((
            code::INVALID_ARGUMENT,
            "new_due_at must be later than the unit's current deadline".to_owned(),
        )),
        // Routing found nobody but the holder itself: the coordination centre, which the
        // fallback always reaches, cannot hand a case back; it reassigns.
        Step::Move(m) if m.route.department_id == c.department_id && u.action == Action::Return => {
            Err((
                code::FAILED_PRECONDITION,
                format!(
                    "case {}: no other department is left to route it to; the coordination \
                     centre reassigns it instead",
                    h.case_id
                ),
            ))
        }
        // A reopen goes back to the department that completed the case, by design.
        Step::Move(m) if m.route.department_id == c.department_id && u.action != Action::Reopen => {
            Err((
                code::INVALID_ARGUMENT,
                format!("the case is already held by {}", c.department_id),
            ))
        }
        _ => Ok(next),
    }
}

/// Applies an accepted update to the case row (and, for a move, hands it to its next
/// department); returns the outcome (version filled in by the caller).
#[allow(clippy::too_many_arguments)]
fn apply_step(
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
    ops::hand_off(
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

/// Records the decision: the ledger row (when `ledger`) and, for an AMQP update, the outcome
/// message in the outbox.
#[allow(clippy::too_many_arguments)]
fn finish(
    tx: &Conn,
    st: &mut State,
    u: &CaseUpdate,
    outcome: pb::UpdateOutcome,
    ledger: bool,
    now: i64,
    fresh: &mut Vec<OutboxMessage>,
) -> Result<Decided, StoreError> {
    let h = &u.header;
    let body = outcome.encode_to_vec();
    if ledger {
        tx.prepare_cached(
            "INSERT INTO case_updates (department_id, update_id, case_id, action, digest, caller,
                                       via, decided_at, code, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            h.department_id,
            h.update_id,
            h.case_id,
            u.action.as_str(),
            u.digest.as_slice(),
            u.caller,
            u.via.as_str(),
            now,
            outcome.code,
            body,
        ])?;
    }
    if u.via == Via::Amqp {
        // One ledger row has one outcome; an answer outside the ledger (refused before the
        // store, or a reused update_id) gets an id of its own so a consumer deduplicating by
        // message_id does not drop it as the first answer's copy.
        let message_id = if ledger {
            format!("outcome-{}-{}", h.department_id, h.update_id)
        } else {
            let hex: String = u.digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("outcome-{}-{}-{hex}", h.department_id, h.update_id)
        };
        let row = super::outbox_rows::write(
            tx,
            crate::outbox::NewRow {
                dispatch_id: &message_id,
                case_id: &h.case_id,
                routing_key: &outcome_routing_key(&h.department_id),
                priority: 0,
                channel: "",
                level: "",
                now,
                payload: body,
                content: Some((
                    crate::outbox::kinds::PROTOBUF.to_owned(),
                    OUTCOME_TYPE.to_owned(),
                )),
            },
        )?;
        st.depth += 1;
        fresh.push(row);
    }
    Ok(Decided {
        outcome,
        replay: false,
        left: None,
        notices: Default::default(),
    })
}

/// A refusal's outcome: the case as it stands (when there is one).
fn outcome(
    u: &CaseUpdate,
    held: Option<&Held>,
    code: i32,
    message: &str,
    now: i64,
) -> pb::UpdateOutcome {
    let h = &u.header;
    // A department that does not hold the case is told nothing about it.
    let visible = held.filter(|_| code != code::PERMISSION_DENIED && code != code::NOT_FOUND);
    pb::UpdateOutcome {
        update_id: h.update_id.clone(),
        case_id: h.case_id.clone(),
        department_id: h.department_id.clone(),
        applied: false,
        code,
        message: message.to_owned(),
        status: visible.map_or(0, |c| c.status as i32),
        case_version: visible.map_or(0, |c| c.version),
        holder_department_id: visible.map_or_else(String::new, |c| c.department_id.clone()),
        unit_due_at: visible.map(|c| ms_to_timestamp(c.unit_due_at_ms)),
        decided_at: Some(ms_to_timestamp(now)),
    }
}

fn load(tx: &Conn, case_id: &str) -> Result<Option<Held>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT seq, status, version, department_id, COALESCE(unit_due_at, due_at),
                    extension_due_at, category, opened_at, report_count, urgency
               FROM cases WHERE case_id = ?1",
        )?
        .query_row(params![case_id], |r| {
            Ok(Held {
                seq: r.get(0)?,
                status: pb::CaseStatus::try_from(r.get::<i32>(1)?).unwrap_or_default(),
                version: r.get::<i64>(2)?.try_into().unwrap_or(0),
                department_id: r.get(3)?,
                unit_due_at_ms: r.get(4)?,
                extension_due_at_ms: r.get(5)?,
                category: r.get(6)?,
                opened_at_ms: r.get(7)?,
                report_count: r.get(8)?,
                urgency: r.get(9)?,
            })
        })
        .optional()?)
}
