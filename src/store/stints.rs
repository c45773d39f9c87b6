//! Each department's stints on a case (`assignments`, migration 12): the per-assignment
//! history the 谁呼谁评 scores are gathered from. `unit_clocks` holds only the current holder's
//! clocks and is replaced at a handover and deleted at completion, so what the score needs of
//! a stint is copied here, in the transaction that causes it, while the clocks are still there:
//! - a new holder's clocks start → a stint begins ([`given`], from `clocks::start`);
//! - it signs for the case → when, and how late ([`responded`]);
//! - it lets go (returned, reassigned away) or completes → when and how, and for a completion
//!   how late against the unit deadline ([`ended`]).
//!
//! Lateness is counted here, not when scoring, because only the writer's update knows the
//! department's calendar (`Lookup`): working time past the deadline after pauses, on the
//! holder's calendar, against the working time the clock allowed. Without a lookup (tests of
//! state alone) or where the calendar cannot count, wall time stands in.
use crate::db::{Conn, OptionalExtension, params};

use super::StoreError;
use super::clocks::Lookup;
use crate::clocks::Counting;

/// How a stint ended (`assignments.ended_how`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    Completed,
    Returned,
    Reassigned,
    /// Another stint began without this one ending by an update (defensive; not expected).
    Replaced,
}

impl End {
    pub fn as_str(self) -> &'static str {
        match self {
            End::Completed => "completed",
            End::Returned => "returned",
            End::Reassigned => "reassigned",
            End::Replaced => "replaced",
        }
    }
}

/// A department is given the case at `given_at` (its clocks' start), with a sign-for deadline
/// when the rule sets one. A stint still open is closed first: one holder at a time.
pub(super) fn given(
    tx: &Conn,
    case_id: &str,
    department_id: &str,
    given_at: i64,
    sign_due_at: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE assignments SET ended_at = ?2, ended_how = ?3
          WHERE case_id = ?1 AND ended_at IS NULL",
    )?
    .execute(params![case_id, now, End::Replaced.as_str()])?;
    tx.prepare_cached(
        "INSERT INTO assignments (case_id, department_id, given_at, sign_due_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![case_id, department_id, given_at, sign_due_at])?;
    Ok(())
}

/// The holder signed for the case at `now`.
pub(super) fn responded(
    tx: &Conn,
    case_id: &str,
    now: i64,
    lookup: Option<&Lookup>,
) -> Result<(), StoreError> {
    let Some((seq, clocks)) = open(tx, case_id, lookup)? else {
        return Ok(());
    };
    let (late, allowed) = clocks.sign_lateness(now);
    tx.prepare_cached(
        "UPDATE assignments SET responded_at = ?2, sign_late_ms = ?3, sign_allowed_ms = ?4
          WHERE seq = ?1 AND responded_at IS NULL",
    )?
    .execute(params![seq, now, late, allowed])?;
    Ok(())
}

/// The holder let go of the case, or completed it, at `now`. Call before the unit's clocks
/// are replaced or removed. A return is an answer too (a prompt "not ours"); a stint never
/// answered is late until it ended.
pub(super) fn ended(
    tx: &Conn,
    case_id: &str,
    now: i64,
    how: End,
    lookup: Option<&Lookup>,
) -> Result<(), StoreError> {
    let Some((seq, clocks)) = open(tx, case_id, lookup)? else {
        return Ok(());
    };
    let (sign_late, sign_allowed) = clocks.sign_lateness(now);
    let responded = (how == End::Returned).then_some(now);
    tx.prepare_cached(
        "UPDATE assignments SET responded_at = ?2, sign_late_ms = ?3, sign_allowed_ms = ?4
          WHERE seq = ?1 AND responded_at IS NULL",
    )?
    .execute(params![seq, responded, sign_late, sign_allowed])?;
    let completion = (how == End::Completed).then(|| clocks.completion_lateness(now));
    tx.prepare_cached(
        "UPDATE assignments SET ended_at = ?2, ended_how = ?3, unit_due_at = ?4, late_ms = ?5,
                allowed_ms = ?6
          WHERE seq = ?1",
    )?
    .execute(params![
        seq,
        now,
        how.as_str(),
        completion.map(|c| c.0),
        completion.map(|c| c.1),
        completion.map(|c| c.2),
    ])?;
    Ok(())
}

/// The open stint's clocks as they stand, with how to count the holder's time.
struct Clocks {
    given_at: i64,
    sign_due_at: Option<i64>,
    unit_due_at: Option<i64>,
    paused_at: Option<i64>,
    paused_ms: i64,
    around_the_clock: bool,
    department_id: String,
    lookup: Option<Lookup>,
}

impl Clocks {
    /// Counted time in `[from, to)` on the holder's calendar; wall time where it cannot count.
    fn between(&self, from: i64, to: i64) -> i64 {
        let rules = self.lookup.as_ref().map(|l| l.0.rules(&self.department_id));
        rules
            .as_ref()
            .and_then(|r| {
                Counting {
                    calendar: &r.calendar,
                    hours: r.hours,
                    around_the_clock: self.around_the_clock,
                }
                .between(from, to)
                .ok()
            })
            .unwrap_or((to - from).max(0))
    }

    /// (late, allowed) against `due` at `now`. Time the clocks stand (a pause in force) is
    /// not the department's; earlier pauses already moved `due` on and are taken off the
    /// time allowed.
    fn lateness(&self, due: i64, now: i64) -> (i64, i64) {
        let until = self.paused_at.map_or(now, |p| p.min(now));
        let late = if until > due {
            self.between(due, until)
        } else {
            0
        };
        let allowed = (self.between(self.given_at, due) - self.paused_ms).max(0);
        (late, allowed)
    }

    fn sign_lateness(&self, now: i64) -> (i64, i64) {
        self.sign_due_at
            .map_or((0, 0), |due| self.lateness(due, now))
    }

    /// (unit deadline, late, allowed); no deadline known counts as on time.
    fn completion_lateness(&self, now: i64) -> (Option<i64>, i64, i64) {
        match self.unit_due_at {
            Some(due) => {
                let (late, allowed) = self.lateness(due, now);
                (Some(due), late, allowed)
            }
            None => (None, 0, 0),
        }
    }
}

/// The case's open stint and its clocks: the unit's clocks when it has them (moved on by
/// pauses and extensions), else what the stint recorded and the case's unit deadline.
fn open(
    tx: &Conn,
    case_id: &str,
    lookup: Option<&Lookup>,
) -> Result<Option<(i64, Clocks)>, StoreError> {
    let stint: Option<(i64, String, i64, Option<i64>)> = tx
        .prepare_cached(
            "SELECT seq, department_id, given_at, sign_due_at FROM assignments
              WHERE case_id = ?1 AND ended_at IS NULL ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![case_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((seq, department_id, given_at, sign_due_at)) = stint else {
        return Ok(None);
    };
    let unit = tx
        .prepare_cached(
            "SELECT started_at, sign_red_at, red_at, around_the_clock, paused_at, paused_ms
               FROM unit_clocks WHERE case_id = ?1 AND department_id = ?2",
        )?
        .query_row(params![case_id, department_id], |r| {
            Ok(Clocks {
                given_at: r.get(0)?,
                sign_due_at: r.get(1)?,
                unit_due_at: Some(r.get(2)?),
                around_the_clock: r.get(3)?,
                paused_at: r.get(4)?,
                paused_ms: r.get(5)?,
                department_id: department_id.clone(),
                lookup: lookup.cloned(),
            })
        })
        .optional()?;
    let clocks = match unit {
        Some(c) => c,
        None => Clocks {
            given_at,
            sign_due_at,
            unit_due_at: tx
                .prepare_cached(
                    "SELECT COALESCE(unit_due_at, due_at) FROM cases WHERE case_id = ?1",
                )?
                .query_row(params![case_id], |r| r.get(0))
                .optional()?,
            paused_at: None,
            paused_ms: 0,
            around_the_clock: true,
            department_id,
            lookup: lookup.cloned(),
        },
    };
    Ok(Some((seq, clocks)))
}
