//! What can go wrong in the store, as one enum the intake maps to gRPC and HTTP answers.
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The outbox already holds `budget` dispatches the broker has not confirmed.
    #[error(
        "outbox full: {depth} dispatches waiting for the broker (budget {budget}); retry later"
    )]
    OutboxFull { depth: u64, budget: u64 },
    /// The writer thread is gone (shutting down or crashed).
    #[error("store is shutting down")]
    Closed,
    #[error("{0}")]
    Db(#[from] crate::db::Error),
    /// A split asked of a ticket that cannot be split (not merged, unknown, case closed).
    #[error("ticket {ticket_id} cannot be split: {reason}")]
    NotSplittable { ticket_id: String, reason: String },
    /// No such ticket.
    #[error("ticket {0} not found")]
    NoTicket(String),
    /// A case changed between the read an update was routed by and the writer (a return's
    /// exclusions are stale): nothing was written; try the update again.
    #[error("case {0} changed while the update was being routed; try again")]
    Raced(String),
    /// Sealed personal data cannot be opened or written: a key is missing from `[privacy]`.
    #[error("sealed contacts: {0}")]
    Sealed(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.into())
    }
}
