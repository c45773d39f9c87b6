//! 谁呼谁评 scores kept with their inputs (`case_scores`, migration 12): gathering one
//! department's [`CaseFacts`] on a case from the store, scoring them with the configured
//! [`Rules`], and reading the kept scores of a period for the rankings.
//!
//! [`rescore`] runs in the writer's transaction whenever an input changes — a completion
//! (which also writes `verification_requested` when an inspector must check), a reopen
//! (a citizen's "not solved" or a failed check), each rating, and the inspector's pass
//! (`Action::Verify`, audit `verified`) — so a score is never older than its facts. Recomputing is idempotent: the same facts give the same row, and `computed_at`
//! moves only when the facts or the score changed.
//!
//! Where the facts come from:
//! - assignments: the department's stints (`assignments`, see `stints`);
//! - handovers: `handovers` rows it let go by (returned, reassigned away; a reopen is not a
//!   handover); `came_back` when a later handover gave the case to it again; a return's
//!   reason from the update's `detail.reason`;
//! - the outcome: its first completed stint (deadline and lateness at the first completion;
//!   a redo is counted by `reopened`, the reopens the department's completions caused);
//! - verification (核查), from the audit trail: `verified` after the case's last `complete` →
//!   verified; a `verification_requested` not followed by `verified` → not verified; neither
//!   → not required;
//! - ratings: every reporter's last rating of the department's completions.
use crate::db::{Conn, params};

use super::StoreError;
use crate::pb;
use crate::scores::{
    Assignment, CaseFacts, CaseScore, Completion, Handover, HandoverKind, Lateness, Outcome,
    Period, Rating, ReturnReason, Rules, Satisfaction, Verification, score_case,
};

/// One (case, department) as gathered: its facts, or nothing yet (it holds the case and has
/// not completed it: its record is not finished).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gathered {
    Facts(CaseFacts),
    Unfinished(String),
}

/// A kept score with the facts it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptScore {
    pub facts: CaseFacts,
    pub score: CaseScore,
    /// ms since the epoch.
    pub computed_at: i64,
}

/// Recomputes and keeps the scores of every department that held `case_id`, at `now`, in
/// the caller's transaction. Call it from any writer command that changes an input of a
/// score (completion, reopen, rating, verification); calling it again without a change
/// writes nothing. A department not rated on the case (it let go of a case that was not its
/// own) or whose stint is not finished has no row.
pub(crate) fn rescore(tx: &Conn, rules: &Rules, case_id: &str, now: i64) -> Result<(), StoreError> {
    for g in gather(tx, case_id)? {
        let (department_id, kept) = match g {
            Gathered::Unfinished(d) => (d, None),
            Gathered::Facts(f) => {
                let score = score_case(&f, rules);
                (f.department_id.clone(), score.map(|s| (f, s)))
            }
        };
        let Some((facts, score)) = kept else {
            tx.prepare_cached("DELETE FROM case_scores WHERE case_id = ?1 AND department_id = ?2")?
                .execute(params![case_id, department_id])?;
            continue;
        };
        let json = |e: serde_json::Error| StoreError::Corrupt(format!("case score JSON: {e}"));
        super::score_summaries::keep(
            tx,
            &score,
            &serde_json::to_string(&facts).map_err(json)?,
            &serde_json::to_string(&score).map_err(json)?,
            now,
        )?;
    }
    Ok(())
}

/// The facts of every department that held `case_id`, in the order they first held it.
pub fn gather(tx: &Conn, case_id: &str) -> Result<Vec<Gathered>, StoreError> {
    let holder: Option<(String, i32)> = {
        let mut st =
            tx.prepare_cached("SELECT department_id, status FROM cases WHERE case_id = ?1")?;
        let mut rows = st.query(params![case_id])?;
        match rows.next()? {
            Some(r) => Some((r.get(0)?, r.get(1)?)),
            None => None,
        }
    };
    let Some((holder, status)) = holder else {
        return Ok(Vec::new());
    };
    let done = [
        pb::CaseStatus::Completed as i32,
        pb::CaseStatus::Closed as i32,
    ]
    .contains(&status);
    let stints = stints(tx, case_id)?;
    let handovers = handovers(tx, case_id)?;
    let verification = verification(tx, case_id)?;
    let ratings = ratings(tx, case_id)?;

    let mut departments: Vec<&str> = Vec::new();
    let firsts = stints.iter().map(|s| (s.seq, s.department_id.as_str()));
    let lets_go = handovers
        .iter()
        .filter(|h| h.how != "reopened")
        .map(|h| (h.seq, h.department_id.as_str()));
    for (_, d) in firsts.chain(lets_go) {
        if !departments.contains(&d) {
            departments.push(d);
        }
    }
    let mut out = Vec::with_capacity(departments.len());
    for d in departments {
        let completed = stints
            .iter()
            .find(|s| s.department_id == d && s.ended_how.as_deref() == Some("completed"));
        let outcome = match completed {
            Some(s) => Outcome::Completed(Completion {
                completed_at: s.ended_at.unwrap_or_default(),
                unit_due_at: s.unit_due_at.unwrap_or_default(),
                late: Lateness {
                    late_ms: s.late_ms.unwrap_or(0),
                    allowed_ms: s.allowed_ms.unwrap_or(0),
                },
                verification,
                reopened: count(
                    handovers
                        .iter()
                        .filter(|h| h.how == "reopened" && h.department_id == d),
                ),
            }),
            None if d == holder && !done => {
                out.push(Gathered::Unfinished(d.to_owned()));
                continue;
            }
            None => Outcome::HandedOn,
        };
        let facts = CaseFacts {
            case_id: case_id.to_owned(),
            department_id: d.to_owned(),
            assignments: stints
                .iter()
                .filter(|s| s.department_id == d)
                .map(|s| Assignment {
                    given_at: s.given_at,
                    sign_due_at: s.sign_due_at,
                    responded_at: s.responded_at,
                    late: Lateness {
                        late_ms: s.sign_late_ms,
                        allowed_ms: s.sign_allowed_ms,
                    },
                })
                .collect(),
            handovers: handovers
                .iter()
                .filter(|h| h.department_id == d && h.how != "reopened")
                .map(|h| Handover {
                    at: h.at,
                    how: if h.how == "returned" {
                        HandoverKind::Returned
                    } else {
                        HandoverKind::Reassigned
                    },
                    reason: (h.how == "returned").then(|| return_reason(&h.reason)),
                    came_back: handovers
                        .iter()
                        .any(|later| later.seq > h.seq && later.to_department == d),
                    ruling: None,
                })
                .collect(),
            outcome,
            ratings: if completed.is_some() {
                ratings
                    .iter()
                    .filter(|r| r.department_id == d)
                    .map(|r| r.rating)
                    .collect()
            } else {
                Vec::new()
            },
        };
        out.push(Gathered::Facts(facts));
    }
    Ok(out)
}

fn count<T>(it: impl Iterator<Item = T>) -> u32 {
    u32::try_from(it.count()).unwrap_or(u32::MAX)
}

/// Every kept score counted in `period`, by case and department. With `department_id`, only
/// that department's.
pub fn in_period(
    c: &Conn,
    period: Period,
    department_id: Option<&str>,
) -> Result<Vec<KeptScore>, StoreError> {
    let mut st = c.prepare_cached(
        "SELECT facts, score, computed_at FROM case_scores
          WHERE counted_at >= ?1 AND counted_at < ?2 AND (department_id = ?3 OR ?3 IS NULL)
          ORDER BY case_id, department_id",
    )?;
    let rows = st.query_map(params![period.from, period.until, department_id], |r| {
        Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?))
    })?;
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("case_scores JSON: {e}"));
    let mut out = Vec::new();
    for row in rows {
        let (facts, score, computed_at) = row?;
        out.push(KeptScore {
            facts: serde_json::from_str(&facts).map_err(corrupt)?,
            score: serde_json::from_str(&score).map_err(corrupt)?,
            computed_at,
        });
    }
    Ok(out)
}

/// Returns (退单) per department in `period`, justified or not, by department id.
pub fn returns_in(c: &Conn, period: Period) -> Result<Vec<(String, u32)>, StoreError> {
    let mut st = c.prepare_cached(
        "SELECT department_id, COUNT(*) FROM handovers
          WHERE how = 'returned' AND at >= ?1 AND at < ?2
          GROUP BY department_id ORDER BY department_id",
    )?;
    let rows = st.query_map(params![period.from, period.until], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

struct Stint {
    seq: i64,
    department_id: String,
    given_at: i64,
    sign_due_at: Option<i64>,
    responded_at: Option<i64>,
    sign_late_ms: i64,
    sign_allowed_ms: i64,
    ended_at: Option<i64>,
    ended_how: Option<String>,
    unit_due_at: Option<i64>,
    late_ms: Option<i64>,
    allowed_ms: Option<i64>,
}

fn stints(tx: &Conn, case_id: &str) -> Result<Vec<Stint>, StoreError> {
    let mut st = tx.prepare_cached(
        "SELECT seq, department_id, given_at, sign_due_at, responded_at, sign_late_ms,
                sign_allowed_ms, ended_at, ended_how, unit_due_at, late_ms, allowed_ms
           FROM assignments WHERE case_id = ?1 ORDER BY seq",
    )?;
    let rows = st.query_map(params![case_id], |r| {
        Ok(Stint {
            seq: r.get(0)?,
            department_id: r.get(1)?,
            given_at: r.get(2)?,
            sign_due_at: r.get(3)?,
            responded_at: r.get(4)?,
            sign_late_ms: r.get(5)?,
            sign_allowed_ms: r.get(6)?,
            ended_at: r.get(7)?,
            ended_how: r.get(8)?,
            unit_due_at: r.get(9)?,
            late_ms: r.get(10)?,
            allowed_ms: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

struct HandoverRow {
    seq: i64,
    department_id: String,
    how: String,
    at: i64,
    to_department: String,
    reason: String,
}

fn handovers(tx: &Conn, case_id: &str) -> Result<Vec<HandoverRow>, StoreError> {
    let mut st = tx.prepare_cached(
        "SELECT seq, department_id, how, at, to_department, reason FROM handovers
          WHERE case_id = ?1 ORDER BY seq",
    )?;
    let rows = st.query_map(params![case_id], |r| {
        Ok(HandoverRow {
            seq: r.get(0)?,
            department_id: r.get(1)?,
            how: r.get(2)?,
            at: r.get(3)?,
            to_department: r.get(4)?,
            reason: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A return's reason from the update's detail (`{"reason": "RETURN_REASON_NOT_OURS", …}`);
/// anything unreadable is "other".
fn return_reason(detail: &str) -> ReturnReason {
    let name = serde_json::from_str::<serde_json::Value>(detail)
        .ok()
        .and_then(|v| v["reason"].as_str().map(str::to_owned))
        .unwrap_or_default();
    match pb::ReturnReason::from_str_name(&name) {
        Some(pb::ReturnReason::NotOurs) => ReturnReason::NotOurs,
        Some(pb::ReturnReason::WrongPlace) => ReturnReason::WrongPlace,
        Some(pb::ReturnReason::Duplicate) => ReturnReason::Duplicate,
        Some(pb::ReturnReason::NeedsHigherLevel) => ReturnReason::NeedsHigherLevel,
        _ => ReturnReason::Other,
    }
}

/// 核查 from the audit trail (the 数字城管 verification step writes these events).
fn verification(tx: &Conn, case_id: &str) -> Result<Verification, StoreError> {
    let mut st = tx.prepare_cached(
        "SELECT seq, event FROM audit
          WHERE case_id = ?1 AND event IN ('complete', 'verification_requested', 'verified')
          ORDER BY seq",
    )?;
    let events: Vec<(i64, String)> = st
        .query_map(params![case_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let last = |event: &str| {
        events
            .iter()
            .filter(|(_, e)| e == event)
            .map(|(s, _)| *s)
            .max()
    };
    let (completed, requested, verified) = (
        last("complete"),
        last("verification_requested"),
        last("verified"),
    );
    Ok(match (requested, verified) {
        (_, Some(v)) if completed.is_none_or(|c| v > c) => Verification::Verified,
        (Some(r), v) if v.is_none_or(|v| v < r) => Verification::NotVerified,
        _ => Verification::NotRequired,
    })
}

struct RatingRow {
    department_id: String,
    rating: Rating,
}

/// Each reporter's last rating per department that completed the case (a later round, after
/// a reopen, replaces an earlier one). Ratings without a satisfaction are left out.
fn ratings(tx: &Conn, case_id: &str) -> Result<Vec<RatingRow>, StoreError> {
    let mut st = tx.prepare_cached(
        "SELECT r.department_id, r.satisfaction, r.solved FROM ratings r
          WHERE r.case_id = ?1 AND r.round = (SELECT MAX(round) FROM ratings l
                                               WHERE l.ticket_id = r.ticket_id
                                                 AND l.department_id = r.department_id)
          ORDER BY r.seq",
    )?;
    let rows = st.query_map(params![case_id], |r| {
        Ok((r.get::<String>(0)?, r.get::<i32>(1)?, r.get::<i32>(2)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (department_id, satisfaction, solved) = row?;
        let satisfaction = match pb::Satisfaction::try_from(satisfaction) {
            Ok(pb::Satisfaction::Satisfied) => Satisfaction::Satisfied,
            Ok(pb::Satisfaction::BasicallySatisfied) => Satisfaction::BasicallySatisfied,
            Ok(pb::Satisfaction::Dissatisfied) => Satisfaction::Dissatisfied,
            _ => continue,
        };
        let solved = match pb::Solved::try_from(solved) {
            Ok(pb::Solved::Yes) => Some(true),
            Ok(pb::Solved::No) => Some(false),
            _ => None,
        };
        out.push(RatingRow {
            department_id,
            rating: Rating {
                satisfaction,
                solved,
            },
        });
    }
    Ok(out)
}
