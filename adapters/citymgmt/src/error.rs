//! Why input could not be translated. Messages name the field and the problem, never a value
//! that could be personal data (class codes and service codes are not, and are named).
use thiserror::Error;

/// An event or form that cannot become a request, with the field to blame. Retrying the same
/// input gives the same error (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {field}: {message}")]
pub struct Invalid {
    /// The field, e.g. `case_number`, `minor_code` or `photos[1]`.
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An Open311 error: the HTTP status and the spec's `{code, description}` (answered as a
/// one-element list, `[{"code":400,"description":"…"}]`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{code} {description}")]
pub struct Open311Error {
    /// The HTTP status, repeated in the body as `code`.
    pub code: u16,
    pub description: String,
}

impl Open311Error {
    /// 400: a parameter is missing or invalid.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self {
            code: 400,
            description: description.into(),
        }
    }

    /// 403: the api_key is missing or not valid.
    pub fn forbidden(description: impl Into<String>) -> Self {
        Self {
            code: 403,
            description: description.into(),
        }
    }

    /// 404: no such service, request or jurisdiction.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self {
            code: 404,
            description: description.into(),
        }
    }
}

impl From<Invalid> for Open311Error {
    fn from(e: Invalid) -> Self {
        Open311Error::bad_request(format!("{}: {}", e.field, e.message))
    }
}
