//! `[notify]` in `config/minhu.toml`: answering citizens (see [`crate::notify`]). The ledger's
//! retry policy lives here; each channel's sender has its own section, in its own file under
//! `notify/`, and is off until configured:
//!
//! ```toml
//! [notify]
//! max_attempts = 10         # then the notice is dead-lettered (minhu_notices_dead_total)
//! backoff = "30s"           # first retry; doubles per attempt
//! max_backoff = "1h"
//!
//! [notify.wechat]           # see notify/wechat.rs
//! [notify.email]            # see notify/email.rs
//! [notify.sms]              # see notify/sms.rs
//! ```
use std::time::Duration;

use serde::Deserialize;

use super::problem::Problems;

pub mod email;
pub mod sms;
pub mod wechat;

/// The notifier's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Attempts of one notice before it is dead-lettered: kept in the ledger with its last
    /// error, counted in `minhu_notices_dead_total`, and not tried again.
    pub max_attempts: u32,
    /// Wait before the first retry; each further retry waits twice as long (with jitter).
    #[serde(with = "humantime_serde")]
    pub backoff: Duration,
    /// Longest wait between two attempts.
    #[serde(with = "humantime_serde")]
    pub max_backoff: Duration,
    /// Notices sent at once, over all routes.
    pub concurrency: usize,
    /// WeChat: customer-service, template and subscribe messages.
    pub wechat: wechat::WechatNotifyConfig,
    /// E-mail over SMTP.
    pub email: email::EmailNotifyConfig,
    /// SMS through an HTTP SMS gateway.
    pub sms: sms::SmsNotifyConfig,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
            concurrency: 16,
            wechat: Default::default(),
            email: Default::default(),
            sms: Default::default(),
        }
    }
}

impl NotifyConfig {
    /// Records every problem under `notify.*`.
    pub fn check(&self, p: &mut Problems) {
        if self.max_attempts == 0 {
            p.add("notify.max_attempts", "must be at least 1");
        }
        if self.backoff.is_zero() {
            p.add("notify.backoff", "must be longer than 0s");
        }
        if self.max_backoff < self.backoff {
            p.add(
                "notify.max_backoff",
                "must not be shorter than notify.backoff",
            );
        }
        if self.concurrency == 0 {
            p.add("notify.concurrency", "must be at least 1");
        }
        self.wechat.check(p);
        self.email.check(p);
        self.sms.check(p);
    }
}
