//! `[notify.email]`: E-mail answers over SMTP to citizens who wrote to the mayor's mailbox.
use serde::Deserialize;

use crate::config::problem::Problems;

/// E-mail answers over SMTP to citizens who wrote to the mayor's mailbox. Off unless `enabled`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailNotifyConfig {
    /// Whether this sender runs; notices for its route are recorded as unreachable otherwise.
    pub enabled: bool,
}

impl EmailNotifyConfig {
    /// Records every problem under `notify.email.*`.
    pub fn check(&self, _p: &mut Problems) {}
}
