//! The SQL of each writer command: accepting a ticket (idempotency check, case, ticket,
//! dispatch, outbox row, audit entry) and settling outbox rows. Runs inside the writer's
//! transaction; see [`super::writer`] for how failures are contained.
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::writer::State;
use super::{Accepted, NewTicket, OutboxEntry, StoreError};
use crate::dispatch::envelope::{self, NewCaseDispatch};
use crate::pb;
use prost::Message;

/// A clean refusal: the command wrote nothing, so the batch carries on.
pub(super) type Refusal = StoreError;

/// Idempotency check, then ticket + case + dispatch + outbox row + audit entry.
/// Returns the outcome and, for a new ticket, its outbox row for the relay.
///
/// The outer error means SQLite failed part-way (the transaction must be rolled back); the
/// inner one is a clean refusal such as a spent outbox budget.
pub(super) fn accept(
    tx: &Connection,
    st: &mut State,
    t: &NewTicket,
) -> Result<Result<(Accepted, Option<OutboxEntry>), Refusal>, StoreError> {
    let req = &t.request;
    let existing = tx
        .prepare_cached(
            "SELECT t.ticket_id, t.case_id, c.department_id, c.level, c.due_at
               FROM tickets t JOIN cases c ON c.case_id = t.case_id
              WHERE t.channel = ?1 AND t.source_system = ?2 AND t.source_id = ?3",
        )?
        .query_row(
            params![req.channel, req.source_system, req.source_id],
            |r| {
                Ok(Accepted {
                    ticket_id: r.get(0)?,
                    case_id: r.get(1)?,
                    disposition: pb::Disposition::Replay,
                    department_id: r.get(2)?,
                    level: pb::Level::try_from(r.get::<_, i32>(3)?).unwrap_or_default(),
                    due_at_ms: r.get(4)?,
                })
            },
        )
        .optional()?;
    if let Some(replay) = existing {
        return Ok(Ok((replay, None)));
    }
    if !t.emergency && st.depth >= st.budget {
        return Ok(Err(StoreError::OutboxFull {
            depth: st.depth,
            budget: st.budget,
        }));
    }
    let now = crate::time::now_ms();
    let (ticket_seq, ticket_id) = st.seq.next_ticket(now);
    let (case_seq, case_id) = st.seq.next_case(now);
    let (dispatch_seq, dispatch_id) = st.seq.next_dispatch(now);
    let route = &t.route;
    let location = req.location.clone().unwrap_or_default();

    tx.prepare_cached(
        "INSERT INTO cases (case_id, status, category, district_code, department_id, level, urgency,
                            rule_id, routing_version, opened_at, due_at, report_count, updated_at, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?10, ?12)",
    )?
    .execute(params![
        case_id,
        pb::CaseStatus::Open as i32,
        req.category,
        location.district_code,
        route.department_id,
        route.level as i32,
        req.urgency,
        route.rule_id,
        route.routing_version,
        now,
        route.due_at_ms,
        case_seq,
    ])?;
    tx.prepare_cached(
        "INSERT INTO tickets (ticket_id, case_id, channel, source_system, source_id, disposition, accepted_at, request, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        ticket_id,
        case_id,
        req.channel,
        req.source_system,
        req.source_id,
        pb::Disposition::NewCase as i32,
        now,
        req.encode_to_vec(),
        ticket_seq,
    ])?;
    tx.prepare_cached(
        "INSERT INTO dispatches (dispatch_id, case_id, kind, department_id, created_at, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![dispatch_id, case_id, pb::DispatchKind::NewCase as i32, route.department_id, now, dispatch_seq])?;

    let body = envelope::new_case(&NewCaseDispatch {
        dispatch_id: &dispatch_id,
        case_id: &case_id,
        ticket_id: &ticket_id,
        accepted_at_ms: now,
        request: req,
        department_id: &route.department_id,
        level: route.level,
        due_at_ms: route.due_at_ms,
        rule_id: &route.rule_id,
        routing_version: &route.routing_version,
    });
    let channel = pb::Channel::try_from(req.channel)
        .unwrap_or_default()
        .as_str_name();
    tx.prepare_cached(
        "INSERT INTO outbox (dispatch_id, case_id, routing_key, priority, channel, level, created_at, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        dispatch_id,
        case_id,
        route.routing_key,
        t.priority,
        channel,
        envelope::level_code(route.level),
        now,
        body.encode_to_vec(),
    ])?;
    let outbox_id = tx.last_insert_rowid();
    let detail = AcceptedDetail {
        disposition: "new_case",
        department_id: &route.department_id,
        level: envelope::level_code(route.level),
        due_at_ms: route.due_at_ms,
        rule_id: &route.rule_id,
        routing_version: &route.routing_version,
        dispatch_id: &dispatch_id,
    };
    tx.prepare_cached("INSERT INTO audit (at, case_id, ticket_id, event, detail) VALUES (?1, ?2, ?3, 'accepted', ?4)")?
        .execute(params![now, case_id, ticket_id, to_json(&detail)?])?;

    st.depth += 1;
    let accepted = Accepted {
        ticket_id,
        case_id,
        disposition: pb::Disposition::NewCase,
        department_id: route.department_id.clone(),
        level: route.level,
        due_at_ms: route.due_at_ms,
    };
    Ok(Ok((
        accepted,
        Some(OutboxEntry {
            id: outbox_id,
            priority: t.priority,
        }),
    )))
}

/// Removes confirmed rows and records the hand-off on their dispatches and cases.
pub(super) fn delivered(tx: &Connection, st: &mut State, ids: &[i64]) -> Result<(), StoreError> {
    let now = crate::time::now_ms();
    for id in ids {
        let row: Option<(String, String)> = tx
            .prepare_cached("DELETE FROM outbox WHERE id = ?1 RETURNING dispatch_id, case_id")?
            .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        // Already gone: a duplicate confirm after a re-publish. Nothing to do.
        let Some((dispatch_id, case_id)) = row else {
            continue;
        };
        st.depth = st.depth.saturating_sub(1);
        tx.prepare_cached("UPDATE dispatches SET confirmed_at = ?2 WHERE dispatch_id = ?1")?
            .execute(params![dispatch_id, now])?;
        tx.prepare_cached(
            "UPDATE cases SET status = ?2, dispatched_at = COALESCE(dispatched_at, ?3), updated_at = ?3
              WHERE case_id = ?1 AND status = ?4",
        )?
        .execute(params![case_id, pb::CaseStatus::Dispatched as i32, now, pb::CaseStatus::Open as i32])?;
        let detail = DispatchedDetail {
            dispatch_id: &dispatch_id,
        };
        tx.prepare_cached(
            "INSERT INTO audit (at, case_id, event, detail) VALUES (?1, ?2, 'dispatched', ?3)",
        )?
        .execute(params![now, case_id, to_json(&detail)?])?;
    }
    Ok(())
}

/// Counts one failed publish of an outbox row.
pub(super) fn failed(tx: &Connection, id: i64, reason: &str) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1")?
        .execute(params![id, reason])?;
    Ok(())
}

/// The audit entry of an accepted ticket: why it went where it went.
#[derive(Serialize)]
struct AcceptedDetail<'a> {
    disposition: &'static str,
    department_id: &'a str,
    level: &'static str,
    due_at_ms: i64,
    rule_id: &'a str,
    routing_version: &'a str,
    dispatch_id: &'a str,
}

/// The audit entry of a confirmed hand-off.
#[derive(Serialize)]
struct DispatchedDetail<'a> {
    dispatch_id: &'a str,
}

fn to_json(v: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))
}
