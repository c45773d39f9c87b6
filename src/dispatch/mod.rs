//! Hand-off to RabbitMQ: the outbox relay and the broker topology.
//!
//! - [`envelope`]: builds the `minhu.v1.Dispatch` body a department receives.
//! - [`properties`]: the AMQP properties and headers every message carries.
//! - [`topology`]: declares exchanges, queues and bindings, idempotently, at every (re)connect.
//! - [`source`]: the trait through which the relay reads and settles outbox rows.
//! - [`relay`]: reads the outbox, publishes with confirms, deletes rows only on a clean ack.
//! - [`stall`]: how long the outbox has waited for any confirm (metrics and readiness).
pub mod depth;
pub mod envelope;
pub mod json;
pub mod properties;
pub mod relay;
pub mod source;
pub mod stall;
pub mod topology;

/// The exchange every dispatch is published to.
pub const DISPATCH_EXCHANGE: &str = "minhu.dispatch";
/// The topic exchange supervision events (lights, escalations) are published to.
pub const SUPERVISION_EXCHANGE: &str = "minhu.supervision";
/// The queues Minhu declares on it, so no event is unroutable: light changes
/// (`light.<yellow|red>.<department>`) and each escalation target (`escalated.<target>`).
pub const SUPERVISION_QUEUES: [(&str, &str); 4] = [
    ("minhu.supervision.lights", "light.#"),
    ("minhu.supervision.leader", "escalated.leader"),
    ("minhu.supervision.district", "escalated.district"),
    ("minhu.supervision.city", "escalated.city"),
];

/// The exchange a row of the outbox is published to: supervision events on their own
/// exchange, everything else (dispatches, linkage, outcomes) on `minhu.dispatch`.
pub fn exchange_for(msg: &crate::store::OutboxMessage) -> &'static str {
    match &msg.content {
        Some((_, t)) if t == crate::store::SUPERVISION_EVENT_TYPE => SUPERVISION_EXCHANGE,
        _ => DISPATCH_EXCHANGE,
    }
}

/// Dead-letter exchange for messages a department rejects or that exceed the delivery limit.
pub const DEAD_LETTER_EXCHANGE: &str = "minhu.dlx";
/// The queue bound to the dead-letter exchange.
pub const DEAD_LETTER_QUEUE: &str = "minhu.dead";
/// The emergency linkage queue (12345 → 110/119/120 联动): reports flagged by an
/// `[[emergency_linkage]]` rule, as JSON `minhu.EmergencyLinkage`, besides normal routing.
pub const LINKAGE_QUEUE: &str = "minhu.emergency.linkage";
/// Its binding key on `minhu.dispatch`.
pub const LINKAGE_ROUTING_KEY: &str = "emergency.linkage";
/// The queue departments that speak only AMQP send their updates to (`minhu.v1.CaseUpdate`).
pub const UPDATES_QUEUE: &str = "minhu.updates";
