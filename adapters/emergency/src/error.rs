//! Why a transfer could not be translated. Messages name the field and the problem, never a
//! value from the caller's data (names, phones and positions are personal data).
use minhu_adapter::division::DivisionError;
use minhu_adapter::geo::CoordinateError;
use thiserror::Error;

/// A transfer that cannot become a request. The same input always gives the same error: the
/// dispatch centre must fix it, not retry it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransferError {
    /// The body is not JSON, or not an object or an array of objects.
    #[error("the body must be a JSON object or an array of objects: {0}")]
    Malformed(String),
    /// An array with no transfers in it.
    #[error("the array holds no transfers")]
    EmptyBatch,
    /// More transfers in one body than allowed.
    #[error("{got} transfers in one body; at most {max}")]
    BatchTooLarge { got: usize, max: usize },
    /// A key this API does not know (a typo would otherwise lose data silently).
    #[error("unknown field {0:?}")]
    UnknownField(String),
    /// A required field is absent or empty.
    #[error("{0} is required")]
    Missing(String),
    /// A field of the wrong JSON type.
    #[error("{field} must be {expected}")]
    WrongType {
        field: String,
        expected: &'static str,
    },
    /// `line` is none of 110, 119, 120, 122.
    #[error("line must be one of 110, 119, 120, 122")]
    UnknownLine,
    /// `received_at` is not RFC 3339 (or `YYYY-MM-DD HH:MM:SS`, China Standard Time).
    #[error("received_at must be RFC 3339, e.g. 2026-11-22T14:05:00+08:00")]
    BadTime,
    /// A text longer than its limit.
    #[error("{field} is longer than {max} characters")]
    TooLong { field: String, max: usize },
    /// Control characters where an id is expected.
    #[error("{0} contains control characters")]
    ControlCharacters(String),
    /// Coordinates out of range or without a coordinate system.
    #[error("coordinates.{field}: {e}", field = .0.field(), e = .0)]
    Coordinates(CoordinateError),
    /// An unknown coordinate-system name.
    #[error("coordinates.system must be wgs84, gcj02, bd09 or cgcs2000")]
    UnknownCoordinateSystem,
    /// Division codes of the wrong shape or inconsistent with each other.
    #[error("{0}")]
    Division(DivisionError),
}

impl TransferError {
    /// The field to blame (a JSON key of the transfer, dotted for nested ones).
    pub fn field(&self) -> String {
        match self {
            TransferError::Malformed(_)
            | TransferError::EmptyBatch
            | TransferError::BatchTooLarge { .. } => "body".into(),
            TransferError::UnknownField(f)
            | TransferError::Missing(f)
            | TransferError::ControlCharacters(f)
            | TransferError::WrongType { field: f, .. }
            | TransferError::TooLong { field: f, .. } => f.clone(),
            TransferError::UnknownLine => "line".into(),
            TransferError::BadTime => "received_at".into(),
            TransferError::Coordinates(e) => format!("coordinates.{}", e.field()),
            TransferError::UnknownCoordinateSystem => "coordinates.system".into(),
            TransferError::Division(e) => e.field().into(),
        }
    }
}
