//! What the relay needs from whoever holds the outbox. A trait so the relay's logic
//! (ordering, windows, retries) can be unit-tested with an in-memory fake; the real
//! implementation is `store::Store`, and integration tests use that.
use std::future::Future;

use super::{OutboxEntry, OutboxMessage};

/// Why the holder of the outbox could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The holder is gone for good (the store shutting down): the relay stops.
    #[error("store is shutting down")]
    Closed,
    /// Anything else (a database error, a payload that cannot be unsealed): the relay keeps
    /// the rows concerned and tries again after a pause.
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

/// The durable outbox as the relay sees it.
pub trait OutboxSource: Clone + Send + Sync + 'static {
    /// Every row still waiting for a confirm, in any order (read at start-up).
    fn pending(&self) -> impl Future<Output = Result<Vec<OutboxEntry>, SourceError>> + Send;
    /// The full rows for these ids, payloads in clear (ids no longer in the outbox are
    /// skipped).
    fn load(
        &self,
        ids: Vec<i64>,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, SourceError>> + Send;
    /// The broker confirmed these rows with a clean ack: remove them (and mark their cases
    /// dispatched). Idempotent.
    fn delivered(&self, ids: Vec<i64>) -> impl Future<Output = Result<(), SourceError>> + Send;
    /// A publish of this row failed (nack, return, timeout, lost connection): count it.
    fn failed(
        &self,
        id: i64,
        reason: String,
    ) -> impl Future<Output = Result<(), SourceError>> + Send;
}
