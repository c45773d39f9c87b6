//! What a score is computed from: one department's record on one case (一事一评), as facts the
//! gateway keeps — assignments and their sign-for clocks, handovers (退单 / 改派), the
//! completion, and every reporter's rating. Plain data with serde, so the lead can store the
//! facts as JSON beside the score and recompute it when the rules change.
//!
//! Times are ms since the epoch. Lateness is working time, counted by the caller on the
//! department's calendar (`clocks::WorkingHours::between`): this module has no calendar, so a
//! weekend between a deadline and a sign-for costs nothing here either.
use serde::{Deserialize, Serialize};

/// One department's record on one case. If a case came back to the department (改派 after a
/// return), its stints are one record: the department is rated once per case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFacts {
    pub case_id: String,
    pub department_id: String,
    /// Every time the case was given to the department (dispatch, re-dispatch, reassignment),
    /// in order.
    pub assignments: Vec<Assignment>,
    /// Every time the department let go of the case, in order.
    #[serde(default)]
    pub handovers: Vec<Handover>,
    pub outcome: Outcome,
    /// The last rating of each reporter of every ticket merged into the case (谁呼谁评: all
    /// of them, not only the first). Ignored when the department handed the case on.
    #[serde(default)]
    pub ratings: Vec<Rating>,
}

/// The case given to the department once, and how fast it answered (签收).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// When the department was given the case (its clocks' start, `unit_clocks.started_at`).
    pub given_at: i64,
    /// The sign-for deadline; None when the rule sets no sign-for clock.
    #[serde(default)]
    pub sign_due_at: Option<i64>,
    /// When it signed for the case, or returned it unsigned (a prompt "not ours" is an answer
    /// too); None if it never did before the case left it.
    #[serde(default)]
    pub responded_at: Option<i64>,
    /// Working time past `sign_due_at` when it responded or, if it never did, when the case
    /// left it; zero when on time or without a sign-for clock. `allowed_ms` is the sign-for
    /// clock's working time (`sign_for_working_hours`).
    #[serde(default)]
    pub late: Lateness,
}

/// How late something was, in working time, against the working time it was allowed.
/// The caller counts both on the department's calendar, after pauses (a clock that stood for
/// an extension request or for the citizen does not count that time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lateness {
    /// Working ms past the deadline; 0 (or less) is on time.
    pub late_ms: i64,
    /// Working ms the clock allowed, from start to deadline. A penalty grows with
    /// `late_ms / allowed_ms`, so an hour late on a 4-hour sign-for costs more than an hour
    /// late on a 13-day completion.
    pub allowed_ms: i64,
}

impl Lateness {
    pub const ON_TIME: Lateness = Lateness {
        late_ms: 0,
        allowed_ms: 0,
    };

    pub fn is_late(self) -> bool {
        self.late_ms > 0
    }
}

/// The department let go of the case (a row of `handovers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handover {
    pub at: i64,
    pub how: HandoverKind,
    /// The department's reason, for a return.
    #[serde(default)]
    pub reason: Option<ReturnReason>,
    /// The case was given to this department again afterwards (the coordination centre, or
    /// the rules, sent it back): the evidence that it was the department's after all.
    #[serde(default)]
    pub came_back: bool,
    /// The coordination centre's explicit judgement, when it gave one; wins over the evidence.
    #[serde(default)]
    pub ruling: Option<Verdict>,
}

/// How a department let go of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoverKind {
    /// 退单: the department returned it.
    Returned,
    /// 改派: the coordination centre took it away and gave it to another department.
    Reassigned,
}

/// Why a department returned a case (`minhu.v1.ReturnReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    /// 非本单位职责
    NotOurs,
    /// 属地错误
    WrongPlace,
    /// 重复工单
    Duplicate,
    /// 需上级处理
    NeedsHigherLevel,
    /// 其他
    Other,
}

/// Whether letting go of the case was right: the case really was not the department's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Justified,
    Unjustified,
}

impl Handover {
    /// The verdict on this handover. The coordination centre's ruling, if any; else the
    /// evidence of where the case went:
    /// - it never came back: another department finished it (or the centre reassigned it
    ///   elsewhere), so it was not this one's — justified;
    /// - it came back after a return for 需上级处理: the higher level decided and sent it back
    ///   to be carried out, which is what such a return is for — justified;
    /// - it came back otherwise: it was the department's all along, and the bounce (推诿)
    ///   cost the citizen time — unjustified.
    ///
    /// A department that returns a case another department then does out of goodwill is
    /// presumed right; the centre's ruling is the remedy.
    pub fn verdict(&self) -> Verdict {
        if let Some(v) = self.ruling {
            return v;
        }
        if !self.came_back || self.reason == Some(ReturnReason::NeedsHigherLevel) {
            Verdict::Justified
        } else {
            Verdict::Unjustified
        }
    }
}

/// How the department's part in the case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// 办结: the department completed the case.
    Completed(Completion),
    /// It let go of the case and another department completed it.
    HandedOn,
}

/// The department's completion (办结).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    pub completed_at: i64,
    /// The unit deadline in force (`unit_due_at`: an approved extension moved it).
    pub unit_due_at: i64,
    /// Working time past the unit deadline at the first completion, against the completion
    /// clock's working time. A redo after "not solved" is counted by `reopened`, not here:
    /// a redo always ends after the deadline and would be punished twice.
    #[serde(default)]
    pub late: Lateness,
    pub verification: Verification,
    /// 二次办理: how often the case was reopened because a reporter said it was not solved.
    #[serde(default)]
    pub reopened: u32,
}

/// 核查: whether an inspector (网格员, 数字城管) confirmed the result on site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Confirmed on site.
    Verified,
    /// Inspection was required and did not confirm the result (failed, or never done).
    NotVerified,
    /// No inspection for this kind of case.
    NotRequired,
}

/// One reporter's rating at the 回访 (follow-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    pub satisfaction: Satisfaction,
    /// Whether the reporter said the problem was solved (是否解决); None when not asked.
    #[serde(default)]
    pub solved: Option<bool>,
}

/// The three answers of a satisfaction follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// 满意
    Satisfied,
    /// 基本满意
    BasicallySatisfied,
    /// 不满意
    Dissatisfied,
}

impl Satisfaction {
    pub fn label(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "满意",
            Satisfaction::BasicallySatisfied => "基本满意",
            Satisfaction::Dissatisfied => "不满意",
        }
    }
}

impl CaseFacts {
    /// Whether the department is rated on this case at all (谁应评谁: who answers is rated).
    /// The department that completed it is. One that let go of it is only if a handover was
    /// unjustified: a case that was never its own says nothing about its work, and counting
    /// it would reward departments that are often sent other departments' cases.
    pub fn accountable(&self) -> bool {
        match self.outcome {
            Outcome::Completed(_) => true,
            Outcome::HandedOn => self
                .handovers
                .iter()
                .any(|h| h.verdict() == Verdict::Unjustified),
        }
    }
}
