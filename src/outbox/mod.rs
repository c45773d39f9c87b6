//! The outbox: every message Minhu owes the broker, as rows of one table, written in the same
//! transaction as the change that caused them and deleted only once the broker confirmed them.
//!
//! The store writes rows ([`insert`]) inside its transactions; the relay (`dispatch::relay`)
//! reads them through [`OutboxSource`], publishes them with confirms and settles them. Neither
//! imports the other: both import this module, and this module imports neither (a test over
//! the `use` lines, `tests/module_graph.rs`, keeps it so).
//!
//! - `row`: the row format ([`OutboxMessage`]) and the key the relay orders by ([`OutboxEntry`]).
//! - `table`: the SQL on the `outbox` table, for the store's transactions and readers.
//! - [`kinds`]: the kinds of message a row carries, their `type`s and the exchange each goes to.
//! - [`envelope`]: the `minhu.v1.Dispatch` body of a department dispatch, and its encoding.
//! - [`properties`]: the AMQP properties and headers a row is published with.
//! - [`source`]: what the relay needs from whoever holds the rows ([`OutboxSource`]).
//! - `hot`: new rows kept in memory after their commit, so the relay need not read them back.
//!
//! # One row, any kind of message
//! | column | meaning |
//! |---|---|
//! | `id` | row id; a higher id was committed later (the relay's tie-break and its handle) |
//! | `dispatch_id` | the AMQP `message_id`: a dispatch id, an event id, a notice id or an outcome id; unchanged across re-publishes |
//! | `case_id` | the case the message is about (`x-minhu-case-id`) |
//! | `routing_key` | where the exchange routes it (`dept.<id>`, `light.red.<id>`, `outcome.<id>`, …) |
//! | `priority` | 0–9, AMQP `priority`; higher goes first |
//! | `channel`, `level` | the `x-minhu-channel` and `x-minhu-level` headers (empty for events and outcomes) |
//! | `created_at` | ms since the epoch; AMQP `timestamp` in seconds |
//! | `payload` | the body, sealed at rest when it names a citizen (see `store::contacts`) |
//! | `content_type`, `message_type` | AMQP `content_type` and `type`; both NULL for a protobuf `minhu.v1.Dispatch` |
//! | `attempts`, `last_error` | failed publishes so far, and the last reason |
//! | `owner` | the gateway whose relay publishes it, when gateways share PostgreSQL |
//!
//! The kinds that travel this way are in [`kinds`]: department dispatches (new cases, case
//! updates, co-handlers), emergency linkage, supervision events, update outcomes and answers
//! through the reporting systems (the citizen notifications that go back by queue). Notices
//! sent to citizens over WeChat, SMS or e-mail are not rows here: their senders are HTTP and
//! SMTP calls with their own retries, so they have a ledger of their own (`store::notices`,
//! `notify`).
pub mod envelope;
mod hot;
pub mod kinds;
pub mod properties;
mod row;
pub mod source;
mod table;

pub use hot::HotOutbox;
pub use kinds::{DISPATCH_EXCHANGE, SUPERVISION_EXCHANGE, exchange_for};
pub use row::{NewRow, OutboxEntry, OutboxMessage};
pub use source::{OutboxSource, SourceError};
pub use table::{count, count_failure, insert, load, lowest_waiting_priority, remove, waiting};
