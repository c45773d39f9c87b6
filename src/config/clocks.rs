//! `[clocks]` in `config/routing.toml`: how the closed loop's clocks count (see
//! [`crate::clocks`]). Routing owns it because the deadlines the clocks run to are the routing
//! rules' deadlines, counted on the departments' calendars.
//!
//! ```toml
//! [clocks]
//! working_hours = "09:00-17:30"    # the hours of a working day in which clocks run
//! sign_for_working_hours = 4       # default for rules without their own
//! yellow_share = 0.5               # yellow once half of a clock's working time has passed
//! escalation = "standard"          # default escalation chain for rules without their own
//! ```
use serde::Deserialize;

use super::problem::Problems;
use crate::clocks::WorkingHours;

/// How clocks count.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClocksConfig {
    /// The hours of a working day, local time, `HH:MM-HH:MM`: clocks run inside them on working
    /// days of the department's calendar (around the clock on `every-day` calendars and for
    /// deadlines in hours).
    pub working_hours: String,
    /// Working hours a department has to sign for (签收) a case dispatched to it, unless its
    /// rule sets `sign_for_working_hours`. 0 turns the sign-for clock off.
    pub sign_for_working_hours: u32,
    /// The share of a clock's working time after which its light turns yellow, strictly
    /// between 0 and 1 (the seeds: half).
    pub yellow_share: f64,
    /// The escalation chain (`[[escalation]] id`) of units whose rule names none; `""` (the
    /// default) for none. Checked against the declared chains when the router compiles.
    pub escalation: String,
}

impl Default for ClocksConfig {
    fn default() -> Self {
        Self {
            working_hours: "09:00-17:30".to_owned(),
            sign_for_working_hours: 4,
            yellow_share: 0.5,
            escalation: String::new(),
        }
    }
}

impl ClocksConfig {
    /// The working day's hours; the default when they do not parse (reported by `check`).
    pub fn hours(&self) -> WorkingHours {
        WorkingHours::parse(&self.working_hours).unwrap_or_default()
    }

    /// The default escalation chain's id, None for `""`.
    pub fn default_escalation(&self) -> Option<&str> {
        Some(self.escalation.as_str()).filter(|id| !id.is_empty())
    }

    /// Records every problem under `clocks.*` but `clocks.escalation`, which needs the chains
    /// (see [`super::escalation::check_ref`]).
    pub fn check(&self, p: &mut Problems) {
        if let Err(e) = WorkingHours::parse(&self.working_hours) {
            p.add("clocks.working_hours", e.to_string());
        }
        if !(self.yellow_share > 0.0 && self.yellow_share < 1.0) {
            p.add(
                "clocks.yellow_share",
                format!(
                    "{} is not a share: use a number strictly between 0 and 1 (0.5: yellow at half time)",
                    self.yellow_share
                ),
            );
        }
        // One week of working hours is far beyond any sign-for rule the seeds give (2 to 24).
        if self.sign_for_working_hours > 24 * 7 {
            p.add(
                "clocks.sign_for_working_hours",
                "at most 168 (use deadlines for longer spans)",
            );
        }
    }
}
