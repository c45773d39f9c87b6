//! Why a work order or a CSV row could not be translated. Messages name fields and quote only
//! values that are not personal data (codes, dates, types): never a phone number or a name.
use thiserror::Error;

/// A work order refused: the source system's field to blame and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct OrderError {
    /// The field as the source system names it (e.g. `sqlx`), or `order` for the whole order.
    pub field: String,
    pub message: String,
}

impl OrderError {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// A CSV file that cannot be read at all (as opposed to one bad row).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CsvError {
    /// Neither UTF-8 nor GBK.
    #[error(
        "not UTF-8 and not GBK either (first undecodable byte at offset {offset}); save the export as UTF-8 or GBK"
    )]
    Encoding { offset: usize },
    /// No header row, or an unreadable one.
    #[error("header row: {0}")]
    Header(String),
}

/// One CSV row that is not a well-formed record; it is reported and skipped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("malformed row: {message}")]
pub struct RowError {
    pub message: String,
}
