//! What the relay needs from the store. A trait so the relay's logic (ordering, windows,
//! retries) can be unit-tested with an in-memory fake; the real implementation is
//! [`crate::store::Store`], and integration tests use that.
use std::future::Future;

use crate::store::{OutboxEntry, OutboxMessage, StoreError};

/// The durable outbox as the relay sees it.
pub trait OutboxSource: Clone + Send + Sync + 'static {
    /// Every row still waiting for a confirm, in any order (read at start-up).
    fn pending(&self) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send;
    /// The full rows for these ids (ids no longer in the outbox are skipped).
    fn load(
        &self,
        ids: Vec<i64>,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, StoreError>> + Send;
    /// The broker confirmed these rows with a clean ack: remove them (and mark their cases
    /// dispatched). Idempotent.
    fn delivered(&self, ids: Vec<i64>) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A publish of this row failed (nack, return, timeout, lost connection): count it.
    fn failed(
        &self,
        id: i64,
        reason: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
