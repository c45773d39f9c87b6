//! The citizen side of the closed loop: answering every reporter of a case on their own
//! channel (专项反馈), and the ledger that makes each answer go out at least once and be
//! recorded once.
//!
//! - [`notice`]: what one notification is (route, address, facts), what a sender answers
//!   ([`Delivery`]), and the [`Sender`] trait each channel's sender implements.
//! - [`plan`]: who is told what when a case completes: one notice per reporter and route,
//!   duplicates folded, reporters who asked for no contact skipped (pure).
//! - [`systems`]: answers that go back through a system (12345 回访 task, 数字城管 核查 task,
//!   the result to an emergency dispatch centre) as messages on the system's queue.
//! - [`worker`]: the task that sends due notices through the senders and records each outcome
//!   in the store, retrying with backoff and dead-lettering after the configured attempts.
//! - [`wechat`], [`email`], [`sms`]: the senders (I/O, tokens, retries); what they send is
//!   rendered by the pure parts in the channels' adapter crates.
//! - [`metrics`]: the notifier's counters.
pub mod email;
pub mod metrics;
pub mod notice;
pub mod plan;
pub mod sms;
pub mod systems;
pub mod wechat;
pub mod worker;

pub use notice::{Address, Delivery, Facts, Notice, NoticeKind, Route, Sender, Senders};

/// The senders `[notify]` enables.
pub fn senders(cfg: &crate::config::notify::NotifyConfig) -> Result<Senders, NotifyError> {
    let mut senders = Senders::default();
    let failed = |route: Route| {
        move |e: &dyn std::fmt::Display| NotifyError {
            route: route.as_str(),
            message: e.to_string(),
        }
    };
    if let Some(s) = sms::SmsSender::from_config(&cfg.sms).map_err(|e| failed(Route::Sms)(&e))? {
        senders = senders.with(Route::Sms, s);
    }
    if let Some(s) =
        wechat::WechatSender::from_config(&cfg.wechat).map_err(|e| failed(Route::Wechat)(&e))?
    {
        senders = senders.with(Route::Wechat, s);
    }
    if let Some(s) =
        email::EmailSender::from_config(&cfg.email).map_err(|e| failed(Route::Email)(&e))?
    {
        senders = senders.with(Route::Email, s);
    }
    Ok(senders)
}

/// A sender that cannot be built from its config (a secret file that cannot be read, a CA
/// file that does not parse).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct NotifyError {
    pub route: &'static str,
    pub message: String,
}
