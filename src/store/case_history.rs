//! What `GetTicket` shows of the closed loop: the unit's deadlines and light as of now, and
//! the case's audit trail, read on the pooled read connections.
use crate::db::{Conn, OptionalExtension, params};

use super::StoreError;
use crate::clocks::{Clock, Light};

/// The loop's side of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseLoop {
    pub version: u64,
    /// The holder's deadline.
    pub unit_due_at_ms: i64,
    /// None once nothing is timed (completed).
    pub light: Option<Light>,
    /// The sign-for deadline while not signed for.
    pub sign_for_due_at_ms: Option<i64>,
    pub paused: bool,
    pub returns: u32,
    pub history: Vec<HistoryEntry>,
    /// The answers to the case's reporters, skipped reporters included.
    pub notices: Vec<super::NoticeView>,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub at_ms: i64,
    pub event: String,
    pub ticket_id: Option<String>,
    pub detail: String,
}

/// The loop's side of `case_id` at `now` (None: no such case).
pub(super) fn case_loop(
    conn: &Conn,
    case_id: &str,
    now: i64,
) -> Result<Option<CaseLoop>, StoreError> {
    let head = conn
        .prepare_cached(
            "SELECT c.version, COALESCE(c.unit_due_at, c.due_at), u.sign_yellow_at, u.sign_red_at,
                    u.signed_at IS NOT NULL, u.yellow_at, u.red_at, u.paused_at IS NOT NULL,
                    u.case_id IS NOT NULL,
                    (SELECT COUNT(*) FROM handovers h WHERE h.case_id = c.case_id
                                                        AND h.how = 'returned')
               FROM cases c LEFT JOIN unit_clocks u ON u.case_id = c.case_id
              WHERE c.case_id = ?1",
        )?
        .query_row(params![case_id], |r| {
            let sign = match (r.get::<Option<i64>>(2)?, r.get::<Option<i64>>(3)?) {
                (Some(yellow_at), Some(red_at)) if !r.get::<bool>(4)? => {
                    Some(Clock { yellow_at, red_at })
                }
                _ => None,
            };
            let complete = match (r.get::<Option<i64>>(5)?, r.get::<Option<i64>>(6)?) {
                (Some(yellow_at), Some(red_at)) => Some(Clock { yellow_at, red_at }),
                _ => None,
            };
            let timed = r.get::<bool>(8)?;
            let light = complete.filter(|_| timed).map(|c| {
                let l = c.light(now);
                sign.map_or(l, |s| l.max(s.light(now)))
            });
            Ok(CaseLoop {
                version: r.get::<i64>(0)?.try_into().unwrap_or(0),
                unit_due_at_ms: r.get(1)?,
                light,
                sign_for_due_at_ms: sign.map(|s| s.red_at),
                paused: r.get(7)?,
                returns: r.get(9)?,
                history: Vec::new(),
                notices: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut head) = head else {
        return Ok(None);
    };
    head.history = conn
        .prepare_cached(
            "SELECT at, event, ticket_id, detail FROM audit WHERE case_id = ?1 ORDER BY seq",
        )?
        .query_map(params![case_id], |r| {
            Ok(HistoryEntry {
                at_ms: r.get(0)?,
                event: r.get(1)?,
                ticket_id: r.get(2)?,
                detail: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    head.notices = super::notices::of_case(conn, case_id)?;
    Ok(Some(head))
}
