//! `[adapters.mailbox]`: the mayor's mailbox (市长信箱) — raw e-mail posted by an MTA or piped
//! to `minhu ingest mail`, and the city web site's form. Every key can be overridden as
//! `MINHU_ADAPTERS__MAILBOX__<KEY>`.
use std::path::PathBuf;

use serde::Deserialize;

/// Mailbox adapter settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailboxConfig {
    /// Whether `/v1/mailbox/*` is served and `minhu ingest mail` accepts mail.
    pub enabled: bool,
    /// `source_system` of every mailbox request, e.g. `mailbox:xian`; part of the idempotency
    /// key together with the Message-ID (or the form's id).
    pub source_system: String,
    /// Content-addressed attachment store: an attachment with SHA-256 `h` is kept at
    /// `<attachments_dir>/<h[0..2]>/<h>` and referenced as `minhu-attachment:sha256:<h>`.
    /// Relative paths are relative to the working directory (like `[store] path`).
    pub attachments_dir: PathBuf,
    /// Largest raw message accepted (bytes, attachments included); larger gets 413 over HTTP
    /// and EX_DATAERR (65) from `minhu ingest mail`. Keep the MTA's limit (Postfix
    /// `message_size_limit`) at or below it.
    pub max_message_bytes: usize,
    /// Largest web-form body accepted (bytes); larger gets 413.
    pub max_form_bytes: usize,
    /// Longest description in characters: a longer mail body is cut (and flagged in
    /// `extra["mailbox.description_truncated"]`), a longer form `content` is refused. Keep it
    /// at or below `[limits] max_description_chars`.
    pub max_description_chars: usize,
    /// Longest subject, name or address in characters (mail: cut; form: refused). Keep it at or
    /// below `[limits] max_field_chars`.
    pub max_field_chars: usize,
    /// Most attachments kept from one mail (the rest are dropped and counted in
    /// `extra["mailbox.attachments_dropped"]`) or accepted on one form. Keep it at or below
    /// `[limits] max_attachments`.
    pub max_attachments: usize,
    /// When set, both endpoints require `Authorization: Bearer <token>` (401 otherwise).
    /// Empty: no authentication (bind the HTTP listener to a trusted network).
    pub token: String,
}

impl Default for MailboxConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            source_system: "mailbox".into(),
            attachments_dir: PathBuf::from("data/attachments"),
            max_message_bytes: 25 * 1024 * 1024,
            max_form_bytes: 64 * 1024,
            max_description_chars: 10_000,
            max_field_chars: 200,
            max_attachments: 20,
            token: String::new(),
        }
    }
}

impl MailboxConfig {
    /// The translator's options.
    pub fn options(&self) -> minhu_adapter_mailbox::Options {
        minhu_adapter_mailbox::Options {
            source_system: self.source_system.clone(),
            max_description_chars: self.max_description_chars,
            max_field_chars: self.max_field_chars,
            max_attachments: self.max_attachments,
        }
    }
}
