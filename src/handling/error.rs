//! Why an update was not applied. Mapped to a gRPC status in the one place that maps errors,
//! `crate::intake::error`; the same code goes into an AMQP update's outcome message. Messages
//! name fields and states, never citizens' data.
use thiserror::Error;

use crate::intake::validate::Invalid;
use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum HandlingError {
    /// Malformed: a field is missing, too long or out of range.
    #[error("invalid {}: {}", .0.field, .0.message)]
    Invalid(Invalid),
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// The caller may not act for this department or in this role.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// Decided and recorded by the store: the case's state, holder or version refuses it (or
    /// the update_id was used for another update). `code` is the gRPC status code.
    #[error("{message}")]
    Refused { code: i32, message: String },
    /// An AMQP message that cannot be answered (no header, or a department without an
    /// outcome queue): it is dead-lettered to `minhu.dead` instead.
    #[error("unanswerable update message: {0}")]
    Unanswerable(String),
    /// Nothing was written; the same update may be sent again (same update_id).
    #[error("try again: {0}")]
    Retry(String),
    #[error("Minhu is shutting down; retry against another instance or later")]
    ShuttingDown,
    #[error("internal error: {0}")]
    Internal(String),
}

impl HandlingError {
    /// An invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        HandlingError::Invalid(Invalid {
            field: field.to_owned(),
            message: message.into(),
        })
    }

    /// Whether the update may succeed when sent again unchanged (nothing was recorded).
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            HandlingError::Retry(_) | HandlingError::ShuttingDown | HandlingError::Internal(_)
        )
    }
}

impl From<StoreError> for HandlingError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Closed => HandlingError::ShuttingDown,
            e @ StoreError::Raced(_) => HandlingError::Retry(e.to_string()),
            e => HandlingError::Internal(e.to_string()),
        }
    }
}

impl From<crate::intake::IntakeError> for HandlingError {
    fn from(e: crate::intake::IntakeError) -> Self {
        use crate::intake::IntakeError as I;
        match e {
            I::Unauthenticated(m) => HandlingError::Unauthenticated(m),
            I::PermissionDenied(m) => HandlingError::PermissionDenied(m),
            I::ShuttingDown => HandlingError::ShuttingDown,
            e => HandlingError::Internal(e.to_string()),
        }
    }
}
