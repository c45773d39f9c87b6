//! Plain data that crosses the store's boundary: what goes in (a routed ticket), what comes
//! out (the outcome of an accept, a ticket view). Outbox rows are `crate::outbox`'s.
use crate::pb;

/// A validated, routed request ready to be accepted.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// The canonical request as submitted.
    pub request: pb::Request,
    /// The routing decision for the case it opens.
    pub route: RouteDecision,
    /// Publish priority of its dispatch (0-9; emergency channels are highest).
    pub priority: u8,
    /// True for emergency-channel reports: exempt from the outbox budget, never merged.
    pub emergency: bool,
    /// Set when this report may continue the same reporter's recent report.
    pub follow_up: Option<FollowUp>,
    /// What merging compares this report by; `None` never merges it with other reporters'.
    pub merge: Option<crate::merge::Probe>,
    /// Further messages a new case sends: co-handlers' dispatches, emergency linkage, and how
    /// each is encoded.
    pub fan_out: FanOut,
}

/// What routing adds to a new case besides the lead's dispatch (see `crate::router`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FanOut {
    /// Encode the lead's dispatch as proto3 JSON instead of protobuf.
    pub lead_json: bool,
    /// Co-handlers (协办), each with its own dispatch; only when the ticket opens a new case.
    pub co_handlers: Vec<CoDispatch>,
    /// Emergency lines the report must be linked to at once.
    pub linkage: Vec<LinkageOut>,
    /// Why routing decided as it did (kept in the audit trail).
    pub reason: String,
}

/// A co-handler's dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoDispatch {
    pub route: RouteDecision,
    /// Encode as proto3 JSON.
    pub json: bool,
}

/// An emergency linkage message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkageOut {
    pub rule_id: String,
    /// `110`, `119`, `120` or `122`.
    pub line: String,
    pub reason: String,
}

/// "The same citizen is still telling us about the same thing": a report that joins the
/// reporter's case if one of their tickets was accepted within the window and that case is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// Who reported, stable per channel account, e.g. `wechat:<appid>:<openid>`.
    pub reporter_key: String,
    /// How far back a previous ticket counts, in milliseconds.
    pub window_ms: i64,
}

/// The router's verdict for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDecision {
    /// Department id (承办单位).
    pub department_id: String,
    /// Routing key on `minhu.dispatch` for that department.
    pub routing_key: String,
    /// Response level.
    pub level: pb::Level,
    /// Deadline, milliseconds since the epoch.
    pub due_at_ms: i64,
    /// The deadline in working days; None for one in hours.
    pub working_days: Option<u32>,
    /// The instant the deadline was counted from (when routing decided), ms since the epoch.
    pub counted_from_ms: i64,
    /// Years without an official calendar whose days the deadline counted (ascending; empty
    /// when it is official). Such a deadline is recomputed when the year's file comes.
    pub provisional_years: Vec<i64>,
    /// Rule that decided (`fallback` when none matched).
    pub rule_id: String,
    /// Version of the routing config that decided.
    pub routing_version: String,
    /// The unit's sign-for and completion clocks (None: the calendar could not count them).
    pub clocks: Option<crate::clocks::UnitClocks>,
    /// The escalation policy of the unit (`[[escalation]] id`), if any.
    pub escalation: Option<String>,
}

/// How a Submit was settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub ticket_id: String,
    pub case_id: String,
    pub disposition: pb::Disposition,
    pub department_id: String,
    pub level: pb::Level,
    pub due_at_ms: i64,
    /// The deadline counted days of a year without an official calendar.
    pub due_provisional: bool,
}

/// A ticket as `GetTicket` shows it.
#[derive(Debug, Clone)]
pub struct TicketView {
    pub ticket_id: String,
    pub case_id: String,
    pub request: pb::Request,
    pub accepted_at_ms: i64,
    pub case_status: pb::CaseStatus,
    pub department_id: String,
    pub level: pb::Level,
    pub due_at_ms: i64,
    pub rule_id: String,
    pub dispatch_pending: bool,
    /// The case's deadline counted days of a year without an official calendar.
    pub due_provisional: bool,
    /// The case's last change, ms since the epoch.
    pub updated_at_ms: i64,
    /// The department's result (办理结果) while the case is completed.
    pub result: Option<String>,
}

/// Which tickets to list (Open311 `GET requests`, later operators' queries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketQuery {
    /// Accepted at or after (ms since the epoch).
    pub from_ms: i64,
    /// Accepted before (ms since the epoch).
    pub to_ms: i64,
    /// Tickets whose `source_system` starts with this ...
    pub source_system_prefix: String,
    /// ... or that came in on this channel.
    pub channel: Option<pb::Channel>,
    /// Only cases of this category.
    pub category: Option<String>,
    /// Some(true): only finished cases (completed or closed); Some(false): only unfinished.
    pub finished: Option<bool>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// An operator's request to move a wrongly merged ticket into a case of its own.
#[derive(Debug, Clone)]
pub struct SplitTicket {
    pub ticket_id: String,
    /// Routing of the new case (the ticket's request routed afresh).
    pub route: RouteDecision,
    /// Encode the new case's dispatch as proto3 JSON (the department asks for it).
    pub json: bool,
    /// Publish priority of the new case's dispatch.
    pub priority: u8,
    /// Why the operator splits it (audit).
    pub reason: String,
    /// Who split it (the authenticated caller or console operator), for the audit trail.
    pub caller: Option<String>,
    /// The door it came through when not the gRPC call (`console`), for the audit trail; the
    /// caller is then also the operator who acted.
    pub via: Option<&'static str>,
    /// The ticket's probe, so the new case can take later reports of its problem.
    pub merge: Option<crate::merge::Probe>,
}

/// The outcome of a split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub ticket_id: String,
    /// The new case.
    pub case_id: String,
    /// The case the ticket left.
    pub from_case_id: String,
    pub department_id: String,
    pub level: pb::Level,
    pub due_at_ms: i64,
}

/// How the clocks of one department's cases count, for the writer to move a paused clock on by
/// exactly the working time the pause held.
#[derive(Debug, Clone)]
pub struct ClockRules {
    pub calendar: std::sync::Arc<crate::router::calendar::Calendar>,
    pub hours: crate::clocks::WorkingHours,
    pub yellow_share: f64,
}
