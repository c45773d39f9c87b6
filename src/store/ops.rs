//! The SQL of each writer command: accepting a ticket (idempotency check, then opening a case
//! or joining the reporter's open one, with its dispatch, outbox row and audit entry) and
//! settling outbox rows. Runs inside the writer's transaction; see [`super::writer`] for how
//! failures are contained.
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::writer::State;
use super::{Accepted, NewTicket, OutboxMessage, StoreError};
use crate::dispatch::envelope::{self, CaseDispatch};
use crate::pb;
use prost::Message;

/// A clean refusal: the command wrote nothing, so the batch carries on.
pub(super) type Refusal = StoreError;

/// What an accept produced: the answer and, unless it was a replay, the new outbox row (kept
/// for the relay in memory once committed, see `hot`).
type AcceptResult = Result<(Accepted, Vec<OutboxMessage>), Refusal>;

/// Idempotency check, then either a new case or (for a follow-up) the reporter's open case.
///
/// The outer error means SQLite failed part-way (the transaction must be rolled back); the
/// inner one is a clean refusal such as a spent outbox budget.
pub(super) fn accept(
    tx: &Connection,
    st: &mut State,
    t: &NewTicket,
) -> Result<AcceptResult, StoreError> {
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
        return Ok(Ok((replay, Vec::new())));
    }
    if !t.emergency && st.depth >= st.budget {
        return Ok(Err(StoreError::OutboxFull {
            depth: st.depth,
            budget: st.budget,
        }));
    }
    let now = crate::time::now_ms();
    // An emergency transfer is never absorbed into another case: it always opens its own.
    let target = match &t.follow_up {
        Some(f) if !t.emergency => open_case_of(tx, &f.reporter_key, now - f.window_ms)?,
        _ => None,
    };
    let out = match target {
        Some(case) => join_case(tx, st, t, case, now)?,
        None => open_case(tx, st, t, now)?,
    };
    Ok(Ok(out))
}

/// A case a follow-up may join.
struct OpenCase {
    case_id: String,
    category: String,
    department_id: String,
    routing_key: String,
    level: pb::Level,
    due_at_ms: i64,
    urgency: i32,
    opened_at_ms: i64,
    report_count: u32,
    status: i32,
    rule_id: String,
    routing_version: String,
}

/// The case of the reporter's latest ticket since `since_ms`, if that case is still open.
fn open_case_of(
    tx: &Connection,
    reporter_key: &str,
    since_ms: i64,
) -> Result<Option<OpenCase>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT c.case_id, c.category, c.department_id, COALESCE(c.routing_key, 'dept.' || c.department_id),
                    c.level, c.due_at, c.urgency, c.opened_at, c.report_count, c.status, c.rule_id,
                    c.routing_version
               FROM tickets t JOIN cases c ON c.case_id = t.case_id
              WHERE t.reporter_key = ?1 AND t.accepted_at >= ?2 AND c.status IN (?3, ?4, ?5)
              ORDER BY t.accepted_at DESC LIMIT 1",
        )?
        .query_row(
            params![
                reporter_key,
                since_ms,
                pb::CaseStatus::Open as i32,
                pb::CaseStatus::Dispatched as i32,
                pb::CaseStatus::InProgress as i32
            ],
            |r| {
                Ok(OpenCase {
                    case_id: r.get(0)?,
                    category: r.get(1)?,
                    department_id: r.get(2)?,
                    routing_key: r.get(3)?,
                    level: pb::Level::try_from(r.get::<_, i32>(4)?).unwrap_or_default(),
                    due_at_ms: r.get(5)?,
                    urgency: r.get(6)?,
                    opened_at_ms: r.get(7)?,
                    report_count: r.get(8)?,
                    status: r.get(9)?,
                    rule_id: r.get(10)?,
                    routing_version: r.get(11)?,
                })
            },
        )
        .optional()?)
}

/// A new case with this ticket, routed by the router's decision.
fn open_case(
    tx: &Connection,
    st: &mut State,
    t: &NewTicket,
    now: i64,
) -> Result<(Accepted, Vec<OutboxMessage>), StoreError> {
    let req = &t.request;
    let route = &t.route;
    let (case_seq, case_id) = st.seq.next_case(now);
    let district = req
        .location
        .as_ref()
        .map(|l| l.district_code.as_str())
        .unwrap_or("");
    tx.prepare_cached(
        "INSERT INTO cases (case_id, status, category, district_code, department_id, level, urgency,
                            rule_id, routing_version, opened_at, due_at, report_count, updated_at, seq,
                            routing_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?10, ?12, ?13)",
    )?
    .execute(params![
        case_id,
        pb::CaseStatus::Open as i32,
        req.category,
        district,
        route.department_id,
        route.level as i32,
        req.urgency,
        route.rule_id,
        route.routing_version,
        now,
        route.due_at_ms,
        case_seq,
        route.routing_key,
    ])?;
    let case = OpenCase {
        case_id,
        category: req.category.clone(),
        department_id: route.department_id.clone(),
        routing_key: route.routing_key.clone(),
        level: route.level,
        due_at_ms: route.due_at_ms,
        urgency: req.urgency,
        opened_at_ms: now,
        report_count: 1,
        status: pb::CaseStatus::Open as i32,
        rule_id: route.rule_id.clone(),
        routing_version: route.routing_version.clone(),
    };
    file(
        tx,
        st,
        t,
        &case,
        pb::Disposition::NewCase,
        pb::DispatchKind::NewCase,
        now,
    )
}

/// This ticket joins the reporter's open case; its department hears of it as a case update.
fn join_case(
    tx: &Connection,
    st: &mut State,
    t: &NewTicket,
    mut case: OpenCase,
    now: i64,
) -> Result<(Accepted, Vec<OutboxMessage>), StoreError> {
    case.report_count += 1;
    case.urgency = case.urgency.max(t.request.urgency);
    tx.prepare_cached(
        "UPDATE cases SET report_count = ?2, urgency = ?3, updated_at = ?4 WHERE case_id = ?1",
    )?
    .execute(params![case.case_id, case.report_count, case.urgency, now])?;
    file(
        tx,
        st,
        t,
        &case,
        pb::Disposition::Merged,
        pb::DispatchKind::CaseUpdated,
        now,
    )
}

/// Files the ticket under `case` and hands it off: ticket, dispatch, outbox row, audit entry.
fn file(
    tx: &Connection,
    st: &mut State,
    t: &NewTicket,
    case: &OpenCase,
    disposition: pb::Disposition,
    kind: pb::DispatchKind,
    now: i64,
) -> Result<(Accepted, Vec<OutboxMessage>), StoreError> {
    let req = &t.request;
    let (ticket_seq, ticket_id) = st.seq.next_ticket(now);
    let (dispatch_seq, dispatch_id) = st.seq.next_dispatch(now);
    let reporter_key = t.follow_up.as_ref().map(|f| f.reporter_key.as_str());
    tx.prepare_cached(
        "INSERT INTO tickets (ticket_id, case_id, channel, source_system, source_id, disposition, accepted_at,
                              request, seq, reporter_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        ticket_id,
        case.case_id,
        req.channel,
        req.source_system,
        req.source_id,
        disposition as i32,
        now,
        req.encode_to_vec(),
        ticket_seq,
        reporter_key,
    ])?;
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
        ticket_id: &ticket_id,
        accepted_at_ms: now,
        request: req,
        department_id: &case.department_id,
        level: case.level,
        due_at_ms: case.due_at_ms,
        rule_id: &case.rule_id,
        routing_version: &case.routing_version,
    });
    if disposition == pb::Disposition::NewCase {
        body.routing_reason.clone_from(&t.fan_out.reason);
    }
    let channel = pb::Channel::try_from(req.channel)
        .unwrap_or_default()
        .as_str_name();
    // A merged ticket's case may belong to a department other than today's lead: only the
    // lead's own encoding preference applies.
    let json = t.fan_out.lead_json && case.department_id == t.route.department_id;
    let (payload, content) = super::fanout::encode(&body, json)?;
    let mut rows = vec![super::fanout::outbox_row(
        tx,
        super::fanout::Row {
            dispatch_id: &dispatch_id,
            case_id: &case.case_id,
            routing_key: &case.routing_key,
            priority: t.priority,
            channel,
            level: envelope::level_code(case.level),
            now,
            payload,
            content,
        },
    )?];
    let (event, why) = match disposition {
        pb::Disposition::Merged => ("merged", "follow_up"),
        _ => ("accepted", "new_case"),
    };
    let detail = AcceptedDetail {
        disposition: why,
        department_id: &case.department_id,
        level: envelope::level_code(case.level),
        due_at_ms: case.due_at_ms,
        rule_id: &case.rule_id,
        routing_version: &case.routing_version,
        dispatch_id: &dispatch_id,
    };
    tx.prepare_cached(
        "INSERT INTO audit (at, case_id, ticket_id, event, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        now,
        case.case_id,
        ticket_id,
        event,
        to_json(&detail)?
    ])?;
    let new_case = disposition == pb::Disposition::NewCase;
    rows.extend(super::fanout::extra(
        tx,
        st,
        t,
        &case.case_id,
        &ticket_id,
        new_case,
        now,
    )?);
    st.depth += rows.len() as u64;
    let accepted = Accepted {
        ticket_id,
        case_id: case.case_id.clone(),
        disposition,
        department_id: case.department_id.clone(),
        level: case.level,
        due_at_ms: case.due_at_ms,
    };
    Ok((accepted, rows))
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
