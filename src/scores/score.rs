//! What a case's score says: the total, each part's points with its explained deductions,
//! and the summary the rankings count, so `GetDepartmentScores` can show why a department
//! scored what it did from the kept score alone. Serde, so the store keeps it as JSON.
use serde::{Deserialize, Serialize};

use super::facts::{Rating, Satisfaction};
use super::points::Hundredths;

/// A case's score for a department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseScore {
    pub case_id: String,
    pub department_id: String,
    /// 0.00..=100.00: the parts' points weighted.
    pub total: Hundredths,
    /// Responsiveness, cooperation, completion, satisfaction, in that order.
    pub parts: Vec<PartScore>,
    pub summary: Summary,
}

/// The four parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// 响应度: signing for in time.
    Responsiveness,
    /// 配合度: not bouncing cases that are one's own.
    Cooperation,
    /// 办结度: completing in time, verified, without redo.
    Completion,
    /// 满意度: what the reporters said.
    Satisfaction,
}

/// One part of a score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartScore {
    pub part: Part,
    /// Weight in percent.
    pub weight: u32,
    /// 0..=100: 100 less the deductions.
    pub points: u32,
    /// What the part adds to the total.
    pub weighted: Hundredths,
    pub deductions: Vec<Deduction>,
}

/// Why a part lost points. A 0-point entry explains something that did not cost (a justified
/// return).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deduction {
    pub rule: Rule,
    pub points: u32,
    pub reason: String,
}

/// Which rule a deduction applied (stable names, for filtering and counting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    LateSignFor,
    JustifiedHandover,
    UnjustifiedHandover,
    LateCompletion,
    NotVerified,
    Reopened,
    NotCompleted,
    Ratings,
    Unrated,
    HandedOn,
}

/// What the rankings count of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    /// The instant the case counts at in a period: its completion, or for a department that
    /// handed it on, its last handover.
    pub counted_at: i64,
    /// The department completed the case (办结).
    pub completed: bool,
    /// Completed by the unit deadline.
    pub completed_on_time: bool,
    /// 二次办理 (repeat complaints).
    pub reopened: u32,
    /// Every assignment answered (signed for or returned) within its sign-for time.
    pub responded_on_time: bool,
    /// The reporters' ratings, when the department completed the case.
    pub ratings: RatingCounts,
}

/// Ratings by answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RatingCounts {
    pub satisfied: u32,
    pub basically_satisfied: u32,
    pub dissatisfied: u32,
    /// Of those, how many said the problem was not solved.
    pub unsolved: u32,
}

impl RatingCounts {
    pub fn total(self) -> u32 {
        self.satisfied
            .saturating_add(self.basically_satisfied)
            .saturating_add(self.dissatisfied)
    }

    /// 满意 + 基本满意: what the satisfaction rate counts as satisfied.
    pub fn content(self) -> u32 {
        self.satisfied.saturating_add(self.basically_satisfied)
    }

    pub(crate) fn of(ratings: &[Rating]) -> RatingCounts {
        let mut c = RatingCounts::default();
        for r in ratings {
            let n = match r.satisfaction {
                Satisfaction::Satisfied => &mut c.satisfied,
                Satisfaction::BasicallySatisfied => &mut c.basically_satisfied,
                Satisfaction::Dissatisfied => &mut c.dissatisfied,
            };
            *n = n.saturating_add(1);
            if r.solved == Some(false) {
                c.unsolved = c.unsolved.saturating_add(1);
            }
        }
        c
    }
}
