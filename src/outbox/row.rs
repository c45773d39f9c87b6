//! The outbox's row format: what the store writes ([`NewRow`]), what the relay publishes
//! ([`OutboxMessage`]) and the key it orders rows by ([`OutboxEntry`]). The columns are listed
//! in the module's documentation ([`crate::outbox`]).

/// An outbox row's key, enough to order publishing: higher priority first, then oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutboxEntry {
    /// Row id (monotonic: a higher id was committed later).
    pub id: i64,
    /// 0-9, as the AMQP `priority` property.
    pub priority: u8,
}

/// Everything the relay needs to publish one row, of any kind.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub id: i64,
    /// Stable across re-publishes; becomes the AMQP `message_id`.
    pub dispatch_id: String,
    pub routing_key: String,
    pub priority: u8,
    /// For the `x-minhu-case-id` header.
    pub case_id: String,
    /// For the `x-minhu-channel` header: the channel enum name, e.g. `CHANNEL_WECHAT`.
    pub channel: String,
    /// For the `x-minhu-level` header: `A`, `B`, `C` or `D`.
    pub level: String,
    /// When the dispatch was created (AMQP `timestamp`, in seconds).
    pub created_at_ms: i64,
    /// Encoded `minhu.v1.Dispatch` (or what `content_type` says).
    pub payload: Vec<u8>,
    /// AMQP `content_type` and `type` when not the protobuf `minhu.v1.Dispatch` default:
    /// proto3 JSON dispatches, emergency linkage messages.
    pub content: Option<(String, String)>,
    /// Failed publish attempts so far.
    pub attempts: u32,
}

/// One row to insert, as the store has it in its transaction.
pub struct NewRow<'a> {
    /// The AMQP `message_id`: stable across re-publishes.
    pub dispatch_id: &'a str,
    pub case_id: &'a str,
    pub routing_key: &'a str,
    /// 0-9; the relay publishes higher first.
    pub priority: u8,
    /// The channel enum name for the `x-minhu-channel` header (empty when none applies).
    pub channel: &'a str,
    /// `A`–`D` for the `x-minhu-level` header (empty when none applies).
    pub level: &'a str,
    /// The transaction's time, ms since the epoch.
    pub now: i64,
    /// The body in clear, as the consumer will read it.
    pub payload: Vec<u8>,
    /// AMQP `content_type` and `type`, unless a protobuf `minhu.v1.Dispatch`.
    pub content: Option<(String, String)>,
}
