//! What crosses the store's boundary for departments' updates (see [`crate::handling`]): the
//! update as the writer applies it, and the case as the handling path reads it first.
use crate::handling::machine::Action;
use crate::pb;

use super::RouteDecision;

/// The door an update came in by. An update that came over AMQP has its outcome published to
/// the acting department's outcome queue through the outbox, applied or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Grpc,
    Amqp,
    /// The supervision console's action forms (`crate::console::actions`).
    Console,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Grpc => "grpc",
            Via::Amqp => "amqp",
            Via::Console => "console",
        }
    }
}

/// One department's (or the coordination centre's) update, validated and authorized, for the
/// writer to decide and apply in one transaction.
#[derive(Debug, Clone)]
pub struct CaseUpdate {
    pub header: pb::UpdateHeader,
    pub action: Action,
    /// SHA-256 of the encoded `minhu.v1.CaseUpdate`: same update_id and digest is a duplicate,
    /// same update_id and another digest a conflict.
    pub digest: [u8; 32],
    /// What the audit entry records of the action (note, reason, result, ...).
    pub detail: serde_json::Value,
    /// The authenticated caller's id, when `[auth]` is on.
    pub caller: Option<String>,
    pub via: Via,
    pub step: Step,
    /// How the holder's clocks count, for a pause to move them on (None in unit tests of
    /// the state alone: clocks then keep their instants).
    pub clocks: Option<super::Lookup>,
    /// Refused before the store (invalid, not allowed): nothing is applied or recorded in the
    /// ledger; over AMQP the refusal is still published as the outcome. (gRPC code, message.)
    pub refused: Option<(i32, String)>,
}

/// What an update does beyond the state change.
#[derive(Debug, Clone)]
pub enum Step {
    /// Only the state (sign for, complete).
    Plain,
    /// A progress report; `waiting_for_citizen` stands the clocks (补办件), a later report
    /// without it starts them again.
    Progress { waiting_for_citizen: bool },
    /// The unit deadline asked for, ms since the epoch.
    Extension { new_due_at_ms: i64 },
    /// The coordination centre's answer to a pending extension.
    Decide { approve: bool },
    /// The case changes hands (return, reassign).
    Move(Box<Move>),
}

/// Handing a case to another department, routed before the writer runs.
#[derive(Debug, Clone)]
pub struct Move {
    /// The case version the route was computed at (a return's exclusions depend on it).
    pub base_version: u64,
    pub route: RouteDecision,
    /// The new department takes its dispatches as proto3 JSON.
    pub json: bool,
    /// Publish priority of the REDISPATCH.
    pub priority: u8,
    /// Why it goes there, in words (the dispatch's update_reason).
    pub reason: String,
    /// The case's first report, which the REDISPATCH carries.
    pub ticket_id: String,
    pub accepted_at_ms: i64,
    pub request: pb::Request,
}

/// How the writer decided an update.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    /// Applied (`code` 0) or refused with a gRPC code and message.
    pub outcome: pb::UpdateOutcome,
    /// The answer recorded for an earlier update with the same id and content.
    pub replay: bool,
    /// The department that let the case go, when the update moved it.
    pub left: Option<String>,
    /// The notices to citizens a completion planned (counted once committed).
    pub notices: super::notices::PlannedNotices,
}

/// A case as the handling path reads it before deciding how to route a move.
#[derive(Debug, Clone)]
pub struct CaseSnapshot {
    pub case_id: String,
    pub status: pb::CaseStatus,
    pub version: u64,
    pub department_id: String,
    /// Departments that returned the case, oldest first.
    pub returned_by: Vec<String>,
    /// The case's first report.
    pub ticket_id: String,
    pub accepted_at_ms: i64,
    pub request: pb::Request,
}

/// `ListCases`: one department's cases.
#[derive(Debug, Clone)]
pub struct CaseQuery {
    pub department_id: String,
    /// Empty: every open state.
    pub statuses: Vec<i32>,
    /// Unit deadline before this instant, ms since the epoch.
    pub due_before_ms: Option<i64>,
    /// `minhu.v1.Light` values (empty: any).
    pub lights: Vec<i32>,
    /// Cases after this sequence number (the page token).
    pub after_seq: i64,
    pub limit: u32,
}
