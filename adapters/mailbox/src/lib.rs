//! Mayor's mailbox (市长信箱) adapter: raw e-mail (RFC 5322 / MIME) and web-form submissions
//! translated into the canonical `minhu.v1.Request`. Pure translation: bytes in, a request and
//! the attachments' bytes out. No gateway internals, no I/O, no async runtime, so the same code
//! runs inside the gateway (`POST /v1/mailbox/*`), in `minhu ingest mail` (an MTA pipe) or in an
//! edge process in the internet-facing zone.
//!
//! - [`translate_mail`]: a raw message as an MTA delivers it → [`MailOutcome`]: either a
//!   [`Translated`] request with its extracted attachments, or [`Ignored`] (auto-replies,
//!   bounces, delivery reports, mailing-list and bulk mail make no ticket).
//! - [`form::Form`] and [`translate_form`]: the web form (JSON or urlencoded).
//! - [`reply::render_reply`]: the other direction, the answer to a citizen as an RFC 5322
//!   message threaded under their mail (the gateway's e-mail notifier sends it).
//!
//! Attachments are referenced from the request by a content address,
//! `minhu-attachment:sha256:<hex>` ([`attachment_url`]): the caller stores the bytes under that
//! hash *before* submitting, so a ticket never names a file that is not there, and the same photo
//! mailed twice is stored once. The address does not depend on where the gateway keeps its data,
//! so it stays valid when the store moves or the adapter runs as an edge process.
//!
//! Every text the request carries is valid UTF-8 whatever the mail's charset (UTF-8, GB2312
//! (decoded as GBK, its superset, as every real client does), GBK, GB18030, Big5, ...). A charset
//! nobody knows is decoded lossily and flagged in `extra["mailbox.lossy_charset"]`: never a crash.
#![forbid(unsafe_code)]

mod attachment;
mod charset;
mod error;
mod filter;
pub mod form;
mod mail;
pub mod reply;
mod text;

pub use attachment::{AttachmentData, attachment_url};
pub use error::{FormError, MailError};
pub use filter::{IgnoreReason, Ignored};
pub use form::translate_form;
pub use mail::translate_mail;
pub use minhu_adapter::pb;

/// The channel every mailbox request carries.
pub const CHANNEL: pb::Channel = pb::Channel::MayorMailbox;

/// `extra` keys this adapter sets.
pub mod extra {
    /// `"email"` or `"form"`: which door of the mailbox the report came through.
    pub const KIND: &str = "mailbox.kind";
    /// Charset labels (comma-separated) whose text could not be decoded exactly: an unknown
    /// label (decoded as UTF-8 with replacement characters) or bytes invalid in the label's
    /// charset. The department sees the text may be garbled.
    pub const LOSSY_CHARSET: &str = "mailbox.lossy_charset";
    /// `"true"` when the body was longer than the description limit and was cut.
    pub const DESCRIPTION_TRUNCATED: &str = "mailbox.description_truncated";
    /// How many attachments past the limit were dropped.
    pub const ATTACHMENTS_DROPPED: &str = "mailbox.attachments_dropped";
    /// Prefix of `mailbox.attachment.<n>.filename`: the file name the sender gave attachment n.
    pub const ATTACHMENT_PREFIX: &str = "mailbox.attachment.";
}

/// How to translate: the source system's name and the limits to respect.
#[derive(Debug, Clone)]
pub struct Options {
    /// `source_system` of every request, e.g. `mailbox:xian`.
    pub source_system: String,
    /// Longest description in characters; a longer mail body is cut and flagged, a longer form
    /// `content` is refused.
    pub max_description_chars: usize,
    /// Longest title, name or address in characters (mail: cut; form: refused).
    pub max_field_chars: usize,
    /// Most attachments on one request (mail: the rest are dropped and counted; form: refused).
    pub max_attachments: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            source_system: "mailbox".into(),
            max_description_chars: 10_000,
            max_field_chars: 200,
            max_attachments: 20,
        }
    }
}

/// A mail that makes a ticket: the request, and the attachments' bytes the caller must store
/// (under [`AttachmentData::sha256`]) before submitting it.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub request: pb::Request,
    /// In the order of `request.attachments`.
    pub attachments: Vec<AttachmentData>,
}

/// What became of a mail.
#[derive(Debug, Clone, PartialEq)]
pub enum MailOutcome {
    /// A citizen's report (boxed: it is much larger than the other variant).
    Ticket(Box<Translated>),
    /// Machine-generated mail: no ticket.
    Ignored(Ignored),
}
