//! `[adapters.wechat]`: WeChat official accounts (服务号/订阅号) and mini-programs (小程序).
//!
//! The default account's credentials sit at the top of the section, so a single-account city
//! sets them from the environment (`MINHU_ADAPTERS__WECHAT__TOKEN`,
//! `MINHU_ADAPTERS__WECHAT__ENCODING_AES_KEY`, `MINHU_ADAPTERS__WECHAT__APP_ID`); its server URL
//! is `/v1/wechat`. Further accounts are `[[adapters.wechat.accounts]]`, each served at
//! `/v1/wechat/<id>`. Mini-programs post to `/v1/wechat/miniprogram`, authenticated with an
//! HMAC-SHA256 secret each (see `minhu_adapter_wechat::miniprogram`).
//!
//! ```toml
//! [adapters.wechat]
//! enabled = true
//! token = "minhu2026"
//! encoding_aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
//! app_id = "wx5d8f1a2b3c4d5e6f"
//! miniprogram_app_id = "wx0a1b2c3d4e5f6a7b"
//! miniprogram_secret = "a long random string shared with the mini-program backend"
//!
//! [[adapters.wechat.accounts]]
//! id = "lianhu"
//! token = "lianhu-token"
//! app_id = "wx1111111111111111"
//! ```
use std::time::Duration;

use serde::Deserialize;

use crate::config::problem::Problems;

/// WeChat adapter settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WechatConfig {
    /// Whether `/v1/wechat` and `/v1/wechat/miniprogram` are served.
    pub enabled: bool,
    /// Token (令牌) of the default account, served at `/v1/wechat`; empty: no default account.
    pub token: String,
    /// EncodingAESKey (消息加解密密钥, 43 characters) of the default account; empty: plain
    /// mode only (encrypted pushes are refused).
    pub encoding_aes_key: String,
    /// AppId of the default account; must match the one inside every encrypted push, and names
    /// the account in `source_system` (`wechat:<app_id>`).
    pub app_id: String,
    /// Further official accounts, each at `/v1/wechat/<id>`.
    pub accounts: Vec<WechatAccount>,
    /// AppId of the default mini-program (sent as `X-Minhu-App-Id`); empty: none.
    pub miniprogram_app_id: String,
    /// HMAC-SHA256 secret shared with the default mini-program's backend.
    pub miniprogram_secret: String,
    /// Further mini-programs.
    pub miniprograms: Vec<MiniProgram>,
    /// Pushes whose `timestamp` is further than this from now (either side) are refused as
    /// replays.
    #[serde(with = "humantime_serde")]
    pub timestamp_window: Duration,
    /// A citizen's messages within this time of their last accepted one join that report's
    /// case (text, then a photo, then a location = one report).
    #[serde(with = "humantime_serde")]
    pub follow_up_window: Duration,
    /// Longest wait for the store before answering; WeChat gives up after 5 s and retries, and
    /// the retry is recognised as a replay.
    #[serde(with = "humantime_serde")]
    pub reply_timeout: Duration,
    /// Largest request body accepted on these routes; larger ones get 413.
    pub max_body_bytes: usize,
    /// A text that reads as a rating ("1", "满意", "0 还是坏的") from a citizen sent a result
    /// notice on WeChat this long ago at most (and not yet rated) rates it (回访) instead of
    /// becoming a report. `"0s"`: every text is a report.
    #[serde(with = "humantime_serde")]
    pub rating_window: Duration,
}

impl Default for WechatConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            token: String::new(),
            encoding_aes_key: String::new(),
            app_id: String::new(),
            accounts: Vec::new(),
            miniprogram_app_id: String::new(),
            miniprogram_secret: String::new(),
            miniprograms: Vec::new(),
            timestamp_window: Duration::from_secs(300),
            follow_up_window: Duration::from_secs(600),
            reply_timeout: Duration::from_millis(4500),
            max_body_bytes: 64 * 1024,
            rating_window: Duration::from_secs(7 * 86_400),
        }
    }
}

/// One more official account.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WechatAccount {
    /// Path segment: the account's server URL is `/v1/wechat/<id>` (letters, digits, `-`, `_`).
    pub id: String,
    /// Token (令牌) from the account's server configuration.
    pub token: String,
    /// EncodingAESKey (43 characters); empty: plain mode only.
    #[serde(default)]
    pub encoding_aes_key: String,
    /// AppId; required in safe mode, and names the account in `source_system` (else the id).
    #[serde(default)]
    pub app_id: String,
}

/// One more mini-program.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MiniProgram {
    /// The mini-program's AppId, sent by its backend as `X-Minhu-App-Id`.
    pub app_id: String,
    /// HMAC-SHA256 secret shared with that backend.
    pub secret: String,
}

impl WechatConfig {
    /// Every problem in the section, reported under `adapters.wechat.*`.
    pub fn check(&self, p: &mut Problems) {
        if !self.enabled {
            return;
        }
        let key = "adapters.wechat";
        if !self.token.is_empty() || !self.encoding_aes_key.is_empty() {
            account(p, key, &self.token, &self.encoding_aes_key, &self.app_id);
        }
        let mut ids = std::collections::HashSet::new();
        for (i, a) in self.accounts.iter().enumerate() {
            let k = format!("{key}.accounts[{i}]");
            if a.id.is_empty()
                || a.id == "miniprogram"
                || !a
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                p.add(
                    format!("{k}.id"),
                    "must be letters, digits, '-' or '_' (and not \"miniprogram\")",
                );
            }
            if !ids.insert(a.id.as_str()) {
                p.add(
                    format!("{k}.id"),
                    format!("duplicate account id {:?}", a.id),
                );
            }
            account(p, &k, &a.token, &a.encoding_aes_key, &a.app_id);
        }
        if self.miniprogram_app_id.is_empty() != self.miniprogram_secret.is_empty() {
            p.add(
                format!("{key}.miniprogram_secret"),
                "miniprogram_app_id and miniprogram_secret go together",
            );
        }
        for (i, m) in self.miniprograms.iter().enumerate() {
            if m.app_id.is_empty() || m.secret.len() < 16 {
                p.add(
                    format!("{key}.miniprograms[{i}]"),
                    "needs app_id and a secret of at least 16 characters",
                );
            }
        }
        if !self.miniprogram_secret.is_empty() && self.miniprogram_secret.len() < 16 {
            p.add(
                format!("{key}.miniprogram_secret"),
                "must be at least 16 characters",
            );
        }
        if self.timestamp_window.is_zero() {
            p.add(format!("{key}.timestamp_window"), "must be longer than 0s");
        }
        if self.max_body_bytes < 1024 {
            p.add(format!("{key}.max_body_bytes"), "must be at least 1024");
        }
        if self.rating_window > Duration::from_secs(90 * 86_400) {
            p.add(format!("{key}.rating_window"), "must be at most 90d");
        }
    }
}

fn account(p: &mut Problems, key: &str, token: &str, aes_key: &str, app_id: &str) {
    if token.is_empty() {
        p.add(format!("{key}.token"), "is required");
    }
    if !aes_key.is_empty() {
        if minhu_adapter_wechat::crypto::Cipher::new(aes_key).is_err() {
            p.add(
                format!("{key}.encoding_aes_key"),
                "must be the 43-character EncodingAESKey from the WeChat console",
            );
        }
        if app_id.is_empty() {
            p.add(format!("{key}.app_id"), "is required with encoding_aes_key");
        }
    }
}
