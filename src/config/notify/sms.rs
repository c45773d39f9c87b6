//! `[notify.sms]`: SMS to hotline and phone-only citizens through an HTTP SMS gateway.
use serde::Deserialize;

use crate::config::problem::Problems;

/// SMS to hotline and phone-only citizens through an HTTP SMS gateway. Off unless `enabled`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsNotifyConfig {
    /// Whether this sender runs; notices for its route are recorded as unreachable otherwise.
    pub enabled: bool,
}

impl SmsNotifyConfig {
    /// Records every problem under `notify.sms.*`.
    pub fn check(&self, _p: &mut Problems) {}
}
