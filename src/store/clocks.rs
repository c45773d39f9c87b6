//! The clocks of each open unit, kept in the store (`unit_clocks`), and the supervision
//! events they cause. Timers are due times in a table, not in memory: a restarted gateway
//! finds every clock where it was, and the scheduler asks only for rows whose `next_at` has
//! come (a partial index), never for every open case.
//!
//! Each change of a case that matters to its clocks happens in the transaction that makes it:
//! a new holder starts fresh clocks, signing stops the sign-for clock, a pause (extension
//! request, 补办件 waiting for the citizen) holds them and the resume moves them on by exactly
//! the working time they stood, completion removes them. Such a change sets `next_at` to now,
//! so the scheduler looks at the unit again with the current escalation chain.
use std::sync::Arc;

use crate::db::{Conn, OptionalExtension, params};

use super::{ClockRules, RouteDecision, StoreError};
use crate::clocks::escalation::Policy;
use crate::clocks::evaluate::{Sent, Unit};
use crate::clocks::{Clock, Counting, Light};

/// What the writer asks about clocks that the router knows: how a department's time counts,
/// and the escalation policies in force (a reload changes them for every open case).
pub trait ClockLookup: Send + Sync {
    fn rules(&self, department_id: &str) -> ClockRules;
    fn policy(&self, id: &str) -> Option<Arc<Policy>>;
}

/// A [`ClockLookup`] carried in commands.
#[derive(Clone)]
pub struct Lookup(pub Arc<dyn ClockLookup>);

impl std::fmt::Debug for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lookup")
    }
}

/// One unit's row, as the scheduler and the handling path read it.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub department_id: String,
    pub unit: Unit,
    pub around_the_clock: bool,
    pub paused_at: Option<i64>,
    pub policy: Option<String>,
    pub sent: Vec<Sent>,
}

impl Row {
    /// How this unit's time counts.
    pub fn counting<'a>(&self, rules: &'a ClockRules) -> Counting<'a> {
        Counting {
            calendar: &rules.calendar,
            hours: rules.hours,
            around_the_clock: self.around_the_clock,
        }
    }
}

/// Starts the clocks of `route`'s department on `case_id` at `now` (a new case, or a case
/// handed to another department). `look_now` makes the scheduler look at once (a handover:
/// a chain may fire on the return count); otherwise the first light is the first thing due.
pub(super) fn start(
    tx: &Conn,
    case_id: &str,
    route: &RouteDecision,
    now: i64,
    look_now: bool,
) -> Result<(), StoreError> {
    let (sign, complete, around, escalation_at) = match route.clocks {
        Some(c) => (
            c.sign_for,
            c.complete,
            c.around_the_clock,
            c.first_escalation_at,
        ),
        // The calendar could not count them (the deadline itself then fell back to Monday to
        // Friday): yellow at half the wall time, so the unit still lights up.
        None => (
            None,
            Clock {
                yellow_at: now + (route.due_at_ms - now).max(0) / 2,
                red_at: route.due_at_ms,
            },
            true,
            // Without counted clocks the scheduler works the chain out on its first look.
            route.escalation.as_ref().map(|_| now),
        ),
    };
    let first = [
        Some(complete.yellow_at),
        sign.map(|s| s.yellow_at),
        escalation_at,
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(complete.yellow_at);
    let next = if look_now {
        route.counted_from_ms.min(now)
    } else {
        first
    };
    tx.prepare_cached(
        // A new holder's clocks replace the last one's whole: what is not given here goes back
        // to its default.
        "INSERT INTO unit_clocks (case_id, department_id, started_at, sign_yellow_at,
                sign_red_at, yellow_at, red_at, around_the_clock, policy, next_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (case_id) DO UPDATE SET
                department_id = excluded.department_id, started_at = excluded.started_at,
                sign_yellow_at = excluded.sign_yellow_at, sign_red_at = excluded.sign_red_at,
                signed_at = NULL, yellow_at = excluded.yellow_at, red_at = excluded.red_at,
                around_the_clock = excluded.around_the_clock, sign_light = 1, light = 1,
                paused_at = NULL, paused_ms = 0, policy = excluded.policy, sent = '',
                next_at = excluded.next_at",
    )?
    .execute(params![
        case_id,
        route.department_id,
        // The instant routing counted the clocks from (a moment before this commit).
        route.counted_from_ms,
        sign.map(|s| s.yellow_at),
        sign.map(|s| s.red_at),
        complete.yellow_at,
        complete.red_at,
        around,
        route.escalation,
        next,
    ])?;
    // The department's stint begins with its clocks (the scores' per-assignment history).
    super::stints::given(
        tx,
        case_id,
        &route.department_id,
        route.counted_from_ms,
        sign.map(|s| s.red_at),
        now,
    )?;
    Ok(())
}

/// The holder signed for the case: its sign-for clock and the chain's unsigned steps stop.
pub(super) fn signed(tx: &Conn, case_id: &str, now: i64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE unit_clocks SET signed_at = ?2, next_at = CASE WHEN paused_at IS NULL THEN CAST(?2 AS BIGINT) END
          WHERE case_id = ?1",
    )?
    .execute(params![case_id, now])?;
    Ok(())
}

/// The clocks stand from `now` (an extension request, or the citizen is waiting to bring
/// documents). A second pause keeps the first's start.
pub(super) fn pause(tx: &Conn, case_id: &str, now: i64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE unit_clocks SET paused_at = COALESCE(paused_at, ?2), next_at = NULL
          WHERE case_id = ?1",
    )?
    .execute(params![case_id, now])?;
    Ok(())
}

/// The clocks run again at `now`, moved on by exactly the counted time they stood. With
/// `new_due` (an approved extension) the completion clock runs to that deadline instead.
/// Returns the unit deadline after it (None when the case has no clocks).
pub(super) fn resume(
    tx: &Conn,
    case_id: &str,
    now: i64,
    lookup: Option<&Lookup>,
    new_due: Option<i64>,
) -> Result<Option<i64>, StoreError> {
    let Some(row) = read(tx, case_id)? else {
        return Ok(None);
    };
    let Some(lookup) = lookup else {
        return Ok(Some(row.unit.complete.red_at));
    };
    let rules = lookup.0.rules(&row.department_id);
    let k = row.counting(&rules);
    let held = match row.paused_at {
        Some(at) => k.between(at, now).unwrap_or((now - at).max(0)),
        None => 0,
    };
    let shift = |c: Clock| {
        k.shifted(c, held).unwrap_or(Clock {
            yellow_at: c.yellow_at + held,
            red_at: c.red_at + held,
        })
    };
    let complete = match new_due {
        Some(due) => k
            .clock(row.unit.started_at, due, rules.yellow_share)
            .unwrap_or(Clock {
                yellow_at: due.min(shift(row.unit.complete).yellow_at),
                red_at: due,
            }),
        None => shift(row.unit.complete),
    };
    let sign = row.unit.sign.filter(|_| !row.unit.signed).map(shift);
    tx.prepare_cached(
        "UPDATE unit_clocks SET paused_at = NULL, paused_ms = paused_ms + ?2,
                sign_yellow_at = ?3, sign_red_at = ?4, yellow_at = ?5, red_at = ?6, next_at = ?7
          WHERE case_id = ?1",
    )?
    .execute(params![
        case_id,
        held,
        sign.map(|s| s.yellow_at),
        sign.map(|s| s.red_at),
        complete.yellow_at,
        complete.red_at,
        now,
    ])?;
    Ok(Some(complete.red_at))
}

/// The unit is done (completed): nothing more is timed.
pub(super) fn stop(tx: &Conn, case_id: &str) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM unit_clocks WHERE case_id = ?1")?
        .execute(params![case_id])?;
    Ok(())
}

/// Whether the unit's clocks stand.
pub(super) fn is_paused(tx: &Conn, case_id: &str) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached("SELECT paused_at IS NOT NULL FROM unit_clocks WHERE case_id = ?1")?
        .query_row(params![case_id], |r| r.get::<bool>(0))
        .optional()?
        .unwrap_or(false))
}

pub(super) fn read(tx: &Conn, case_id: &str) -> Result<Option<Row>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT department_id, started_at, sign_yellow_at, sign_red_at, signed_at, yellow_at,
                    red_at, around_the_clock, sign_light, light, paused_at, policy, sent,
                    (SELECT COUNT(*) FROM handovers h WHERE h.case_id = u.case_id
                                                        AND h.how = 'returned')
               FROM unit_clocks u WHERE case_id = ?1",
        )?
        .query_row(params![case_id], |r| {
            let sign = match (r.get::<Option<i64>>(2)?, r.get::<Option<i64>>(3)?) {
                (Some(yellow_at), Some(red_at)) => Some(Clock { yellow_at, red_at }),
                _ => None,
            };
            let light = |v: i32| Light::from_i32(v).unwrap_or(Light::Green);
            Ok(Row {
                department_id: r.get(0)?,
                unit: Unit {
                    started_at: r.get(1)?,
                    sign,
                    signed: r.get::<Option<i64>>(4)?.is_some(),
                    complete: Clock {
                        yellow_at: r.get(5)?,
                        red_at: r.get(6)?,
                    },
                    sign_light: light(r.get(8)?),
                    complete_light: light(r.get(9)?),
                    returns: r.get(13)?,
                },
                around_the_clock: r.get(7)?,
                paused_at: r.get(10)?,
                policy: r.get(11)?,
                sent: decode_sent(&r.get::<String>(12)?),
            })
        })
        .optional()?)
}

/// `sent` as stored: `sends:last_at` per step, comma-separated (steps are few).
pub(super) fn encode_sent(sent: &[Sent]) -> String {
    sent.iter()
        .map(|s| format!("{}:{}", s.sends, s.last_at))
        .collect::<Vec<_>>()
        .join(",")
}

fn decode_sent(s: &str) -> Vec<Sent> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, at) = p.split_once(':').unwrap_or((p, "0"));
            Sent {
                sends: n.parse().unwrap_or(0),
                last_at: at.parse().unwrap_or(0),
            }
        })
        .collect()
}
