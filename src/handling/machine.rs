//! The one state machine of a case after its hand-off (签收 → 办理 → 办结, 退单 → 改派, 延期),
//! as a table. Pure: no I/O, so every pair of state and action is tested, and both doors
//! (gRPC `minhu.v1.Handling` and the `minhu.updates` queue) get the same answer because the
//! store asks this module inside the transaction that applies the update.
//!
//! States are the contract's `minhu.v1.CaseStatus`; a department reads them in dispatches and
//! answers. `RETURNED` never rests in the store: a return is followed, in the same
//! transaction, by the system's re-route (`RETURNED → OPEN` at the next department).
use crate::pb::CaseStatus;

/// What happens to a case: a department's or the coordination centre's update, or the
/// system's own re-route after a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// 签收.
    SignFor,
    /// 进展.
    Progress,
    /// 退单.
    Return,
    /// 延期申请.
    RequestExtension,
    /// The coordination centre's answer to an extension request (approve or refuse).
    DecideExtension,
    /// 办结.
    Complete,
    /// 改派 by the coordination centre.
    Reassign,
    /// The system routes a returned case again (never sent by a caller).
    Reroute,
    /// 二次办理: a reporter rated the result "not solved"; the case goes back to the department
    /// that completed it (never sent by a department: `minhu.v1.Feedback.Rate`), or the grid
    /// inspector found the work not done (核查不通过).
    Reopen,
    /// 核查通过 → 结案: the 数字城管 platform's inspector confirmed the result on site.
    Verify,
}

/// Who may take an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The department holding the case (its `department_id`).
    Holder,
    /// The coordination centre (协调中心): callers with the coordination role.
    Coordination,
    /// Minhu itself.
    System,
}

impl Action {
    pub const ALL: [Action; 10] = [
        Action::SignFor,
        Action::Progress,
        Action::Return,
        Action::RequestExtension,
        Action::DecideExtension,
        Action::Complete,
        Action::Reassign,
        Action::Reroute,
        Action::Reopen,
        Action::Verify,
    ];

    /// Who may take it.
    pub fn actor(self) -> Actor {
        match self {
            Action::DecideExtension | Action::Reassign => Actor::Coordination,
            Action::Reroute | Action::Reopen | Action::Verify => Actor::System,
            _ => Actor::Holder,
        }
    }

    /// The name in audit entries and messages (`sign_for`, `return`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::SignFor => "sign_for",
            Action::Progress => "progress",
            Action::Return => "return",
            Action::RequestExtension => "request_extension",
            Action::DecideExtension => "decide_extension",
            Action::Complete => "complete",
            Action::Reassign => "reassign",
            Action::Reroute => "reroute",
            Action::Reopen => "reopen",
            Action::Verify => "verified",
        }
    }
}

use Action as A;
use CaseStatus as S;

/// Every legal transition: (from, action, to). Anything not here is refused. The table in
/// docs/departments.md is this one written out.
pub const TABLE: &[(CaseStatus, Action, CaseStatus)] = &[
    // 签收. OPEN too: a department can consume its dispatch before the broker's confirm
    // reaches Minhu (which is what moves OPEN to DISPATCHED).
    (S::Open, A::SignFor, S::Signed),
    (S::Dispatched, A::SignFor, S::Signed),
    // 进展. A note while an extension waits keeps the request pending.
    (S::Signed, A::Progress, S::InProgress),
    (S::InProgress, A::Progress, S::InProgress),
    (S::ExtensionRequested, A::Progress, S::ExtensionRequested),
    // 退单: only before handling starts; afterwards the coordination centre reassigns.
    (S::Open, A::Return, S::Returned),
    (S::Dispatched, A::Return, S::Returned),
    (S::Signed, A::Return, S::Returned),
    (S::Returned, A::Reroute, S::Open),
    // 延期.
    (S::Signed, A::RequestExtension, S::ExtensionRequested),
    (S::InProgress, A::RequestExtension, S::ExtensionRequested),
    (S::ExtensionRequested, A::DecideExtension, S::InProgress),
    // 办结 (即办件 straight after signing).
    (S::Signed, A::Complete, S::Completed),
    (S::InProgress, A::Complete, S::Completed),
    (S::ExtensionRequested, A::Complete, S::Completed),
    // 改派: from any open state; the new department starts afresh.
    (S::Open, A::Reassign, S::Open),
    (S::Dispatched, A::Reassign, S::Open),
    (S::Signed, A::Reassign, S::Open),
    (S::InProgress, A::Reassign, S::Open),
    (S::ExtensionRequested, A::Reassign, S::Open),
    // 二次办理: back to the department that completed it, as a new dispatch; also after the
    // inspector verified it, when a citizen still says it is not solved.
    (S::Completed, A::Reopen, S::Open),
    (S::Closed, A::Reopen, S::Open),
    // 核查通过 → 结案.
    (S::Completed, A::Verify, S::Closed),
];

/// An action the table does not allow in the case's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} is not allowed: the case is {state} ({allowed})", action = .action.as_str(), state = name(.state), allowed = allowed_text(*.state))]
pub struct Illegal {
    pub state: CaseStatus,
    pub action: Action,
}

/// The state after `action` in `state`.
pub fn next(state: CaseStatus, action: Action) -> Result<CaseStatus, Illegal> {
    TABLE
        .iter()
        .find(|(from, a, _)| *from == state && *a == action)
        .map(|(_, _, to)| *to)
        .ok_or(Illegal { state, action })
}

/// Whether the case is still being handled (not completed or closed): open cases take
/// follow-ups and merged reports, and can be reassigned.
pub fn is_open(state: CaseStatus) -> bool {
    !matches!(state, S::Completed | S::Closed | S::Unspecified)
}

/// The open states as an SQL list for `status IN (…)`; a test keeps it equal to [`is_open`].
pub const OPEN_SQL: &str = "1, 2, 3, 4, 7, 8";

/// The status name without its prefix, as callers read it (`DISPATCHED`, `SIGNED`, ...).
pub fn name(state: &CaseStatus) -> &'static str {
    state
        .as_str_name()
        .strip_prefix("CASE_STATUS_")
        .unwrap_or(state.as_str_name())
}

/// The callers' actions allowed in `state`, for the refusal message.
fn allowed_text(state: CaseStatus) -> String {
    let allowed: Vec<&str> = TABLE
        .iter()
        .filter(|(from, a, _)| *from == state && a.actor() != Actor::System)
        .map(|(_, a, _)| a.as_str())
        .collect();
    if allowed.is_empty() {
        "no update is allowed any more".to_owned()
    } else {
        format!("allowed now: {}", allowed.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATES: [CaseStatus; 9] = [
        S::Unspecified,
        S::Open,
        S::Dispatched,
        S::InProgress,
        S::Returned,
        S::Completed,
        S::Closed,
        S::Signed,
        S::ExtensionRequested,
    ];

    /// Every (state, action) pair, written out: the expected next state or None (refused).
    /// Adding a state or an action without deciding each pair fails this test.
    fn expected(state: CaseStatus, action: Action) -> Option<CaseStatus> {
        use Action::*;
        match (state, action) {
            (S::Open | S::Dispatched, SignFor) => Some(S::Signed),
            (S::Signed | S::InProgress, Progress) => Some(S::InProgress),
            (S::ExtensionRequested, Progress) => Some(S::ExtensionRequested),
            (S::Open | S::Dispatched | S::Signed, Return) => Some(S::Returned),
            (S::Returned, Reroute) => Some(S::Open),
            (S::Signed | S::InProgress, RequestExtension) => Some(S::ExtensionRequested),
            (S::ExtensionRequested, DecideExtension) => Some(S::InProgress),
            (S::Signed | S::InProgress | S::ExtensionRequested, Complete) => Some(S::Completed),
            (
                S::Open | S::Dispatched | S::Signed | S::InProgress | S::ExtensionRequested,
                Reassign,
            ) => Some(S::Open),
            (S::Completed | S::Closed, Reopen) => Some(S::Open),
            (S::Completed, Verify) => Some(S::Closed),
            _ => None,
        }
    }

    #[test]
    fn every_state_and_action_pair_is_decided_as_written() {
        let mut legal = 0;
        for state in STATES {
            for action in Action::ALL {
                let got = next(state, action).ok();
                assert_eq!(got, expected(state, action), "{state:?} + {action:?}");
                legal += usize::from(got.is_some());
            }
        }
        // No duplicate rows hiding in the table.
        assert_eq!(legal, TABLE.len());
    }

    #[test]
    fn an_illegal_transition_names_the_current_state_and_what_is_allowed() {
        let e = next(S::Completed, Action::Progress).unwrap_err();
        assert_eq!(
            e.to_string(),
            "progress is not allowed: the case is COMPLETED (no update is allowed any more)"
        );
        let e = next(S::Dispatched, Action::Complete).unwrap_err();
        assert_eq!(
            e.to_string(),
            "complete is not allowed: the case is DISPATCHED (allowed now: sign_for, return, reassign)"
        );
        // The system's own step is never offered to callers.
        let e = next(S::Returned, Action::SignFor).unwrap_err();
        assert!(
            e.to_string().ends_with("(no update is allowed any more)"),
            "{e}"
        );
    }

    #[test]
    fn open_states_and_their_sql_list_agree() {
        let sql: Vec<i32> = OPEN_SQL.split(", ").map(|n| n.parse().unwrap()).collect();
        let open: Vec<i32> = STATES
            .iter()
            .filter(|s| is_open(**s))
            .map(|s| *s as i32)
            .collect();
        let mut sorted = open.clone();
        sorted.sort_unstable();
        assert_eq!(sql, sorted);
        // Callers act only on open cases; a completed case comes back only by the system's
        // reopen (a citizen's "not solved", a failed 核查) or is closed by its verification.
        for (from, action, _) in TABLE {
            assert!(
                is_open(*from) || matches!(action, Action::Reopen | Action::Verify),
                "{from:?}"
            );
        }
    }

    #[test]
    fn only_the_coordination_centre_decides_extensions_and_reassigns() {
        for a in Action::ALL {
            let want = match a {
                Action::DecideExtension | Action::Reassign => Actor::Coordination,
                Action::Reroute | Action::Reopen | Action::Verify => Actor::System,
                _ => Actor::Holder,
            };
            assert_eq!(a.actor(), want, "{a:?}");
        }
    }
}
