//! What a merge decision takes in (a [`Probe`]) and gives out (a [`Decision`] with its
//! reasons). Decisions are stored as JSON in the audit trail and read back for `GetTicket` and
//! `minhu tickets explain`, so their shape is kept stable.
use serde::{Deserialize, Serialize};

use super::score::{Signals, Veto};
use super::sketch::Sketch;

/// A new report as the index sees it.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The district code as a number (0 when absent: such reports are never merged).
    pub district: u32,
    /// Taxonomy code, given or inferred; empty when unknown.
    pub category: String,
    /// True when `category` was inferred from the text.
    pub category_inferred: bool,
    pub sketch: Sketch,
}

/// The reasons for one decision, as recorded in the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Decision {
    /// The case joined, if any.
    pub merged_into: Option<String>,
    /// The threshold the best score was held against.
    pub threshold: f64,
    /// The category used ("" when unknown).
    pub category: String,
    /// Whether that category was inferred from the text.
    pub category_inferred: bool,
    /// The best candidates, best first (at most five).
    pub candidates: Vec<Candidate>,
    /// How many open cases were compared in all.
    #[serde(default)]
    pub compared: u32,
    /// The spot the new report names ("银行旁"), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot: Option<String>,
}

/// One case considered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Candidate {
    pub case_id: String,
    /// Weighted score, when not vetoed.
    pub score: Option<f64>,
    pub signals: Option<Signals>,
    pub veto: Option<Veto>,
    /// The spot the case names (see [`super::score::case_spot`]), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot: Option<String>,
}
