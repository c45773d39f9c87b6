//! The kinds of message the outbox carries, and the exchange each is published to. A row's
//! kind is its AMQP `type` (`message_type`; NULL for a department dispatch in protobuf).
//!
//! | kind | `type` | `content_type` | exchange | routing key |
//! |---|---|---|---|---|
//! | department dispatch | `minhu.v1.Dispatch` | protobuf, or JSON where a department asks | `minhu.dispatch` | `dept.<id>` |
//! | emergency linkage | `minhu.EmergencyLinkage` | JSON | `minhu.dispatch` | [`LINKAGE_ROUTING_KEY`] |
//! | supervision event | [`SUPERVISION_EVENT_TYPE`] | protobuf | `minhu.supervision` | `light.<color>.<id>`, `escalated.<target>` |
//! | update outcome | [`OUTCOME_TYPE`] | protobuf | `minhu.dispatch` | [`outcome_routing_key`] |
//! | answer through a reporting system | the system's own (`notify::systems`) | JSON | `minhu.dispatch` | `return.<system>` |

/// The exchange department dispatches, linkage, outcomes and answers go to.
pub const DISPATCH_EXCHANGE: &str = "minhu.dispatch";
/// The topic exchange supervision events (lights, escalations) are published to.
pub const SUPERVISION_EXCHANGE: &str = "minhu.supervision";

/// `content_type` of every protobuf body.
pub const PROTOBUF: &str = "application/x-protobuf";
/// `content_type` of every JSON body (proto3 JSON or the systems' own).
pub const JSON: &str = crate::json::CONTENT_TYPE;
/// `type` of a department dispatch: the protobuf message name of its body.
pub const DISPATCH_TYPE: &str = "minhu.v1.Dispatch";
/// `type` of a supervision event (a light turned, an escalation).
pub const SUPERVISION_EVENT_TYPE: &str = "minhu.v1.SupervisionEvent";
/// `type` of an update's outcome, answered to departments that update over AMQP.
pub const OUTCOME_TYPE: &str = "minhu.v1.UpdateOutcome";

/// Routing key of emergency linkage messages (12345 → 110/119/120 联动) on `minhu.dispatch`.
pub const LINKAGE_ROUTING_KEY: &str = "emergency.linkage";

/// The routing key of a department's outcome queue `minhu.dept.<id>.outcomes`.
pub fn outcome_routing_key(department_id: &str) -> String {
    format!("outcome.{department_id}")
}

/// The exchange a row is published to: supervision events on their own exchange, everything
/// else on `minhu.dispatch`.
pub fn exchange_for(msg: &super::OutboxMessage) -> &'static str {
    match &msg.content {
        Some((_, t)) if t == SUPERVISION_EVENT_TYPE => SUPERVISION_EXCHANGE,
        _ => DISPATCH_EXCHANGE,
    }
}
