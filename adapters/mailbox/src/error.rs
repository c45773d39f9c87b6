//! Why a mail or a form could not be translated. Messages name the problem and the field, never
//! a value from the input (it is personal data).
use thiserror::Error;

/// A mail that cannot become a request. Retrying the same bytes gives the same error: an MTA
/// should bounce it (sendmail's EX_DATAERR), an HTTP caller gets 400.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MailError {
    /// Empty input, or bytes with no message header (no `From:` address): not an e-mail.
    #[error("not an e-mail: {0}")]
    NotMail(&'static str),
    /// The MIME structure is broken (e.g. a multipart whose boundary never appears).
    #[error("malformed MIME: {0}")]
    MalformedMime(&'static str),
    /// No text in the body (no text part, or only whitespace).
    #[error("the message has no text body")]
    EmptyBody,
}

impl MailError {
    /// The part of the message to blame, for HTTP errors' `field`.
    pub fn field(&self) -> &'static str {
        match self {
            MailError::NotMail(_) => "message",
            MailError::MalformedMime(_) => "message.mime",
            MailError::EmptyBody => "message.body",
        }
    }
}

/// A web form that cannot become a request, with the field to blame.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {field}: {message}")]
pub struct FormError {
    /// The form field, e.g. `district` or `attachments[1]`.
    pub field: String,
    pub message: String,
}

impl FormError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
