//! `[notify.sms]`: SMS to hotline (12345) and phone-only citizens through an HTTP SMS gateway.
//! The gateway itself is described, not coded: its URL, body, headers, signature and answer
//! codes live in `[notify.sms.gateway]` (see `minhu_adapter_hotline12345::sms` for the
//! placeholders), so a city's own platform or a commercial one is a config change. The shared
//! secret is kept apart from the description, inline or (better) from an environment variable
//! or a file. Sample:
//!
//! ```toml
//! [notify.sms]
//! enabled = true
//! quiet_hours = "22:00-08:00"      # Beijing time; "off" sends at any hour
//! secret_env = "SMS_GATEWAY_SECRET"
//!
//! [notify.sms.gateway]
//! url = "https://sms.example.gov.cn/api/v1/send"
//! body = { mobile = "{phone}", content = "{text}", requestId = "{notice_id}", ts = "{timestamp}" }
//! headers = { "X-App-Id" = "minhu" }
//! code_field = "code"
//! success_codes = ["OK"]
//! permanent_codes = ["MOBILE_INVALID", "MOBILE_BLACKLISTED"]
//! receipt_field = "data.bizId"
//!
//! [notify.sms.gateway.signature]
//! algorithm = "hmac-sha256"
//! header = "X-Signature"
//! signed = "{timestamp}\n{body}"
//! ```
use std::path::PathBuf;
use std::time::Duration;

use minhu_adapter::template::Template;
use minhu_adapter_hotline12345::sms::{Gateway, GatewaySpec, QuietHours};
use serde::Deserialize;

use crate::config::problem::Problems;
use crate::notify::Facts;

const KEY: &str = "notify.sms";

/// The default message: short, in the register of a government service, with what the citizen
/// needs to recognise their report and the result.
pub const DEFAULT_TEXT: &str = "您好！您反映的诉求（编号{ticket_id}）已由{department}办理完毕。办理结果：{result}。如有疑问，请拨打12345热线。";

/// SMS to hotline and phone-only citizens through an HTTP SMS gateway. Off unless `enabled`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsNotifyConfig {
    /// Whether this sender runs; notices for its route are recorded as unreachable otherwise.
    pub enabled: bool,
    /// The message, a template over the case's facts: `{ticket_id}`, `{department}`,
    /// `{result}`, `{title}`, `{category}`, `{case_id}`, `{completed_at}`, `{reported_at}`.
    /// Gateways that require the sender's signature (签名, `【…】`) in the text need it here.
    pub text: String,
    /// The text is cut to this many characters (ending in `…`); long SMS are billed per 67.
    pub max_chars: usize,
    /// No SMS goes out in this daily window of Beijing time, `"HH:MM-HH:MM"` (may wrap
    /// midnight; start inclusive, end exclusive); notices due then wait for its end. `"off"`
    /// sends at any hour.
    pub quiet_hours: String,
    /// Longest wait for the gateway's answer (connection included); then the attempt is
    /// retried. As in `"10s"`.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// The gateway's shared secret, inline. Prefer `secret_env` or `secret_file`; at most one
    /// of the three is set, and one must be when the gateway signs requests.
    pub secret: String,
    /// The name of an environment variable holding the secret. Not `MINHU_…`: those are read
    /// as config overrides (`MINHU_NOTIFY__SMS__SECRET` is one, for `secret`).
    pub secret_env: String,
    /// A file holding the secret (trailing whitespace ignored), relative to the working
    /// directory.
    pub secret_file: Option<PathBuf>,
    /// PEM CA certificates to trust instead of the system's, for a gateway inside the
    /// e-government network with a certificate from its own CA.
    pub ca_file: Option<PathBuf>,
    /// The gateway: endpoint, body, headers, signature, answer codes.
    pub gateway: GatewaySpec,
}

impl Default for SmsNotifyConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            text: DEFAULT_TEXT.into(),
            max_chars: 300,
            quiet_hours: "22:00-08:00".into(),
            timeout: Duration::from_secs(10),
            secret: String::new(),
            secret_env: String::new(),
            secret_file: None,
            ca_file: None,
            gateway: GatewaySpec::default(),
        }
    }
}

pub use crate::config::secret::SecretProblem;

impl SmsNotifyConfig {
    /// The shared secret from wherever it is configured ("" when none is).
    pub fn secret(&self) -> Result<String, SecretProblem> {
        crate::config::secret::resolve(crate::config::secret::Sources {
            section: KEY,
            name: "secret",
            inline: &self.secret,
            env: &self.secret_env,
            file: self.secret_file.as_deref(),
        })
    }

    /// The quiet window, None when off (or unreadable: `check` reports that).
    pub fn quiet(&self) -> Option<QuietHours> {
        QuietHours::parse(&self.quiet_hours).ok().flatten()
    }

    /// The message template (a parse error is reported by `check`).
    pub fn text_template(&self) -> Result<Template, String> {
        Template::parse(&self.text, Facts::PLACEHOLDERS).map_err(|e| e.to_string())
    }

    /// The gateway, compiled with the secret; every problem as (key, message).
    pub fn compile(&self) -> Result<Gateway, Vec<(String, String)>> {
        let (secret, mut problems) = match self.secret() {
            Ok(s) => (s, Vec::new()),
            Err(p) => (String::new(), vec![p]),
        };
        if self.gateway.signature.is_some() && problems.is_empty() && secret.is_empty() {
            problems.push((
                format!("{KEY}.secret"),
                "the gateway signs requests: set secret_env, secret_file or secret".into(),
            ));
        }
        match Gateway::compile(&self.gateway, &secret, Facts::PLACEHOLDERS) {
            Ok(g) if problems.is_empty() => Ok(g),
            Ok(_) => Err(problems),
            Err(more) => {
                problems.extend(
                    more.into_iter()
                        .map(|(k, m)| (format!("{KEY}.gateway.{k}"), m)),
                );
                Err(problems)
            }
        }
    }

    /// Records every problem under `notify.sms.*` (only when enabled: a disabled section is
    /// never used, and its defaults name no gateway).
    pub fn check(&self, p: &mut Problems) {
        if !self.enabled {
            return;
        }
        if let Err(e) = self.text_template() {
            p.add(format!("{KEY}.text"), e);
        }
        if !(20..=1000).contains(&self.max_chars) {
            p.add(format!("{KEY}.max_chars"), "must be between 20 and 1000");
        }
        if let Err(e) = QuietHours::parse(&self.quiet_hours) {
            p.add(format!("{KEY}.quiet_hours"), e);
        }
        if self.timeout.is_zero() || self.timeout > Duration::from_secs(120) {
            p.add(format!("{KEY}.timeout"), "must be between 1ms and 120s");
        }
        if let Some(path) = &self.ca_file
            && !path.is_file()
        {
            p.add(
                format!("{KEY}.ca_file"),
                format!("{} is not a file", path.display()),
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

    fn problems(toml: &str) -> Vec<(String, String)> {
        let cfg: SmsNotifyConfig = toml::from_str(toml).expect("parses");
        let mut p = Problems::new("minhu.toml");
        cfg.check(&mut p);
        p.list.into_iter().map(|p| (p.key, p.message)).collect()
    }

    #[test]
    fn disabled_is_fine_and_the_defaults_with_a_gateway_are_fine() {
        assert_eq!(problems(""), []);
        assert_eq!(
            problems(
                "enabled = true\n[gateway]\nurl = \"https://sms.example/send\"\nbody = { m = \"{phone}\", c = \"{text}\" }\n"
            ),
            []
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let p = problems(
            r#"enabled = true
text = "{ticket_id} {nope}"
max_chars = 5
quiet_hours = "22:00"
timeout = "0s"
secret_env = "SMS_TEST_SECRET_THAT_IS_NEVER_SET"
[gateway]
url = "sms.example/send"
[gateway.signature]
"#,
        );
        let keys: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "notify.sms.text",
                "notify.sms.max_chars",
                "notify.sms.quiet_hours",
                "notify.sms.timeout",
                "notify.sms.secret_env",
                "notify.sms.gateway.url",
            ],
            "{p:#?}"
        );
    }

    #[test]
    fn a_signing_gateway_needs_exactly_one_secret() {
        let base = "enabled = true\n[gateway]\nurl = \"https://x/s\"\nbody = \"{text}\"\n[gateway.signature]\n";
        let p = problems(base);
        assert_eq!(p[0].0, "notify.sms.secret", "{p:?}");
        let both = base.replace(
            "enabled = true",
            "enabled = true\nsecret = \"a\"\nsecret_env = \"B\"",
        );
        assert!(problems(&both)[0].1.contains("only one"));
        let minhu = base.replace(
            "enabled = true",
            "enabled = true\nsecret_env = \"MINHU_SMS_SECRET\"",
        );
        assert!(problems(&minhu)[0].1.contains("config overrides"));
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("sms.secret");
        std::fs::write(&file, "s3cret\n").expect("write");
        let cfg: SmsNotifyConfig =
            toml::from_str(&format!("secret_file = {:?}", file.display().to_string()))
                .expect("parses");
        assert_eq!(cfg.secret(), Ok("s3cret".into()));
    }
}
