//! Splitting a wrongly merged ticket out of its case (an operator's correction): the ticket
//! moves into a new case routed like a fresh report, its department gets a NEW_CASE dispatch,
//! the old case counts one reporter less, and both cases' audit trails say why. Runs in the
//! writer's transaction like an accept, so the merge index changes with it or not at all.
use crate::db::{Conn, OptionalExtension, params};
use serde::Serialize;

use super::merge_rows;
use super::ops::{self, Refusal};
use super::writer::State;
use super::{Split, SplitTicket, StoreError};
use crate::merge::Index;
use crate::outbox::OutboxMessage;
use crate::pb;

type SplitResult = Result<(Split, OutboxMessage), Refusal>;

/// The ticket as a split needs it.
struct Found {
    seq: i64,
    case_id: String,
    disposition: i32,
    request: Vec<u8>,
    /// Sealed contacts (`tickets.reporter`).
    reporter: Option<Vec<u8>>,
    accepted_at_ms: i64,
    case_status: i32,
    case_seq: i64,
}

pub(super) fn split(
    tx: &Conn,
    st: &mut State,
    merge: Option<&mut Index>,
    s: &SplitTicket,
) -> Result<SplitResult, StoreError> {
    let found = tx
        .prepare_cached(
            "SELECT t.seq, t.case_id, t.disposition, t.request, t.accepted_at, c.status, c.seq,
                    t.reporter
               FROM tickets t JOIN cases c ON c.case_id = t.case_id WHERE t.ticket_id = ?1",
        )?
        .query_row(params![s.ticket_id], |r| {
            Ok(Found {
                seq: r.get(0)?,
                case_id: r.get(1)?,
                disposition: r.get(2)?,
                request: r.get(3)?,
                accepted_at_ms: r.get(4)?,
                case_status: r.get(5)?,
                case_seq: r.get(6)?,
                reporter: r.get(7)?,
            })
        })
        .optional()?;
    let Some(f) = found else {
        return Ok(Err(StoreError::NoTicket(s.ticket_id.clone())));
    };
    let refuse = |reason: String| {
        Ok(Err(StoreError::NotSplittable {
            ticket_id: s.ticket_id.clone(),
            reason,
        }))
    };
    if f.disposition != pb::Disposition::Merged as i32 {
        return refuse(format!(
            "it opened case {} itself; only a ticket that joined a case can be split out",
            f.case_id
        ));
    }
    let status = pb::CaseStatus::try_from(f.case_status).unwrap_or_default();
    if !crate::handling::machine::is_open(status) {
        return refuse(format!("its case {} is no longer open", f.case_id));
    }
    let req = st
        .seal
        .load_request(&s.ticket_id, &f.request, f.reporter.as_deref())?;
    let now = crate::time::now_ms();
    let case = ops::insert_case(tx, st, &req, s.merge.as_ref(), &s.route, now)?;
    tx.prepare_cached("UPDATE tickets SET case_id = ?2, disposition = ?3 WHERE ticket_id = ?1")?
        .execute(params![
            s.ticket_id,
            case.case_id,
            pb::Disposition::NewCase as i32
        ])?;
    let left: u32 = tx
        .prepare_cached(
            "UPDATE cases SET report_count = report_count - 1, updated_at = ?2 WHERE case_id = ?1
             RETURNING report_count",
        )?
        .query_row(params![f.case_id, now], |r| r.get(0))?;
    let row = super::hand_off::hand_off(
        tx,
        st,
        &req,
        s.priority,
        &case,
        &s.ticket_id,
        (f.accepted_at_ms, pb::DispatchKind::NewCase, now),
        (s.json, "split out of a merged case", ""),
    )?;
    let detail = SplitDetail {
        from_case_id: &f.case_id,
        to_case_id: &case.case_id,
        reason: &s.reason,
        caller: s.caller.as_deref(),
        operator_id: s.via.and(s.caller.as_deref()),
        via: s.via,
        dispatch_id: &row.dispatch_id,
        department_id: &case.department_id,
        reports_left: left,
    };
    let json = ops::to_json(&detail)?;
    let mut audit = tx.prepare_cached(
        "INSERT INTO audit (at, case_id, ticket_id, event, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    audit.execute(params![now, case.case_id, s.ticket_id, "split", json])?;
    audit.execute(params![now, f.case_id, s.ticket_id, "split_out", json])?;
    if let Some(index) = merge {
        let district = super::merge_shared::district_of(tx, f.case_seq)?;
        super::merge_shared::claim(tx, &mut st.merge_seen, index, district)?;
        if index.forget(f.case_seq, f.seq) {
            merge_rows::save_members(tx, index, f.case_seq)?;
        }
        if let Some(probe) = &s.merge {
            let mut probe = probe.clone();
            probe.sketch.ticket_seq = f.seq;
            probe.sketch.at_ms = probe.sketch.at_ms.min(f.accepted_at_ms);
            merge_rows::index_new_case(tx, index, case.seq, &case.case_id, &probe)?;
        }
    }
    let done = Split {
        ticket_id: s.ticket_id.clone(),
        case_id: case.case_id.clone(),
        from_case_id: f.case_id,
        department_id: case.department_id.clone(),
        level: case.level,
        due_at_ms: case.due_at_ms,
    };
    Ok(Ok((done, row)))
}

/// The audit entry of a split, on both cases.
#[derive(Serialize)]
struct SplitDetail<'a> {
    from_case_id: &'a str,
    to_case_id: &'a str,
    reason: &'a str,
    caller: Option<&'a str>,
    /// The console operator who split it (the caller, when it came through the console).
    #[serde(skip_serializing_if = "Option::is_none")]
    operator_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<&'a str>,
    dispatch_id: &'a str,
    department_id: &'a str,
    reports_left: u32,
}
