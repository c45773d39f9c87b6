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
    #[error("rate limit for this {} reached; retry after {}s", .0.scope.as_str(), retry_secs(.0.retry_after))]
    RateLimited(crate::protect::Limited),
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    #[error("Minhu is shutting down; retry against another instance or later")]
    ShuttingDown,
    #[error("internal error: {0}")]
    Internal(String),
}

/// Whole seconds to wait, rounded up (a client retrying after 0 s would be refused again).
pub fn retry_secs(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
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
            IntakeError::RateLimited(l) => {
                let mut s = tonic::Status::resource_exhausted(msg);
                // gRPC has no standard retry hint; `retry-after` (seconds) mirrors HTTP's.
                if let Ok(v) = retry_secs(l.retry_after).to_string().parse() {
                    s.metadata_mut().insert("retry-after", v);
                }
                s
            }
            IntakeError::Unauthenticated(_) => tonic::Status::unauthenticated(msg),
            IntakeError::PermissionDenied(_) => tonic::Status::permission_denied(msg),
            IntakeError::Invalid(_) => tonic::Status::invalid_argument(msg),
            IntakeError::NotFound(_) => tonic::Status::not_found(msg),
            IntakeError::Conflict(_) => tonic::Status::failed_precondition(msg),
            IntakeError::OutboxFull(_) => tonic::Status::resource_exhausted(msg),
            IntakeError::ShuttingDown => tonic::Status::unavailable(msg),
            IntakeError::Internal(_) => tonic::Status::internal(msg),
        }
    }
}

/// A department update's refusal as a gRPC status (also the `code` of its AMQP outcome).
impl From<crate::handling::HandlingError> for tonic::Status {
    fn from(e: crate::handling::HandlingError) -> Self {
        use crate::handling::HandlingError as H;
        let msg = e.to_string();
        match e {
            H::Invalid(_) | H::Unanswerable(_) => tonic::Status::invalid_argument(msg),
            H::Unauthenticated(_) => tonic::Status::unauthenticated(msg),
            H::PermissionDenied(_) => tonic::Status::permission_denied(msg),
            // The store decided it: its code, and its message unchanged.
            H::Refused { code, message } => {
                tonic::Status::new(tonic::Code::from_i32(code), message)
            }
            H::Retry(_) | H::ShuttingDown => tonic::Status::unavailable(msg),
            H::Internal(_) => tonic::Status::internal(msg),
        }
    }
}

/// The HTTP status of a handling refusal, for the HTTP doors of the closed loop (a call-centre's
/// 回访 results, the 数字城管 inspector's verdicts): the gRPC code the store decided, read the
/// way HTTP callers expect.
pub fn handling_http_status(e: &crate::handling::HandlingError) -> StatusCode {
    use crate::handling::HandlingError as H;
    use tonic::Code as C;
    match e {
        H::Invalid(_) | H::Unanswerable(_) => StatusCode::BAD_REQUEST,
        H::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        H::PermissionDenied(_) => StatusCode::FORBIDDEN,
        H::Refused { code, .. } => match C::from_i32(*code) {
            C::NotFound => StatusCode::NOT_FOUND,
            C::AlreadyExists | C::FailedPrecondition | C::Aborted => StatusCode::CONFLICT,
            C::InvalidArgument => StatusCode::BAD_REQUEST,
            C::PermissionDenied => StatusCode::FORBIDDEN,
            C::Unavailable | C::ResourceExhausted => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        },
        H::Retry(_) | H::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        H::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The HTTP status of an intake error (the JSON answer below, and the console's page).
pub fn intake_http_status(e: &IntakeError) -> StatusCode {
    match e {
        IntakeError::RateLimited(_) | IntakeError::OutboxFull(_) => StatusCode::TOO_MANY_REQUESTS,
        IntakeError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        IntakeError::PermissionDenied(_) => StatusCode::FORBIDDEN,
        IntakeError::Invalid(_) => StatusCode::BAD_REQUEST,
        IntakeError::NotFound(_) => StatusCode::NOT_FOUND,
        IntakeError::Conflict(_) => StatusCode::CONFLICT,
        IntakeError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        IntakeError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for IntakeError {
    fn into_response(self) -> Response {
        let status = match &self {
            IntakeError::RateLimited(l) => {
                let body = serde_json::json!({ "error": self.to_string(), "field": "" });
                let retry = retry_secs(l.retry_after).to_string();
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(axum::http::header::RETRY_AFTER, retry)],
                    axum::Json(body),
                )
                    .into_response();
            }
            e => intake_http_status(e),
        };
        let body = serde_json::json!({ "error": self.to_string(), "field": self.field() });
        (status, axum::Json(body)).into_response()
    }
}
