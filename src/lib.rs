//! Minhu (民呼): the integration gateway between citizens' channels and city departments.
//!
//! A report travels through these modules, in this order:
//!
//! - [`intake`]: the doors. gRPC `minhu.v1.Gateway` (tonic) and the HTTP listener (health,
//!   metrics; channel adapters mount here). [`intake::validate`] rejects bad requests with the
//!   field to blame before anything is written.
//! - [`merge`]: reports of one problem from many citizens join one case (signals, index).
//! - [`router`]: decides which department handles a case, at which level, by when
//!   (`config/routing.toml`).
//! - [`store`]: the durable heart. SQLite (WAL, `synchronous=FULL`) or PostgreSQL, through
//!   [`db`], with one writer thread that commits many tickets per fsync; ticket, case,
//!   idempotency key and outbox row go in one transaction, and a caller hears "accepted" only
//!   after that commit.
//! - [`outbox`]: every message owed to the broker (dispatches, linkage, supervision events,
//!   outcomes, answers through reporting systems) as rows of one format. The store writes
//!   them; the relay reads them. It imports neither.
//! - [`dispatch`]: the outbox relay. Publishes each row to RabbitMQ with publisher confirms
//!   and deletes it only on a clean ack; declares the broker topology.
//! - [`handling`]: the closed loop after the hand-off: departments sign for, report progress,
//!   return, ask for more time and complete (gRPC `minhu.v1.Handling` and the `minhu.updates`
//!   queue, one code path), through one state machine, applied by the store's writer.
//! - [`clocks`]: the loop's clocks in working time, lights and escalation chains;
//!   [`scheduler`] the task that turns due times kept in the store into supervision events.
//! - [`notify`]: the citizen side of the loop: a ledger of notices to every reporter of a
//!   completed case, and the senders per channel (WeChat, e-mail, SMS).
//! - [`scores`]: 谁呼谁评, one case's score per department and departments' rankings (pure).
//! - [`protect`]: caller authentication and rate limits, between validation and the store.
//! - [`config`]: typed service and routing config, loading (`MINHU_` env overrides) and
//!   validation that reports every problem at once.
//! - [`telemetry`]: logs (with personal data masked) and metrics.
//! - [`console`]: the supervision console (督办台): server-rendered pages under `/console` on
//!   the HTTP listener, for the coordination centre and operations staff.
//! - [`server`]: `minhu serve` — wires the parts together and shuts them down gracefully.
//! - [`cli`]: the command line.
//! - Shared by many: [`db`] (the connection layer, SQLite or PostgreSQL), [`json`] (proto3 JSON
//!   of Minhu's messages), `time`.
#![forbid(unsafe_code)]

pub mod cli;
pub mod clocks;
pub mod config;
pub mod console;
pub mod db;
pub mod dispatch;
pub mod handling;
pub mod intake;
pub mod json;
pub mod merge;
pub mod notify;
pub mod outbox;
pub mod protect;
pub mod router;
pub mod scheduler;
pub mod scores;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod time;

/// The generated protobuf types, re-exported so callers need only this crate.
pub use minhu_proto::v1 as pb;
