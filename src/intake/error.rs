//! The intake's errors, and the one place each is mapped to a gRPC status and to an HTTP
//! response. Messages never contain personal data: they name fields, not values from them.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use thiserror::Error;

use super::validate::Invalid;
use crate::store::StoreError;

/// Why a Submit or lookup did not succeed.
#[derive(Debug, Error)]
pub enum IntakeError {
    #[error("invalid {}: {}", .0.field, .0.message)]
    Invalid(Invalid),
    #[error("ticket {0} not found")]
    NotFound(String),
    /// The request is valid but the ticket's state does not allow it (e.g. splitting a ticket
    /// that was never merged).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    OutboxFull(String),
    #[error("Minhu is shutting down; retry against another instance or later")]
    ShuttingDown,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for IntakeError {
    fn from(e: StoreError) -> Self {
        match e {
            e @ StoreError::OutboxFull { .. } => IntakeError::OutboxFull(e.to_string()),
            StoreError::Closed => IntakeError::ShuttingDown,
            StoreError::NoTicket(id) => IntakeError::NotFound(id),
            e @ StoreError::NotSplittable { .. } => IntakeError::Conflict(e.to_string()),
            e => IntakeError::Internal(e.to_string()),
        }
    }
}

impl IntakeError {
    /// The field to blame, if one is.
    pub fn field(&self) -> &str {
        match self {
            IntakeError::Invalid(i) => &i.field,
            _ => "",
        }
    }
}

impl From<IntakeError> for tonic::Status {
    fn from(e: IntakeError) -> Self {
        let msg = e.to_string();
        match e {
            IntakeError::Invalid(_) => tonic::Status::invalid_argument(msg),
            IntakeError::NotFound(_) => tonic::Status::not_found(msg),
            IntakeError::Conflict(_) => tonic::Status::failed_precondition(msg),
            IntakeError::OutboxFull(_) => tonic::Status::resource_exhausted(msg),
            IntakeError::ShuttingDown => tonic::Status::unavailable(msg),
            IntakeError::Internal(_) => tonic::Status::internal(msg),
        }
    }
}

impl IntoResponse for IntakeError {
    fn into_response(self) -> Response {
        let status = match &self {
            IntakeError::Invalid(_) => StatusCode::BAD_REQUEST,
            IntakeError::NotFound(_) => StatusCode::NOT_FOUND,
            IntakeError::Conflict(_) => StatusCode::CONFLICT,
            IntakeError::OutboxFull(_) => StatusCode::TOO_MANY_REQUESTS,
            IntakeError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            IntakeError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = serde_json::json!({ "error": self.to_string(), "field": self.field() });
        (status, axum::Json(body)).into_response()
    }
}
