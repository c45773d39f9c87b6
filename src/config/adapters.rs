//! `[adapters.*]`: settings of the channel adapters mounted on the HTTP listener. Each channel's
//! settings live in a file of its own under `adapters/`.
use serde::Deserialize;

pub mod citymgmt;
pub mod emergency;
pub mod hotline12345;
pub mod mailbox;
pub mod sms_replies;
pub mod wechat;

/// Settings of every channel adapter.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AdaptersConfig {
    /// WeChat official accounts and mini-programs.
    pub wechat: wechat::WechatConfig,
    /// The mayor's mailbox (e-mail and web form).
    pub mailbox: mailbox::MailboxConfig,
    /// 12345 hotline call-centre work orders.
    pub hotline12345: hotline12345::Hotline12345Config,
    /// Digital city management (数字城管) events and Open311 GeoReport v2.
    pub citymgmt: citymgmt::CitymgmtConfig,
    /// Transfers from the 110/119/120/122 emergency lines.
    pub emergency: emergency::EmergencyConfig,
    /// Citizens' SMS replies to result notices (回访), from the SMS gateway.
    pub sms_replies: sms_replies::SmsRepliesConfig,
}
