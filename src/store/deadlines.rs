//! Deadlines that rest on a provisional calendar year (see `router::calendar`). Each is kept
//! with how it was counted, so that when the year's official file arrives it is counted again
//! and, where it moves, every department holding the case hears of it in a `CASE_UPDATED`
//! dispatch. Rows exist only while a deadline is provisional: most of the year the table is
//! empty and costs an accept one primary-key probe.
use crate::db::{Conn, OptionalExtension, params};
use serde::Serialize;

use super::open_cases::OpenCase;
use super::ops;
use super::writer::State;
use super::{RouteDecision, StoreError};
use crate::outbox::OutboxMessage;
use crate::pb;

/// A case's first ticket: id, acceptance, encoded request and sealed contacts.
type FirstTicket = (String, i64, Vec<u8>, Option<Vec<u8>>);

/// A provisional deadline of an open case, as read for recounting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionalDeadline {
    pub case_id: String,
    pub department_id: String,
    /// Whether the department leads the case (主办) rather than co-handles it.
    pub lead: bool,
    pub counted_from_ms: i64,
    pub working_days: u32,
    pub due_at_ms: i64,
    /// The provisional years it counted, ascending.
    pub years: Vec<i64>,
}

/// A deadline counted again, to be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recount {
    pub case_id: String,
    pub department_id: String,
    /// The due time it was counted again from; a row that changed since is left alone.
    pub old_due_at_ms: i64,
    pub due_at_ms: i64,
    /// The years it still counts provisionally (empty: it is official now).
    pub years: Vec<i64>,
    /// Encode the department's dispatch as proto3 JSON.
    pub json: bool,
    /// Why, in words, for the dispatch and the audit trail.
    pub reason: String,
}

fn years_text(years: &[i64]) -> String {
    years
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn years_of(text: &str) -> Vec<i64> {
    text.split(',')
        .filter_map(|y| y.trim().parse().ok())
        .collect()
}

/// Remembers `route`'s deadline for `case_id` when it is provisional.
pub(super) fn record(tx: &Conn, case_id: &str, route: &RouteDecision) -> Result<(), StoreError> {
    let Some(days) = route
        .working_days
        .filter(|_| !route.provisional_years.is_empty())
    else {
        return Ok(());
    };
    tx.prepare_cached(
        "INSERT INTO provisional_deadlines
            (case_id, department_id, counted_from, working_days, due_at, years, rule_id,
             routing_key, level)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (case_id, department_id) DO UPDATE SET
            counted_from = excluded.counted_from, working_days = excluded.working_days,
            due_at = excluded.due_at, years = excluded.years, rule_id = excluded.rule_id,
            routing_key = excluded.routing_key, level = excluded.level",
    )?
    .execute(params![
        case_id,
        route.department_id,
        route.counted_from_ms,
        days,
        route.due_at_ms,
        years_text(&route.provisional_years),
        route.rule_id,
        route.routing_key,
        route.level as i32,
    ])?;
    Ok(())
}

/// Drops `department_id`'s provisional deadline on `case_id`: the department let the case go
/// (a return or a reassignment), so a recount must not send it a case update.
pub(super) fn forget(tx: &Conn, case_id: &str, department_id: &str) -> Result<(), StoreError> {
    tx.prepare_cached(
        "DELETE FROM provisional_deadlines WHERE case_id = ?1 AND department_id = ?2",
    )?
    .execute(params![case_id, department_id])?;
    Ok(())
}

/// Whether `department_id`'s deadline on `case_id` is provisional.
pub(super) fn is_provisional(
    conn: &Conn,
    case_id: &str,
    department_id: &str,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM provisional_deadlines WHERE case_id = ?1 AND department_id = ?2",
        )?
        .query_row(params![case_id, department_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Every provisional deadline of an open case.
pub(super) fn list(conn: &Conn) -> Result<Vec<ProvisionalDeadline>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT p.case_id, p.department_id, p.department_id = c.department_id, p.counted_from,
                p.working_days, p.due_at, p.years
           -- CROSS JOIN (with the join condition in WHERE) keeps the (usually empty) provisional table as the outer loop: SQLite's
           -- planner otherwise drove it from `cases` and visited every open case at start-up
           -- (0.46 s at a million; 3 ms this way).
           FROM provisional_deadlines p CROSS JOIN cases c
          WHERE c.case_id = p.case_id AND c.status IN ({})
          ORDER BY p.case_id, p.department_id",
        crate::handling::machine::OPEN_SQL
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok(ProvisionalDeadline {
            case_id: r.get(0)?,
            department_id: r.get(1)?,
            lead: r.get(2)?,
            counted_from_ms: r.get(3)?,
            working_days: r.get(4)?,
            due_at_ms: r.get(5)?,
            years: years_of(&r.get::<String>(6)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The audit entry of a recounted deadline.
#[derive(Serialize)]
struct RecountDetail<'a> {
    department_id: &'a str,
    previous_due_at_ms: i64,
    due_at_ms: i64,
    /// Years still provisional after the recount.
    provisional_years: &'a [i64],
    rule_id: &'a str,
    reason: &'a str,
    /// The CASE_UPDATED dispatch, when the deadline moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    dispatch_id: Option<&'a str>,
}

/// Applies recounted deadlines: moves each case's (or co-handler's) deadline, and tells the
/// department in a `CASE_UPDATED` dispatch where it moved. A recount whose row changed since
/// it was read, or whose case closed, is skipped. Returns the new outbox rows.
pub(super) fn apply(
    tx: &Conn,
    st: &mut State,
    recounts: &[Recount],
) -> Result<Vec<OutboxMessage>, StoreError> {
    let now = crate::time::now_ms();
    let mut rows = Vec::new();
    for r in recounts {
        let current: Option<(i64, String, String, i32)> = tx
            .prepare_cached(
                "SELECT due_at, rule_id, routing_key, level FROM provisional_deadlines
                  WHERE case_id = ?1 AND department_id = ?2",
            )?
            .query_row(params![r.case_id, r.department_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .optional()?;
        let Some((due_at, rule_id, routing_key, level)) =
            current.filter(|c| c.0 == r.old_due_at_ms)
        else {
            continue;
        };
        let Some(case) = super::open_cases::open_case_by_id(tx, &r.case_id)? else {
            continue;
        };
        if r.years.is_empty() {
            tx.prepare_cached(
                "DELETE FROM provisional_deadlines WHERE case_id = ?1 AND department_id = ?2",
            )?
            .execute(params![r.case_id, r.department_id])?;
        } else {
            tx.prepare_cached(
                "UPDATE provisional_deadlines SET due_at = ?3, years = ?4
                  WHERE case_id = ?1 AND department_id = ?2",
            )?
            .execute(params![
                r.case_id,
                r.department_id,
                r.due_at_ms,
                years_text(&r.years)
            ])?;
        }
        let lead = case.department_id == r.department_id;
        let mut dispatch_id = None;
        if r.due_at_ms != due_at {
            if lead {
                tx.prepare_cached(
                    "UPDATE cases SET due_at = ?2, updated_at = ?3,
                            unit_due_at = CASE WHEN unit_due_at = ?4 THEN ?2 ELSE unit_due_at END
                      WHERE case_id = ?1",
                )?
                .execute(params![r.case_id, r.due_at_ms, now, due_at])?;
                // The holder's completion clock ran to the same deadline (unless a pause or an
                // extension moved it since): it runs to the recounted one, and the scheduler
                // looks at it again. Its yellow instant stays as routing counted it.
                tx.prepare_cached(
                    "UPDATE unit_clocks SET red_at = ?2, yellow_at = CASE WHEN yellow_at < ?2 THEN yellow_at ELSE ?2 END,
                            next_at = CASE WHEN paused_at IS NULL THEN CAST(?4 AS BIGINT) END
                      WHERE case_id = ?1 AND red_at = ?3",
                )?
                .execute(params![r.case_id, r.due_at_ms, due_at, now])?;
            }
            let view = OpenCase {
                department_id: r.department_id.clone(),
                routing_key,
                level: pb::Level::try_from(level).unwrap_or(case.level),
                due_at_ms: r.due_at_ms,
                rule_id: rule_id.clone(),
                ..case.clone()
            };
            // The dispatch carries the report that opened the case, as a case update does.
            let (ticket_id, accepted_at, request, reporter): FirstTicket = tx
                .prepare_cached(
                    "SELECT ticket_id, accepted_at, request, reporter FROM tickets
                      WHERE case_id = ?1 ORDER BY seq LIMIT 1",
                )?
                .query_row(params![r.case_id], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })?;
            let req = st
                .seal
                .load_request(&ticket_id, &request, reporter.as_deref())?;
            let lead_id = if lead {
                ""
            } else {
                case.department_id.as_str()
            };
            let row = super::hand_off::hand_off(
                tx,
                st,
                &req,
                // Lowest priority: a moved deadline is news, not an emergency. It still never
                // overtakes the case's earlier dispatches (`hand_off`).
                0,
                &view,
                &ticket_id,
                (accepted_at, pb::DispatchKind::CaseUpdated, now),
                (r.json, &r.reason, lead_id),
            )?;
            dispatch_id = Some(row.dispatch_id.clone());
            rows.push(row);
        }
        let detail = RecountDetail {
            department_id: &r.department_id,
            previous_due_at_ms: due_at,
            due_at_ms: r.due_at_ms,
            provisional_years: &r.years,
            rule_id: &rule_id,
            reason: &r.reason,
            dispatch_id: dispatch_id.as_deref(),
        };
        tx.prepare_cached(
            "INSERT INTO audit (at, case_id, event, detail) VALUES (?1, ?2, 'deadline_recounted', ?3)",
        )?
        .execute(params![now, r.case_id, ops::to_json(&detail)?])?;
    }
    Ok(rows)
}
