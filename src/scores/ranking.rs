//! Departments ranked over a period (the seeds: on satisfaction, completion rate and
//! timeliness; here also on the average score), from stored case scores alone.
//!
//! Measures, per department, over its scored cases whose `counted_at` is in the period:
//! - **average score**: the mean of the case totals;
//! - **satisfaction rate** (满意率): ratings 满意 or 基本满意 ÷ all ratings, counting every
//!   reporter's rating (a case ten people rated weighs ten times one rated once: the rate is
//!   what citizens said). Unrated cases are not in it (no rate without ratings; they are
//!   counted in `unrated`);
//! - **completion rate** (按期办结率): cases completed by the unit deadline and never reopened ÷
//!   cases completed (a case handed on unjustifiably is in the average and timeliness, not
//!   here);
//! - **timeliness** (及时签收率): cases whose every assignment was signed for (or returned) in
//!   time ÷ cases;
//! - **repeat complaints** (二次办理): reopenings, summed.
//!
//! Ranks are "1, 1, 3": a department's rank is 1 + the number of departments strictly better
//! on that measure; equal means exactly equal (fractions compared by cross-multiplying). A
//! department without a rate (no ratings) ranks after all that have one. Where ranks tie,
//! lists are in department id order, so the same scores always give the same table.
use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::points::{Hundredths, Rate, div_round};
use super::score::{CaseScore, RatingCounts};

/// `[from, until)` in ms since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: i64,
    pub until: i64,
}

impl Period {
    /// Every case, whenever it counts.
    pub const ALL: Period = Period {
        from: i64::MIN,
        until: i64::MAX,
    };

    pub fn contains(self, at: i64) -> bool {
        self.from <= at && at < self.until
    }
}

/// What departments are ranked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Score,
    Satisfaction,
    Completion,
    Timeliness,
}

/// One department's figures and ranks over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentStats {
    pub department_id: String,
    /// Scored cases in the period.
    pub cases: u32,
    /// Of those, completed by the department (办结).
    pub closed: u32,
    /// Sum of the case totals, in hundredths (the exact average is `score_sum / cases`).
    pub score_sum: u64,
    /// The average score, rounded half up to a hundredth.
    pub average: Hundredths,
    pub ratings: RatingCounts,
    /// Completed cases nobody rated.
    pub unrated: u32,
    pub satisfaction: Rate,
    pub completion: Rate,
    pub timeliness: Rate,
    /// 二次办理, summed.
    pub reopens: u32,
    pub ranks: Ranks,
}

/// A department's place on each measure (1 is best).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ranks {
    pub score: u32,
    pub satisfaction: u32,
    pub completion: u32,
    pub timeliness: u32,
}

impl DepartmentStats {
    fn new(department_id: &str) -> Self {
        Self {
            department_id: department_id.to_owned(),
            cases: 0,
            closed: 0,
            score_sum: 0,
            average: Hundredths(0),
            ratings: RatingCounts::default(),
            unrated: 0,
            satisfaction: Rate::default(),
            completion: Rate::default(),
            timeliness: Rate::default(),
            reopens: 0,
            ranks: Ranks::default(),
        }
    }

    pub fn rank(&self, m: Measure) -> u32 {
        match m {
            Measure::Score => self.ranks.score,
            Measure::Satisfaction => self.ranks.satisfaction,
            Measure::Completion => self.ranks.completion,
            Measure::Timeliness => self.ranks.timeliness,
        }
    }

    /// How `self` compares with `other` on `m`: Greater is better.
    pub fn cmp_on(&self, other: &DepartmentStats, m: Measure) -> Ordering {
        match m {
            // Exact averages: sum_a / n_a against sum_b / n_b.
            Measure::Score => (u128::from(self.score_sum) * u128::from(other.cases))
                .cmp(&(u128::from(other.score_sum) * u128::from(self.cases))),
            Measure::Satisfaction => self.satisfaction.cmp_share(other.satisfaction),
            Measure::Completion => self.completion.cmp_share(other.completion),
            Measure::Timeliness => self.timeliness.cmp_share(other.timeliness),
        }
    }
}

/// Every department with a scored case in `period`, in department id order, with its ranks.
/// Give each (case, department) once: a re-scored case (a late rating) replaces its old score.
pub fn rank(scores: &[CaseScore], period: Period) -> Vec<DepartmentStats> {
    let mut by_dept: BTreeMap<&str, DepartmentStats> = BTreeMap::new();
    // Numerators kept apart from the rates until the end.
    let mut on_time_closed: BTreeMap<&str, u32> = BTreeMap::new();
    let mut timely: BTreeMap<&str, u32> = BTreeMap::new();
    for s in scores
        .iter()
        .filter(|s| period.contains(s.summary.counted_at))
    {
        let id = s.department_id.as_str();
        let d = by_dept
            .entry(id)
            .or_insert_with(|| DepartmentStats::new(id));
        let sum = &s.summary;
        d.cases = d.cases.saturating_add(1);
        d.score_sum = d.score_sum.saturating_add(u64::from(s.total.0));
        if sum.completed {
            d.closed = d.closed.saturating_add(1);
            if sum.completed_on_time && sum.reopened == 0 {
                let n = on_time_closed.entry(id).or_default();
                *n = n.saturating_add(1);
            }
            if sum.ratings.total() == 0 {
                d.unrated = d.unrated.saturating_add(1);
            }
        }
        if sum.responded_on_time {
            let n = timely.entry(id).or_default();
            *n = n.saturating_add(1);
        }
        d.reopens = d.reopens.saturating_add(sum.reopened);
        let r = &mut d.ratings;
        r.satisfied = r.satisfied.saturating_add(sum.ratings.satisfied);
        r.basically_satisfied = r
            .basically_satisfied
            .saturating_add(sum.ratings.basically_satisfied);
        r.dissatisfied = r.dissatisfied.saturating_add(sum.ratings.dissatisfied);
        r.unsolved = r.unsolved.saturating_add(sum.ratings.unsolved);
    }
    let mut out: Vec<DepartmentStats> = by_dept
        .into_values()
        .map(|mut d| {
            let id = d.department_id.as_str();
            d.average = Hundredths(
                u32::try_from(div_round(u128::from(d.score_sum), u128::from(d.cases)))
                    .unwrap_or(u32::MAX),
            );
            d.satisfaction = Rate::new(d.ratings.content(), d.ratings.total());
            d.completion = Rate::new(on_time_closed.get(id).copied().unwrap_or(0), d.closed);
            d.timeliness = Rate::new(timely.get(id).copied().unwrap_or(0), d.cases);
            d
        })
        .collect();
    // O(n²) in departments (a city has tens to a few hundred); plainly right beats clever.
    let places = |m: Measure| -> Vec<u32> {
        out.iter()
            .map(|d| {
                let better = out
                    .iter()
                    .filter(|o| o.cmp_on(d, m) == Ordering::Greater)
                    .count();
                u32::try_from(better).unwrap_or(u32::MAX).saturating_add(1)
            })
            .collect()
    };
    let (score, satisfaction, completion, timeliness) = (
        places(Measure::Score),
        places(Measure::Satisfaction),
        places(Measure::Completion),
        places(Measure::Timeliness),
    );
    for (i, d) in out.iter_mut().enumerate() {
        d.ranks = Ranks {
            score: score[i],
            satisfaction: satisfaction[i],
            completion: completion[i],
            timeliness: timeliness[i],
        };
    }
    out
}

/// The table for one measure: by rank, ties in department id order.
pub fn standings(stats: &[DepartmentStats], m: Measure) -> Vec<&DepartmentStats> {
    let mut v: Vec<&DepartmentStats> = stats.iter().collect();
    v.sort_by(|a, b| {
        a.rank(m)
            .cmp(&b.rank(m))
            .then_with(|| a.department_id.cmp(&b.department_id))
    });
    v
}
