//! `[adapters.*]`: settings of the channel adapters mounted on the HTTP listener. Each channel's
//! settings live in a file of its own under `adapters/`.
use serde::Deserialize;

pub mod mailbox;
pub mod wechat;

/// Settings of every channel adapter.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AdaptersConfig {
    /// WeChat official accounts and mini-programs.
    pub wechat: wechat::WechatConfig,
    /// The mayor's mailbox (e-mail and web form).
    pub mailbox: mailbox::MailboxConfig,
}
