//! Writing a kept 谁呼谁评 score, and reading a period's ranking from its summary columns.
//!
//! A score row keeps the whole record as JSON (facts and parts, for per-case detail) and,
//! beside it, the summary the ranking counts in plain columns (migration 16). Ranking a period
//! then reads one covering index in `counted_at` order and parses nothing: at 30,000 scored
//! cases the JSON alone is over 100 MB of overflow pages. Both are written from the same
//! [`CaseScore`] in the same statement, so they cannot disagree.
use crate::db::{Conn, params};

use super::StoreError;
use crate::scores::{CaseScore, Hundredths, Period, RatingCounts, Summary};

/// Keeps `score` (with its facts' and its own JSON); rewrites nothing when neither changed.
pub(super) fn keep(
    tx: &Conn,
    score: &CaseScore,
    facts_json: &str,
    score_json: &str,
    now: i64,
) -> Result<(), StoreError> {
    let s = &score.summary;
    tx.prepare_cached(
        "INSERT INTO case_scores (case_id, department_id, counted_at, score_hundredths,
                                  facts, score, computed_at,
                                  completed, completed_on_time, reopened, responded_on_time,
                                  satisfied, basically_satisfied, dissatisfied, unsolved)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (case_id, department_id) DO UPDATE SET
             counted_at = excluded.counted_at, score_hundredths = excluded.score_hundredths,
             facts = excluded.facts, score = excluded.score, computed_at = excluded.computed_at,
             completed = excluded.completed, completed_on_time = excluded.completed_on_time,
             reopened = excluded.reopened, responded_on_time = excluded.responded_on_time,
             satisfied = excluded.satisfied,
             basically_satisfied = excluded.basically_satisfied,
             dissatisfied = excluded.dissatisfied, unsolved = excluded.unsolved
         WHERE case_scores.facts IS DISTINCT FROM excluded.facts
            OR case_scores.score IS DISTINCT FROM excluded.score",
    )?
    .execute(params![
        score.case_id,
        score.department_id,
        s.counted_at,
        score.total.0,
        facts_json,
        score_json,
        now,
        s.completed,
        s.completed_on_time,
        s.reopened,
        s.responded_on_time,
        s.ratings.satisfied,
        s.ratings.basically_satisfied,
        s.ratings.dissatisfied,
        s.ratings.unsolved,
    ])?;
    Ok(())
}

/// Every score counted in `period` as the ranking needs it: department, total and summary
/// (no parts: they are per-case detail), by case and department.
pub(super) fn ranking_in(c: &Conn, period: Period) -> Result<Vec<CaseScore>, StoreError> {
    let mut st = c.prepare_cached(
        "SELECT case_id, department_id, score_hundredths, counted_at,
                completed, completed_on_time, reopened, responded_on_time,
                satisfied, basically_satisfied, dissatisfied, unsolved
           FROM case_scores INDEXED BY case_scores_ranking
          WHERE counted_at >= ?1 AND counted_at < ?2",
    )?;
    let rows = st.query_map(params![period.from, period.until], |r| {
        Ok(CaseScore {
            case_id: r.get(0)?,
            department_id: r.get(1)?,
            total: Hundredths(r.get(2)?),
            parts: Vec::new(),
            summary: Summary {
                counted_at: r.get(3)?,
                completed: r.get(4)?,
                completed_on_time: r.get(5)?,
                reopened: r.get(6)?,
                responded_on_time: r.get(7)?,
                ratings: RatingCounts {
                    satisfied: r.get(8)?,
                    basically_satisfied: r.get(9)?,
                    dissatisfied: r.get(10)?,
                    unsolved: r.get(11)?,
                },
            },
        })
    })?;
    // In counted_at order; the ranking sums per department, so order does not matter.
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
