//! Deciding and applying one department update inside the writer's transaction: the ledger
//! (idempotency by department and update_id), the version check (stale updates are refused),
//! the holder check, the state machine, and then — all in the same transaction — the case's
//! new state, its audit entry, its ledger row, the REDISPATCH of a case that changes hands and,
//! for updates that came over AMQP, the outcome message (`update_step` writes an accepted
//! move). A crash loses none of it and
//! duplicates none of it.
use crate::db::{Conn, OptionalExtension, params};
use prost::Message;

use super::StoreError;
use super::update_model::{CaseUpdate, Decided, Step, Via};
use super::update_step::apply_step;
use super::writer::State;
use crate::handling::machine::{self, Action, Actor};
use crate::outbox::OutboxMessage;
use crate::outbox::kinds::{OUTCOME_TYPE, outcome_routing_key};
use crate::pb;
use crate::time::ms_to_timestamp;

/// The case columns an update needs.
pub(super) struct Held {
    pub(super) seq: i64,
    pub(super) status: pb::CaseStatus,
    pub(super) version: u64,
    pub(super) department_id: String,
    pub(super) unit_due_at_ms: i64,
    pub(super) extension_due_at_ms: Option<i64>,
    pub(super) category: String,
    pub(super) opened_at_ms: i64,
    pub(super) report_count: u32,
    pub(super) urgency: i32,
}

/// gRPC codes of the refusals decided here (tonic's `Code` values).
pub(super) mod code {
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
