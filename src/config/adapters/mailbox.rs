//! `[adapters.mailbox]`.
use serde::Deserialize;

/// Mailbox adapter settings.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MailboxConfig {
    /// Whether `/v1/mailbox/*` is served.
    pub enabled: bool,
}
