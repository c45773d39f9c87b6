//! The scoring rules as one config struct with defaults, so operators can tune them (a
//! `[scores]` table, read strictly like the rest of the config). Every number a score uses
//! is here; [`Rules::problems`] lists what is wrong with a hand-edited set.
//!
//! ```toml
//! [scores.weights]           # the seeds' 10 / 20 / 30 / 40, whole percentages summing to 100
//! responsiveness = 10
//! cooperation = 20
//! completion = 30
//! satisfaction = 40
//!
//! [scores.responsiveness]    # late sign-for (签收): base + per_window × late/allowed, ≤ max
//! base = 10
//! per_window = 40
//! max = 100
//!
//! [scores.cooperation]
//! unjustified_handover = 50  # per return / reassignment that was not justified
//! justified_handover = 0
//!
//! [scores.completion]
//! late = { base = 20, per_window = 40, max = 60 }
//! not_verified = 20
//! per_reopen = 30
//! not_completed = 100
//!
//! [scores.satisfaction]      # points per rating; a part is their average
//! satisfied = 100
//! basically_satisfied = 80
//! dissatisfied = 0
//! unsolved_cap = 60
//! unrated = 80
//! handed_on = 0
//! ```
use serde::{Deserialize, Serialize};

use super::facts::{Lateness, Rating, Satisfaction};
use super::points::{FULL, div_round};

/// Everything a score depends on besides the facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    /// The four parts' weights (`[scores.weights]`).
    pub weights: Weights,
    /// Deduction from responsiveness (响应度) for each late sign-for.
    pub responsiveness: LatePenalty,
    /// Deductions from cooperation (`[scores.cooperation]`).
    pub cooperation: CooperationRules,
    /// Deductions from completion (`[scores.completion]`).
    pub completion: CompletionRules,
    /// Points per rating (`[scores.satisfaction]`).
    pub satisfaction: SatisfactionRules,
}

/// The parts' weights in whole percent (一事一评: 响应度 10 %, 配合度 20 %, 办结度 30 %,
/// 满意度 40 %). Whole percentages keep a total exact in hundredths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    /// 响应度: signing for in time (default 10).
    pub responsiveness: u32,
    /// 配合度: not bouncing one's own cases (default 20).
    pub cooperation: u32,
    /// 办结度: completing in time, verified, without redo (default 30).
    pub completion: u32,
    /// 满意度: the reporters' ratings (default 40).
    pub satisfaction: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            responsiveness: 10,
            cooperation: 20,
            completion: 30,
            satisfaction: 40,
        }
    }
}

impl Weights {
    pub fn sum(self) -> u32 {
        [
            self.responsiveness,
            self.cooperation,
            self.completion,
            self.satisfaction,
        ]
        .iter()
        .fold(0u32, |a, w| a.saturating_add(*w))
    }
}

/// A deduction for lateness: `base` for being late at all, plus `per_window` points per whole
/// allowed time late (pro rata, rounded half up), at most `max`. Relative to the time allowed
/// so that one rule fits a 4-hour sign-for and a 13-day completion. Given whole in a config
/// file (all three keys): the sign-for's and the completion's defaults differ, so filling a
/// missing key from either would surprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatePenalty {
    /// Points for being late at all.
    pub base: u32,
    /// Points per whole allowed time late, pro rata.
    pub per_window: u32,
    /// The most the lateness can cost.
    pub max: u32,
}

impl Default for LatePenalty {
    /// For a sign-for: 2.5 working hours late on the default 4 is 10 + 40 × 2.5/4 = 35; a whole
    /// window late 50; at most the whole part.
    fn default() -> Self {
        Self {
            base: 10,
            per_window: 40,
            max: FULL,
        }
    }
}

impl LatePenalty {
    /// The deduction for `late`. On time costs nothing; late with no allowed time to measure
    /// against (a clock of zero length) costs `max`.
    pub fn deduction(self, late: Lateness) -> u32 {
        if !late.is_late() {
            return 0;
        }
        if late.allowed_ms <= 0 {
            return self.max;
        }
        let pro_rata = div_round(
            u128::from(self.per_window) * u128::from(late.late_ms.unsigned_abs()),
            u128::from(late.allowed_ms.unsigned_abs()),
        );
        let total = u128::from(self.base).saturating_add(pro_rata);
        u32::try_from(total.min(u128::from(self.max))).unwrap_or(self.max)
    }
}

/// Deductions from cooperation (配合度): letting go of cases that were one's own (推诿).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CooperationRules {
    /// Per return or reassignment away that was not justified (the case came back).
    pub unjustified_handover: u32,
    /// Per justified one: 0 by default, since returning a case that is not yours is what the
    /// rules ask; penalising it would push departments to sit on misrouted cases.
    pub justified_handover: u32,
}

impl Default for CooperationRules {
    fn default() -> Self {
        Self {
            unjustified_handover: 50,
            justified_handover: 0,
        }
    }
}

/// Deductions from completion (办结度).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompletionRules {
    /// Completed after the unit deadline. At most 60 by default: a late completion still
    /// solved the problem, which is worth more than one never completed.
    pub late: LatePenalty,
    /// Inspection (核查) required and not passed.
    pub not_verified: u32,
    /// Per reopening after "not solved" (二次办理): the first completion did not solve it.
    pub per_reopen: u32,
    /// Handed on a case that was its own, so never completed it.
    pub not_completed: u32,
}

impl Default for CompletionRules {
    fn default() -> Self {
        Self {
            late: LatePenalty {
                base: 20,
                per_window: 40,
                max: 60,
            },
            not_verified: 20,
            per_reopen: 30,
            not_completed: FULL,
        }
    }
}

/// Points per rating (满意度 is the average over every reporter's rating).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SatisfactionRules {
    /// 满意
    pub satisfied: u32,
    /// 基本满意
    pub basically_satisfied: u32,
    /// 不满意
    pub dissatisfied: u32,
    /// A rating whose reporter said the problem was not solved counts at most this: content
    /// with the manner, the problem is still there.
    pub unsolved_cap: u32,
    /// A case nobody rated counts as one rating of this many points. 80 (基本满意) by default,
    /// not excluded: were unrated cases left out with the weights renormalised, a department
    /// whose work would be rated badly would gain by not getting ratings (skipping the 回访,
    /// answering reporters itself); at 基本满意, good work is worth getting rated.
    pub unrated: u32,
    /// A department that handed on a case that was its own gets these points: the ratings
    /// are of another department's work.
    pub handed_on: u32,
}

impl Default for SatisfactionRules {
    fn default() -> Self {
        Self {
            satisfied: FULL,
            basically_satisfied: 80,
            dissatisfied: 0,
            unsolved_cap: 60,
            unrated: 80,
            handed_on: 0,
        }
    }
}

impl SatisfactionRules {
    /// The points of one rating.
    pub fn points(&self, r: &Rating) -> u32 {
        let level = match r.satisfaction {
            Satisfaction::Satisfied => self.satisfied,
            Satisfaction::BasicallySatisfied => self.basically_satisfied,
            Satisfaction::Dissatisfied => self.dissatisfied,
        };
        let level = level.min(FULL);
        if r.solved == Some(false) {
            level.min(self.unsolved_cap)
        } else {
            level
        }
    }
}

/// One thing wrong with a set of rules: the key under `scores.` and what would be right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub key: String,
    pub message: String,
}

impl Rules {
    /// Every problem at once (the config module reports them with the file). Scoring with
    /// rules that have problems still stays within 0..=100; it is just not what was meant.
    pub fn problems(&self) -> Vec<RuleProblem> {
        let mut out = Vec::new();
        let mut add = |key: &str, message: String| {
            out.push(RuleProblem {
                key: format!("scores.{key}"),
                message,
            })
        };
        let sum = self.weights.sum();
        if sum != FULL {
            add(
                "weights",
                format!("must sum to 100 (whole percent); they sum to {sum}"),
            );
        }
        let mut at_most_100 = |key: &str, v: u32| {
            if v > FULL {
                add(key, format!("is {v}; points are 0 to 100"));
            }
        };
        let s = &self.satisfaction;
        let c = &self.completion;
        for (key, v) in [
            ("responsiveness.base", self.responsiveness.base),
            ("responsiveness.max", self.responsiveness.max),
            (
                "cooperation.unjustified_handover",
                self.cooperation.unjustified_handover,
            ),
            (
                "cooperation.justified_handover",
                self.cooperation.justified_handover,
            ),
            ("completion.late.base", c.late.base),
            ("completion.late.max", c.late.max),
            ("completion.not_verified", c.not_verified),
            ("completion.per_reopen", c.per_reopen),
            ("completion.not_completed", c.not_completed),
            ("satisfaction.satisfied", s.satisfied),
            ("satisfaction.basically_satisfied", s.basically_satisfied),
            ("satisfaction.dissatisfied", s.dissatisfied),
            ("satisfaction.unsolved_cap", s.unsolved_cap),
            ("satisfaction.unrated", s.unrated),
            ("satisfaction.handed_on", s.handed_on),
        ] {
            at_most_100(key, v);
        }
        if !(s.satisfied >= s.basically_satisfied && s.basically_satisfied >= s.dissatisfied) {
            add(
                "satisfaction",
                "must rank satisfied ≥ basically_satisfied ≥ dissatisfied".into(),
            );
        }
        if c.not_completed < c.late.max {
            add(
                "completion.not_completed",
                format!(
                    "is {}, less than completion.late.max ({}): never completing would cost \
                     less than completing late",
                    c.not_completed, c.late.max
                ),
            );
        }
        out
    }
}
