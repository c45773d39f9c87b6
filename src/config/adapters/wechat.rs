//! `[adapters.wechat]`.
use serde::Deserialize;

/// WeChat adapter settings.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct WechatConfig {
    /// Whether `/v1/wechat` is served.
    pub enabled: bool,
}
