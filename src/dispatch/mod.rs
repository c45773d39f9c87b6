//! Hand-off to RabbitMQ: the relay that publishes the outbox, and the broker topology. What a
//! row is and how it is written are [`crate::outbox`]'s; this module only reads rows, through
//! [`crate::outbox::OutboxSource`], and never imports the store.
//!
//! - [`topology`]: declares exchanges, queues and bindings, idempotently, at every (re)connect.
//! - [`relay`]: reads the outbox, publishes with confirms, deletes rows only on a clean ack.
//! - [`depth`]: reads the department queues' depths from the broker, for the console.
//!
//! What the relay measures (confirm waits, queue depths) goes to [`crate::telemetry`].
pub mod depth;
pub mod relay;
pub mod topology;

/// The queues Minhu declares on `minhu.supervision`, so no event is unroutable: light changes
/// (`light.<yellow|red>.<department>`) and each escalation target (`escalated.<target>`).
pub const SUPERVISION_QUEUES: [(&str, &str); 4] = [
    ("minhu.supervision.lights", "light.#"),
    ("minhu.supervision.leader", "escalated.leader"),
    ("minhu.supervision.district", "escalated.district"),
    ("minhu.supervision.city", "escalated.city"),
];

/// Dead-letter exchange for messages a department rejects or that exceed the delivery limit.
pub const DEAD_LETTER_EXCHANGE: &str = "minhu.dlx";
/// The queue bound to the dead-letter exchange.
pub const DEAD_LETTER_QUEUE: &str = "minhu.dead";
/// The emergency linkage queue (12345 → 110/119/120 联动): reports flagged by an
/// `[[emergency_linkage]]` rule, as JSON `minhu.EmergencyLinkage`, besides normal routing.
pub const LINKAGE_QUEUE: &str = "minhu.emergency.linkage";
/// The queue departments that speak only AMQP send their updates to (`minhu.v1.CaseUpdate`).
pub const UPDATES_QUEUE: &str = "minhu.updates";
