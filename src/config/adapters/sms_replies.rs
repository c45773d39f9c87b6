//! `[adapters.sms_replies]`: citizens' SMS replies to result notices (回访 by 上行短信),
//! `POST /v1/sms/replies`, called by the SMS gateway. The callback is described, not coded
//! (see `minhu_adapter_hotline12345::sms_reply`): where the phone, the text and the message id
//! are in its body, and how the gateway proves it sent it (a signature, else a shared token).
//! Here rather than under `[notify.sms]`: it is an endpoint on the HTTP listener, like every
//! `[adapters.*]`, it has its own secret (gateways sign callbacks with a callback key, not the
//! sending key), and it can run without the SMS sender (a 12345 platform forwarding replies).
//!
//! ```toml
//! [adapters.sms_replies]
//! enabled = true
//! secret_env = "SMS_REPLY_SECRET"
//! window = "7d"                     # replies rate result notices sent this recently
//!
//! [adapters.sms_replies.callback]
//! phone_field = "mobile"
//! text_field = "content"
//! message_id_field = "msgId"
//!
//! [adapters.sms_replies.callback.signature]
//! algorithm = "hmac-sha256"
//! header = "X-Signature"
//! signed = "{timestamp}\n{body}"
//! timestamp_header = "X-Timestamp"
//! ```
use std::path::PathBuf;
use std::time::Duration;

use minhu_adapter_hotline12345::sms_reply::{Replies, ReplySpec};
use serde::Deserialize;

use crate::config::problem::Problems;
use crate::config::secret::{self, Sources};

const KEY: &str = "adapters.sms_replies";

/// The SMS reply door. Off unless `enabled`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsRepliesConfig {
    /// Whether `POST /v1/sms/replies` is served.
    pub enabled: bool,
    /// A reply rates the most recent result notice sent to that phone this long ago at most
    /// (and not yet rated); an older one is not taken as a rating. As in `"7d"`.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// A signed callback whose timestamp is further than this from now (either side) is
    /// refused, so a captured one cannot be played again later.
    #[serde(with = "humantime_serde")]
    pub max_skew: Duration,
    /// Largest callback body in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    /// The shared secret (signing key or token), inline. Prefer `secret_env` or
    /// `secret_file`; exactly one of the three is set.
    pub secret: String,
    /// The name of an environment variable holding the secret (not a `MINHU_` one: those are
    /// config overrides; `MINHU_ADAPTERS__SMS_REPLIES__SECRET` overrides `secret`).
    pub secret_env: String,
    /// A file holding the secret (trailing whitespace ignored).
    pub secret_file: Option<PathBuf>,
    /// The callback (`[adapters.sms_replies.callback]`): body encoding, fields, token or
    /// signature.
    pub callback: ReplySpec,
}

impl Default for SmsRepliesConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            window: Duration::from_secs(7 * 86_400),
            max_skew: Duration::from_secs(300),
            max_body_bytes: 16 * 1024,
            secret: String::new(),
            secret_env: String::new(),
            secret_file: None,
            callback: ReplySpec::default(),
        }
    }
}

impl SmsRepliesConfig {
    /// The shared secret, from wherever it is configured.
    pub fn shared_secret(&self) -> Result<String, secret::SecretProblem> {
        secret::resolve(Sources {
            section: KEY,
            name: "secret",
            inline: &self.secret,
            env: &self.secret_env,
            file: secret::path(&self.secret_file),
        })
    }

    /// The callback description compiled with its secret; every problem as (key, message).
    pub fn compile(&self) -> Result<Replies, Vec<(String, String)>> {
        let secret = match self.shared_secret() {
            Ok(s) => s,
            Err(p) => return Err(vec![p]),
        };
        Replies::compile(&self.callback, &secret, self.max_skew).map_err(|ps| {
            ps.into_iter()
                .map(|(k, m)| match k.as_str() {
                    // The secret sits beside the callback, not in it.
                    "secret" => (format!("{KEY}.secret"), m),
                    _ => (format!("{KEY}.callback.{k}"), m),
                })
                .collect()
        })
    }

    /// Records every problem under `adapters.sms_replies.*` (only when enabled).
    pub fn check(&self, p: &mut Problems) {
        if !self.enabled {
            return;
        }
        if self.window < Duration::from_secs(3600) || self.window > Duration::from_secs(90 * 86_400)
        {
            p.add(format!("{KEY}.window"), "must be between 1h and 90d");
        }
        if self.max_skew.is_zero() || self.max_skew > Duration::from_secs(3600) {
            p.add(format!("{KEY}.max_skew"), "must be between 1s and 1h");
        }
        if !(1024..=1024 * 1024).contains(&self.max_body_bytes) {
            p.add(
                format!("{KEY}.max_body_bytes"),
                "must be between 1024 and 1048576",
            );
        }
        if let Err(problems) = self.compile() {
            for (k, m) in problems {
                p.add(k, m);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(toml: &str) -> Vec<String> {
        let cfg: SmsRepliesConfig = toml::from_str(toml).expect("parses");
        let mut p = Problems::new("minhu.toml");
        cfg.check(&mut p);
        p.list.into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn off_by_default_and_fine_with_a_secret_and_a_scheme() {
        assert!(problems("").is_empty());
        assert!(problems("enabled = true\nsecret = \"k\"\n[callback.signature]\n").is_empty());
        assert!(
            problems("enabled = true\nsecret = \"k\"\n[callback]\ntoken_header = \"X-Token\"\n")
                .is_empty()
        );
        let cfg: SmsRepliesConfig = toml::from_str("").expect("parses");
        assert_eq!(cfg.window, Duration::from_secs(7 * 86_400));
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let keys = problems(
            "enabled = true\nwindow = \"10m\"\nmax_skew = \"0s\"\nmax_body_bytes = 10\n\
             [callback]\ntext_field = \"\"\n[callback.signature]\nsigned = \"{nonce}\"\n",
        );
        assert_eq!(
            keys,
            [
                "adapters.sms_replies.window",
                "adapters.sms_replies.max_skew",
                "adapters.sms_replies.max_body_bytes",
                "adapters.sms_replies.callback.text_field",
                "adapters.sms_replies.secret",
                "adapters.sms_replies.callback.signature.nonce_header",
            ]
        );
        let both = problems(
            "enabled = true\nsecret = \"a\"\nsecret_env = \"B\"\n[callback]\ntoken_header = \"X\"\n",
        );
        assert_eq!(both, ["adapters.sms_replies.secret"]);
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(toml::from_str::<SmsRepliesConfig>("enabled = true\nsecrett = \"k\"\n").is_err());
        assert!(toml::from_str::<SmsRepliesConfig>("[callback]\nphone = \"m\"\n").is_err());
        assert!(
            toml::from_str::<SmsRepliesConfig>("[callback.signature]\nheadr = \"X\"\n").is_err()
        );
    }
}
