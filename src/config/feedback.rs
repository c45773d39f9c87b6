//! `[feedback]` in `config/minhu.toml`: the follow-up links (回访) sent to citizens answered by
//! e-mail, and the one-page form behind them, served on the HTTP listener at
//! `/v1/feedback/<token>`. Off while `public_url` is empty.
//!
//! ```toml
//! [feedback]
//! public_url = "https://minhu.example.gov.cn"  # how citizens reach the HTTP listener
//! key_file = "/etc/minhu/feedback.key"          # signs the links; 32 bytes or more
//! link_ttl = "30d"
//! ```
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::problem::Problems;
use super::secret::{self, Sources};

/// Shortest signing key, in bytes.
pub const MIN_KEY: usize = 32;

/// Follow-up link settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedbackConfig {
    /// The base URL citizens reach this gateway's HTTP listener at (usually through the
    /// internet zone's reverse proxy), e.g. `https://minhu.example.gov.cn`. Empty: no links are
    /// sent and the form is not served.
    pub public_url: String,
    /// The key that signs links (HMAC-SHA256), at least 32 bytes. Prefer `key_env` or
    /// `key_file`. Changing it invalidates the links already sent.
    pub key: String,
    /// Name of an environment variable holding the key (not a `MINHU_` one).
    pub key_env: String,
    /// A file holding the key.
    pub key_file: Option<PathBuf>,
    /// How long a link stays valid after the answer it came with.
    #[serde(with = "humantime_serde")]
    pub link_ttl: Duration,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        Self {
            public_url: String::new(),
            key: String::new(),
            key_env: String::new(),
            key_file: None,
            link_ttl: Duration::from_secs(30 * 86_400),
        }
    }
}

impl FeedbackConfig {
    /// Whether links are sent and the form served.
    pub fn enabled(&self) -> bool {
        !self.public_url.is_empty()
    }

    /// The signing key.
    pub fn signing_key(&self) -> Result<String, secret::SecretProblem> {
        secret::resolve(Sources {
            section: "feedback",
            name: "key",
            inline: &self.key,
            env: &self.key_env,
            file: secret::path(&self.key_file),
        })
    }

    /// Records every problem under `feedback.*`.
    pub fn check(&self, p: &mut Problems) {
        if !self.enabled() {
            return;
        }
        let url = self.public_url.trim_end_matches('/');
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
            p.add(
                "feedback.public_url",
                "must be an http:// or https:// URL, e.g. https://minhu.example.gov.cn",
            );
        }
        match self.signing_key() {
            Ok(k) if k.len() >= MIN_KEY => {}
            Ok(_) => p.add(
                "feedback.key",
                format!(
                    "a signing key of at least {MIN_KEY} bytes is required with public_url \
                     (e.g. key_file with the output of `head -c 32 /dev/urandom | base64`)"
                ),
            ),
            Err((key, message)) => p.add(key, message),
        }
        if self.link_ttl < Duration::from_secs(3600) {
            p.add("feedback.link_ttl", "must be at least 1h");
        }
    }
}
