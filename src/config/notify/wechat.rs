//! `[notify.wechat]`: WeChat messages to citizens who reported through an official account or
//! a mini-program (see `crate::notify::wechat` for which message goes when).
//!
//! Each account is found by the `source_system` its citizens' reports carry, `wechat:<AppId>`
//! (the intake names an official account by its AppId, or by its `[[adapters.wechat.accounts]]`
//! id when that has none: set `account_id` then). Secrets are best kept out of this file:
//! `app_secret_env` names an environment variable (not starting with `MINHU_`: those are read
//! as config overrides), `app_secret_file` a file holding the AppSecret (a relative path is
//! relative to the working directory, as the other `*_file` keys).
//!
//! ```toml
//! [notify.wechat]
//! enabled = true
//!
//! [[notify.wechat.accounts]]
//! app_id = "wx5d8f1a2b3c4d5e6f"
//! app_secret_env = "WECHAT_APP_SECRET"
//! template_id = "Wb6zOSy0Zq0p5lM0-2n1VTl0G3GvjuUY_OqgrU3nBtA"
//! url = "https://12345.example.gov.cn/case?ticket={ticket_id}"
//! fields = { character_string1 = "{ticket_id}", thing2 = "{title}", thing3 = "{department}", thing4 = "{result}", time5 = "{completed_at}" }
//!
//! [[notify.wechat.miniprograms]]
//! app_id = "wx0a1b2c3d4e5f6a7b"
//! app_secret_file = "/etc/minhu/secrets/miniprogram"
//! template_id = "bDmywsp2oEHjwAadTGKkUJ-eJEiMiOf7H-dZ7wjdw80"
//! page = "pages/case/detail?ticket={ticket_id}"
//! fields = { character_string1 = "{ticket_id}", thing2 = "{result}", time3 = "{completed_at}" }
//! ```
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use minhu_adapter::template::Template;
use serde::Deserialize;

use crate::config::problem::Problems;
use crate::notify::Facts;

/// The customer-service text when an account sets none.
pub const DEFAULT_TEXT: &str = "您好，您反映的问题（工单号 {ticket_id}）已由{department}办结。\n请直接回复评价：1 满意，2 基本满意，3 不满意；问题仍未解决请回复 0 并写明情况。\n办理结果：{result}";

/// WeChat messages to citizens who reported through an official account or mini-program. Off
/// unless `enabled`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WechatNotifyConfig {
    /// Whether this sender runs; notices for its route are recorded as unreachable otherwise.
    pub enabled: bool,
    /// Where the WeChat API is (scheme and host, no path); tests point it at a stand-in, a
    /// government network at its outbound proxy.
    pub api_base: String,
    /// Longest wait for one API call (token or message); a call that takes longer is retried
    /// later.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// The official accounts (服务号) citizens are answered from.
    pub accounts: Vec<NotifyAccount>,
    /// The mini-programs citizens are answered from (subscribe messages only).
    pub miniprograms: Vec<NotifyMiniProgram>,
}

impl Default for WechatNotifyConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            api_base: "https://api.weixin.qq.com".into(),
            timeout: Duration::from_secs(10),
            accounts: Vec::new(),
            miniprograms: Vec::new(),
        }
    }
}

/// One official account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyAccount {
    /// The account's AppId: tokens are fetched for it, and reports whose `source_system` is
    /// `wechat:<app_id>` are answered from it.
    pub app_id: String,
    /// The `[[adapters.wechat.accounts]]` id, when that account has no `app_id` there (its
    /// reports then carry `wechat:<id>`).
    #[serde(default)]
    pub account_id: String,
    /// The AppSecret itself (discouraged: config files get copied around); or
    /// `app_secret_env` or `app_secret_file`, exactly one of the three.
    #[serde(default)]
    pub app_secret: String,
    /// An environment variable holding the AppSecret; not `MINHU_…` (those are config
    /// overrides, and an unknown one is refused).
    #[serde(default)]
    pub app_secret_env: String,
    /// A file holding the AppSecret (surrounding whitespace ignored).
    #[serde(default)]
    pub app_secret_file: Option<PathBuf>,
    /// The customer-service text (客服消息), sent while the citizen last wrote within 48 hours.
    /// Placeholders: see `Facts::PLACEHOLDERS`.
    #[serde(default = "default_text")]
    pub text: String,
    /// The template message (模板消息) sent otherwise; empty: none, and a citizen outside the
    /// 48 hours is unreachable.
    #[serde(default)]
    pub template_id: String,
    /// Where tapping the template message leads; a template (values are URL-encoded).
    #[serde(default)]
    pub url: String,
    /// The template's fields: key (`thing2`, `keyword1`, ...) → text template. Values are
    /// fitted to the key's type (`thing` ≤ 20 characters, ...).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// One mini-program.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyMiniProgram {
    /// The mini-program's AppId: reports whose `source_system` is `wechat:<app_id>` and that
    /// came from a mini-program are answered from it.
    pub app_id: String,
    /// The AppSecret itself (discouraged: config files get copied around); or
    /// `app_secret_env` or `app_secret_file`, exactly one of the three.
    #[serde(default)]
    pub app_secret: String,
    /// An environment variable holding the AppSecret; not `MINHU_…` (those are config
    /// overrides, and an unknown one is refused).
    #[serde(default)]
    pub app_secret_env: String,
    /// A file holding the AppSecret (surrounding whitespace ignored).
    #[serde(default)]
    pub app_secret_file: Option<PathBuf>,
    /// The subscribe message (订阅消息) template the citizen agreed to receive.
    #[serde(default)]
    pub template_id: String,
    /// The page tapping the message opens, with its query; a template (values URL-encoded).
    #[serde(default)]
    pub page: String,
    /// `developer`, `trial` or `formal` (WeChat's default when empty): which version of the
    /// mini-program the page opens in.
    #[serde(default)]
    pub state: String,
    /// The template's fields: key (`thing2`, `character_string1`, ...) → text template. Values
    /// are fitted to the key's type (`thing` ≤ 20 characters, `character_string` ≤ 32, ...).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

fn default_text() -> String {
    DEFAULT_TEXT.to_owned()
}

/// Where an AppSecret comes from: the three `app_secret*` keys of an account.
#[derive(Debug, Clone, Copy)]
pub struct SecretSource<'a> {
    pub app_secret: &'a str,
    pub app_secret_env: &'a str,
    pub app_secret_file: Option<&'a std::path::Path>,
}

impl NotifyAccount {
    /// Where this account's AppSecret comes from.
    pub fn secret(&self) -> SecretSource<'_> {
        SecretSource {
            app_secret: &self.app_secret,
            app_secret_env: &self.app_secret_env,
            app_secret_file: self.app_secret_file.as_deref(),
        }
    }
}

impl NotifyMiniProgram {
    /// Where this mini-program's AppSecret comes from.
    pub fn secret(&self) -> SecretSource<'_> {
        SecretSource {
            app_secret: &self.app_secret,
            app_secret_env: &self.app_secret_env,
            app_secret_file: self.app_secret_file.as_deref(),
        }
    }
}

impl SecretSource<'_> {
    /// The AppSecret, read now from where it is configured.
    pub fn resolve(&self) -> Result<String, String> {
        let set = [
            !self.app_secret.is_empty(),
            !self.app_secret_env.is_empty(),
            self.app_secret_file.is_some(),
        ];
        if set.iter().filter(|s| **s).count() != 1 {
            return Err("set exactly one of app_secret, app_secret_env, app_secret_file".into());
        }
        if self.app_secret_env.starts_with("MINHU_") {
            return Err(format!(
                "app_secret_env {:?}: MINHU_ variables are read as config overrides; name it otherwise (e.g. WECHAT_APP_SECRET)",
                self.app_secret_env
            ));
        }
        let secret = if !self.app_secret.is_empty() {
            self.app_secret.to_owned()
        } else if let Some(path) = self.app_secret_file {
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read app_secret_file {}: {e}", path.display()))?
        } else {
            std::env::var(self.app_secret_env).map_err(|_| {
                format!(
                    "environment variable {} (app_secret_env) is not set",
                    self.app_secret_env
                )
            })?
        };
        let secret = secret.trim().to_owned();
        if secret.is_empty() {
            return Err("the AppSecret is empty".into());
        }
        Ok(secret)
    }
}

impl WechatNotifyConfig {
    /// Records every problem under `notify.wechat.*`.
    pub fn check(&self, p: &mut Problems) {
        if !self.enabled {
            return;
        }
        let key = "notify.wechat";
        if let Err(why) = check_api_base(&self.api_base) {
            p.add(format!("{key}.api_base"), why);
        }
        if self.timeout.is_zero() {
            p.add(format!("{key}.timeout"), "must be longer than 0s");
        }
        if self.accounts.is_empty() && self.miniprograms.is_empty() {
            p.add(
                key,
                "enabled, but no [[notify.wechat.accounts]] or [[notify.wechat.miniprograms]]",
            );
        }
        let mut names = HashSet::new();
        for (i, a) in self.accounts.iter().enumerate() {
            let k = format!("{key}.accounts[{i}]");
            app(p, &k, &a.app_id, a.secret(), &mut names);
            if !a.account_id.is_empty() && !names.insert(a.account_id.clone()) {
                p.add(
                    format!("{k}.account_id"),
                    format!("{:?} names another account too", a.account_id),
                );
            }
            template(p, &format!("{k}.text"), &a.text, true);
            fields(p, &k, &a.template_id, &a.fields);
            if !a.url.is_empty() {
                template(p, &format!("{k}.url"), &a.url, false);
                if !(a.url.starts_with("https://") || a.url.starts_with("http://"))
                    || a.url.contains(char::is_whitespace)
                {
                    p.add(
                        format!("{k}.url"),
                        "must be an http:// or https:// URL without spaces",
                    );
                }
                if a.template_id.is_empty() {
                    p.add(
                        format!("{k}.url"),
                        "is for template messages: set template_id",
                    );
                }
            }
        }
        let mut names = HashSet::new();
        for (i, m) in self.miniprograms.iter().enumerate() {
            let k = format!("{key}.miniprograms[{i}]");
            app(p, &k, &m.app_id, m.secret(), &mut names);
            if m.template_id.trim().is_empty() {
                p.add(format!("{k}.template_id"), "is required");
                if m.fields.is_empty() {
                    p.add(format!("{k}.fields"), "is required");
                }
            }
            fields(p, &k, &m.template_id, &m.fields);
            if !m.page.is_empty() {
                template(p, &format!("{k}.page"), &m.page, false);
                if m.page.contains("://") || m.page.contains(char::is_whitespace) {
                    p.add(
                        format!("{k}.page"),
                        "must be a page path inside the mini-program (pages/x/y?a=b), not a URL",
                    );
                }
            }
            if !matches!(m.state.as_str(), "" | "developer" | "trial" | "formal") {
                p.add(
                    format!("{k}.state"),
                    "must be developer, trial or formal (or left out)",
                );
            }
        }
    }
}

/// The API base as the sender uses it: no trailing slash.
pub fn check_api_base(base: &str) -> Result<String, String> {
    let trimmed = base.trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed)
        .map_err(|e| format!("must be an http:// or https:// URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("must be an http:// or https:// URL with a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must have no query or fragment".into());
    }
    Ok(trimmed.to_owned())
}

fn app(
    p: &mut Problems,
    k: &str,
    app_id: &str,
    secret: SecretSource<'_>,
    names: &mut HashSet<String>,
) {
    if app_id.is_empty()
        || !app_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        p.add(
            format!("{k}.app_id"),
            "must be the AppId (letters and digits)",
        );
    } else if !names.insert(app_id.to_owned()) {
        p.add(format!("{k}.app_id"), format!("duplicate AppId {app_id:?}"));
    }
    if let Err(why) = secret.resolve() {
        p.add(format!("{k}.app_secret"), why);
    }
}

fn template(p: &mut Problems, k: &str, text: &str, required: bool) {
    if required && text.trim().is_empty() {
        p.add(k, "must not be empty");
    }
    if let Err(e) = Template::parse(text, Facts::PLACEHOLDERS) {
        p.add(k, e.to_string());
    }
}

fn fields(p: &mut Problems, k: &str, template_id: &str, fields: &BTreeMap<String, String>) {
    if template_id.is_empty() && !fields.is_empty() {
        p.add(format!("{k}.fields"), "need a template_id");
    }
    if !template_id.is_empty() && fields.is_empty() {
        p.add(
            format!("{k}.fields"),
            "must map the template's keys (thing1, ...) to text",
        );
    }
    if template_id != template_id.trim() || template_id.contains(char::is_whitespace) {
        p.add(format!("{k}.template_id"), "must not contain spaces");
    }
    for (name, text) in fields {
        let fk = format!("{k}.fields.{name}");
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            p.add(&fk, "must be a template key such as thing2 or keyword1");
        }
        template(p, &fk, text, true);
    }
}
