//! `[handling]` in `config/routing.toml`: how the closed loop treats departments' updates
//! (see [`crate::handling`]). Routing owns it because a return is routed again, and a case that
//! bounced too often goes to the routing fallback, the coordination centre (协调中心).
//!
//! ```toml
//! [handling]
//! max_returns = 2   # the 2nd return sends the case to the coordination centre
//! max_reopens = 1   # one 二次办理 on "not solved"; the next goes to supervision
//! ```
use serde::Deserialize;

use super::problem::Problems;

/// Limits of the department side of the loop.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HandlingConfig {
    /// After this many returns (退单) of one case it is no longer routed by the rules: it goes
    /// to the fallback department (the coordination centre) with its history. Until then each
    /// return routes it again with every department that returned it excluded. The seeds name
    /// bouncing between departments as a known failure, hence a small default.
    pub max_returns: u32,
    /// Times a completed case may be reopened (二次办理) because a reporter rated it "not
    /// solved"; the next "not solved" sends it to the city's supervision (`escalated.city`)
    /// instead, and it stays completed. 0: never reopened, always supervision.
    pub max_reopens: u32,
}

impl Default for HandlingConfig {
    fn default() -> Self {
        Self {
            max_returns: 2,
            max_reopens: 1,
        }
    }
}

impl HandlingConfig {
    /// Records every problem under `handling.*`.
    pub fn check(&self, p: &mut Problems) {
        if self.max_returns == 0 {
            p.add(
                "handling.max_returns",
                "must be at least 1 (1: the first return goes to the coordination centre)",
            );
        }
    }
}
