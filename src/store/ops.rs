//! The SQL of each writer command: accepting a ticket (idempotency check, then opening a case
//! or joining the reporter's open one, with its dispatch (`hand_off`), outbox row and audit
//! entry). Runs inside the writer's transaction; see [`super::writer`] for how
//! failures are contained. The reporter's contacts and the dispatch are written sealed when
//! `[privacy]` keys are configured (see `contacts`).
use crate::db::{Conn, OptionalExtension, params};
use serde::Serialize;

use super::hand_off::hand_off;
use super::merge_rows;
use super::open_cases::{OpenCase, open_case_by_seq, open_case_of};
use super::writer::State;
use super::{Accepted, NewTicket, StoreError};
use crate::merge::{Decision, Index};
use crate::outbox::OutboxMessage;
use crate::outbox::envelope;
use crate::pb;

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
    tx: &Conn,
    st: &mut State,
    merge: Option<&mut Index>,
    t: &NewTicket,
) -> Result<AcceptResult, StoreError> {
    let req = &t.request;
    let existing = tx
        .prepare_cached(
            "SELECT t.ticket_id, t.case_id, c.department_id, c.level, c.due_at,
                    EXISTS (SELECT 1 FROM provisional_deadlines p
                             WHERE p.case_id = c.case_id AND p.department_id = c.department_id)
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
                    level: pb::Level::try_from(r.get::<i32>(3)?).unwrap_or_default(),
                    due_at_ms: r.get(4)?,
                    due_provisional: r.get(5)?,
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
    let ticket = st.seq.next_ticket(tx, now)?;
    // An emergency transfer never continues a conversation: it opens its own case unless it
    // is the same problem as an open case (below), and even then its case update is dispatched.
    let mut target = match &t.follow_up {
        Some(f) if !t.emergency => open_case_of(tx, st, &f.reporter_key, now - f.window_ms)?,
        _ => None,
    };
    let mut decision: Option<Decision> = None;
    let probe = t.merge.as_ref().map(|p| {
        let mut p = p.clone();
        p.sketch.ticket_seq = ticket.0;
        p
    });
    if let (Some(index), Some(probe)) = (merge, probe) {
        super::merge_shared::claim(tx, &mut st.merge_seen, index, [probe.district])?;
        if target.is_none() {
            let (case_seq, mut d) = index.decide(&probe);
            if let Some(seq) = case_seq {
                target = open_case_by_seq(tx, seq)?;
                if target.is_none() {
                    // Closed on disk since it was indexed: no longer a target.
                    index.close(seq);
                    d.merged_into = None;
                }
            }
            decision = Some(d);
        }
        let out = match target {
            Some(case) => {
                let seq = case.seq;
                let out = join_case(tx, st, t, case, ticket, decision.as_ref(), now)?;
                index.join(seq, &probe.sketch);
                merge_rows::save_members(tx, index, seq)?;
                out
            }
            None => {
                let (out, seq) = open_case(tx, st, t, ticket, decision.as_ref(), now)?;
                merge_rows::index_new_case(tx, index, seq, &out.0.case_id, &probe)?;
                out
            }
        };
        return Ok(Ok(out));
    }
    let out = match target {
        Some(case) => join_case(tx, st, t, case, ticket, None, now)?,
        None => open_case(tx, st, t, ticket, None, now)?.0,
    };
    Ok(Ok(out))
}

/// A new case with this ticket, routed by the router's decision.
fn open_case(
    tx: &Conn,
    st: &mut State,
    t: &NewTicket,
    ticket: (i64, String),
    decision: Option<&Decision>,
    now: i64,
) -> Result<((Accepted, Vec<OutboxMessage>), i64), StoreError> {
    let case = insert_case(tx, st, &t.request, t.merge.as_ref(), &t.route, now)?;
    let case_seq = case.seq;
    let out = file(
        tx,
        st,
        t,
        &case,
        ticket,
        decision,
        pb::Disposition::NewCase,
        pb::DispatchKind::NewCase,
        now,
    )?;
    Ok((out, case_seq))
}

/// Inserts a new open case for `req`, routed by `route`.
pub(super) fn insert_case(
    tx: &Conn,
    st: &mut State,
    req: &pb::Request,
    probe: Option<&crate::merge::Probe>,
    route: &super::RouteDecision,
    now: i64,
) -> Result<OpenCase, StoreError> {
    let (case_seq, case_id) = st.seq.next_case(tx, now)?;
    // A case of unknown category takes the one merging inferred from the text.
    let category = match probe {
        Some(p) if req.category.trim().is_empty() => p.category.as_str(),
        _ => req.category.as_str(),
    };
    let (district, street) = req
        .location
        .as_ref()
        .map(|l| (l.district_code.as_str(), l.street_code.as_str()))
        .unwrap_or(("", ""));
    tx.prepare_cached(
        "INSERT INTO cases (case_id, status, category, district_code, department_id, level, urgency,
                            rule_id, routing_version, opened_at, due_at, report_count, updated_at, seq,
                            routing_key, street_code)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?10, ?12, ?13, ?14)",
    )?
    .execute(params![
        case_id,
        pb::CaseStatus::Open as i32,
        category,
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
        street,
    ])?;
    super::deadlines::record(tx, &case_id, route)?;
    super::clocks::start(tx, &case_id, route, now, false)?;
    let case = OpenCase {
        seq: case_seq,
        case_id,
        category: category.to_owned(),
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
        version: 0,
    };
    Ok(case)
}

/// This ticket joins the reporter's open case; its department hears of it as a case update.
fn join_case(
    tx: &Conn,
    st: &mut State,
    t: &NewTicket,
    mut case: OpenCase,
    ticket: (i64, String),
    decision: Option<&Decision>,
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
        ticket,
        decision,
        pb::Disposition::Merged,
        pb::DispatchKind::CaseUpdated,
        now,
    )
}

/// Files the ticket under `case` and hands it off: ticket, dispatch, outbox row, audit entry.
// The ticket, its case and how it was filed are all needed to write the rows and the audit entry.
#[allow(clippy::too_many_arguments)]
fn file(
    tx: &Conn,
    st: &mut State,
    t: &NewTicket,
    case: &OpenCase,
    (ticket_seq, ticket_id): (i64, String),
    decision: Option<&Decision>,
    disposition: pb::Disposition,
    kind: pb::DispatchKind,
    now: i64,
) -> Result<(Accepted, Vec<OutboxMessage>), StoreError> {
    let req = &t.request;
    let reporter_key = t
        .follow_up
        .as_ref()
        .map(|f| st.seal.digest(&f.reporter_key));
    let (request, reporter) = st.seal.store_request(&ticket_id, req);
    tx.prepare_cached(
        "INSERT INTO tickets (ticket_id, case_id, channel, source_system, source_id, disposition, accepted_at,
                              request, seq, reporter_key, reporter)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        ticket_id,
        case.case_id,
        req.channel,
        req.source_system,
        req.source_id,
        disposition as i32,
        now,
        request,
        ticket_seq,
        reporter_key.as_deref(),
        reporter,
    ])?;
    let new_case = disposition == pb::Disposition::NewCase;
    // A merged ticket's case may belong to a department other than today's lead: only the
    // lead's own encoding preference applies, and only a new case carries the routing reason.
    let json = t.fan_out.lead_json && case.department_id == t.route.department_id;
    let reason = if new_case {
        t.fan_out.reason.as_str()
    } else {
        ""
    };
    let row = hand_off(
        tx,
        st,
        req,
        t.priority,
        case,
        &ticket_id,
        (now, kind, now),
        (json, reason, ""),
    )?;
    let dispatch_id = row.dispatch_id.clone();
    let (event, why) = match (disposition, decision.and_then(|d| d.merged_into.as_ref())) {
        (pb::Disposition::Merged, Some(_)) => ("merged", "same_problem"),
        (pb::Disposition::Merged, None) => ("merged", "follow_up"),
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
        routing_reason: reason,
        merge: decision,
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
    let mut rows = vec![row];
    let extra = super::fanout::extra(tx, st, t, &case.case_id, &ticket_id, new_case, now)?;
    st.depth += extra.len() as u64;
    rows.extend(extra);
    if !new_case {
        rows.extend(super::fanout::co_handler_updates(
            tx, st, t, case, &ticket_id, now,
        )?);
    }
    let accepted = Accepted {
        ticket_id,
        case_id: case.case_id.clone(),
        disposition,
        department_id: case.department_id.clone(),
        level: case.level,
        due_at_ms: case.due_at_ms,
        due_provisional: super::deadlines::is_provisional(tx, &case.case_id, &case.department_id)?,
    };
    Ok((accepted, rows))
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
    /// Why the case went to its department (new cases only; e.g. `rule cooking-fumes`, or why
    /// it fell back to the coordination centre).
    #[serde(skip_serializing_if = "str::is_empty")]
    routing_reason: &'a str,
    /// The merge decision's reasons (candidates and their signals), when merging is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    merge: Option<&'a Decision>,
}

pub(super) fn to_json(v: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))
}
