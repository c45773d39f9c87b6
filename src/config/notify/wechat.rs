//! `[notify.wechat]`: WeChat messages to citizens who reported through an official account or mini-program.
use serde::Deserialize;

use crate::config::problem::Problems;

/// WeChat messages to citizens who reported through an official account or mini-program. Off unless `enabled`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WechatNotifyConfig {
    /// Whether this sender runs; notices for its route are recorded as unreachable otherwise.
    pub enabled: bool,
}

impl WechatNotifyConfig {
    /// Records every problem under `notify.wechat.*`.
    pub fn check(&self, _p: &mut Problems) {}
}
