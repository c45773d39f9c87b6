//! 谁呼谁评 (who calls rates, who answers is rated): the score arithmetic of the evaluation.
//! Pure: no I/O, no store, no clock; the store feeds it facts and keeps what it returns.
//!
//! - [`facts`]: one department's record on one case (一事一评) — assignments and sign-for
//!   lateness, handovers (退单 / 改派) and whether they were justified, the completion, every
//!   reporter's rating — and who is rated at all.
//! - [`rules`]: every number a score uses (weights 10/20/30/40, penalties, points per
//!   rating), one config struct with defaults, and its validation.
//! - [`case`]: one case's score: four parts, each 100 less its explained deductions, and the
//!   weighted total.
//! - [`score`]: what a score says (points, weights, deductions with reasons, and the summary
//!   the rankings count).
//! - [`ranking`]: departments over a period: cases, average score, satisfaction rate,
//!   completion rate, timeliness, repeat complaints, ranked 1, 1, 3.
//! - [`points`]: the exact arithmetic (whole points, hundredths, fractions, half-up rounding).
//!
//! Flow: the store gathers a [`CaseFacts`] per (case, department) when a case's ratings are
//! in (or its rating window has passed), [`score_case`] turns it into a [`CaseScore`] (None:
//! the department is not rated on that case), both are kept as JSON, and [`rank`] reads the
//! kept scores of a period.
pub mod case;
pub mod facts;
pub mod points;
pub mod ranking;
pub mod rules;
pub mod score;

pub use case::score_case;
pub use facts::{
    Assignment, CaseFacts, Completion, Handover, HandoverKind, Lateness, Outcome, Rating,
    ReturnReason, Satisfaction, Verdict, Verification,
};
pub use points::{Hundredths, Rate};
pub use ranking::{DepartmentStats, Measure, Period, Ranks, rank, standings};
pub use rules::{RuleProblem, Rules};
pub use score::{CaseScore, Deduction, Part, PartScore, RatingCounts, Rule, Summary};

#[cfg(test)]
#[path = "case_tests.rs"]
mod case_tests;
#[cfg(test)]
#[path = "edge_tests.rs"]
mod edge_tests;
#[cfg(test)]
#[path = "ranking_tests.rs"]
mod ranking_tests;
