//! `[notify.email]`: e-mail answers over SMTP to citizens who wrote to the mayor's mailbox
//! (by e-mail or on the web form), sent by [`crate::notify::email`]:
//!
//! ```toml
//! [notify.email]
//! enabled = true
//! host = "smtp.xian.gov.cn"
//! tls = "starttls"                      # none | starttls (port 587) | tls (port 465)
//! username = "mayor-mailbox"
//! password_env = "SMTP_PASSWORD"        # or password_file, or MINHU_NOTIFY__EMAIL__PASSWORD
//! from = "mayor@xian.gov.cn"
//! from_name = "市长信箱"
//! ```
//!
//! Every key can be overridden as `MINHU_NOTIFY__EMAIL__<KEY>`. The password is best kept out
//! of the file: in a variable named by `password_env`, in `password_file`, or in
//! `MINHU_NOTIFY__EMAIL__PASSWORD` (which overrides `password`). Tested in
//! `tests/notify_email/config.rs`.
//!
//! The checks of every key are in `email/check.rs`.
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use minhu_adapter::template::{Template, TemplateError};
use serde::Deserialize;

use crate::notify::Facts;

mod check;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text; only for a relay on the same machine (no password may be sent this way).
    None,
    /// Plain connect, then `STARTTLS` before anything else; never falls back to plain text
    /// when the server does not offer it. Default port 587 (submission).
    #[default]
    Starttls,
    /// TLS from the first byte (implicit TLS, "SMTPS"). Default port 465.
    Tls,
}

/// E-mail answers over SMTP. Off unless `enabled`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailNotifyConfig {
    /// Whether this sender runs; notices for its route are recorded as unreachable otherwise.
    pub enabled: bool,
    /// The SMTP server (host name or IP address): the city's mail relay or submission server.
    pub host: String,
    /// Its port; when not set, 25 for `tls = "none"`, 587 for `starttls`, 465 for `tls`.
    pub port: Option<u16>,
    /// `none`, `starttls` (default) or `tls`; see [`SmtpTls`].
    pub tls: SmtpTls,
    /// PEM file of CA certificates trusted for the server's certificate in addition to the
    /// system's roots, e.g. the government network's own CA.
    pub ca_file: Option<PathBuf>,
    /// Login name (SMTP AUTH PLAIN or LOGIN); empty: no login.
    pub username: String,
    /// Login password, inline. Better kept out of this file: use `password_env` or
    /// `password_file` (at most one of the three), or set `MINHU_NOTIFY__EMAIL__PASSWORD`.
    pub password: String,
    /// The name of an environment variable holding the login password. Not `MINHU_…`: those
    /// are read as config overrides.
    pub password_env: String,
    /// File holding the login password (a trailing line break is ignored), e.g. a container
    /// secret. Read when the gateway starts.
    pub password_file: Option<PathBuf>,
    /// The answers' From address, also the envelope sender (`MAIL FROM`); bounces go there.
    pub from: String,
    /// The display name of `from`.
    pub from_name: String,
    /// Domain of the answers' Message-IDs (`<notice_id@domain>`); default: the domain of
    /// `from`. The id is the notice's, so a copy sent again after a crash is recognisable as
    /// the same message.
    pub message_id_domain: String,
    /// Name the gateway gives in `EHLO`; default: `message_id_domain`.
    pub ehlo_name: String,
    /// Subject of a result (办理结果) when the citizen's report had none (web forms, e-mails
    /// without a subject); answers to an e-mail with a subject are `Re: <their subject>`.
    /// Placeholders: `{case_id}`, `{ticket_id}`, `{title}`, `{category}`, `{department}`,
    /// `{result}`, `{completed_at}`, `{reported_at}` (times as `YYYY-MM-DD HH:MM`, Beijing
    /// time), `{rate_url}`.
    pub subject: String,
    /// The result's text (plain text, UTF-8): the placeholders of `subject`, and `{rate}`,
    /// which is `rate_text` when the case has a rating link (回访) and nothing otherwise. Runs
    /// of blank lines become one, so a line holding only `{rate}` leaves no gap when empty.
    pub body: String,
    /// Where `{rate}` asks the citizen to rate the result; placeholders as `subject`
    /// (`{rate_url}` is the link). Empty: no rating request by e-mail.
    pub rate_text: String,
    /// Subject of the notice that a case was reopened (二次办理: another reporter said the
    /// problem is not solved), when it cannot be `Re:` the citizen's; placeholders as
    /// `subject` (`{result}` says what happened).
    pub reopened_subject: String,
    /// Text of that notice; placeholders as `subject`.
    pub reopened_body: String,
    /// Longest one attempt may take, connection, TLS and every command included; then it is
    /// retried later.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

/// The default subject for reports that had none.
pub const DEFAULT_SUBJECT: &str = "您的诉求 {ticket_id} 办理结果";

/// The default result.
pub const DEFAULT_BODY: &str = "您好！

您反映的“{title}”（诉求编号 {ticket_id}）已由{department}办理完毕。

办理结果：
{result}

办结时间：{completed_at}

{rate}

感谢您对我们工作的关心和支持。如对办理结果有疑问，请拨打 12345 政务服务便民热线并告知诉求编号。

（本邮件由系统自动发送。）
";

/// The default rating request.
pub const DEFAULT_RATE_TEXT: &str = "请您对本次办理结果进行评价：{rate_url}";

/// The default subject of a reopened case's notice.
pub const DEFAULT_REOPENED_SUBJECT: &str = "您的诉求 {ticket_id} 已重新交办";

/// The default text of a reopened case's notice.
pub const DEFAULT_REOPENED_BODY: &str = "您好！

关于您反映的“{title}”（诉求编号 {ticket_id}）：{result}。

感谢您对我们工作的关心和支持。

（本邮件由系统自动发送。）
";

/// The placeholder of the bodies that holds `rate_text`, besides [`Facts::PLACEHOLDERS`].
pub const RATE: &str = "rate";

impl Default for EmailNotifyConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            host: String::new(),
            port: None,
            tls: SmtpTls::Starttls,
            ca_file: None,
            username: String::new(),
            password: String::new(),
            password_env: String::new(),
            password_file: None,
            from: String::new(),
            from_name: "市长信箱".into(),
            message_id_domain: String::new(),
            ehlo_name: String::new(),
            subject: DEFAULT_SUBJECT.into(),
            body: DEFAULT_BODY.into(),
            rate_text: DEFAULT_RATE_TEXT.into(),
            reopened_subject: DEFAULT_REOPENED_SUBJECT.into(),
            reopened_body: DEFAULT_REOPENED_BODY.into(),
            timeout: Duration::from_secs(30),
        }
    }
}

// By hand: the password must never reach a log through `{:?}` of the config.
impl fmt::Debug for EmailNotifyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailNotifyConfig")
            .field("enabled", &self.enabled)
            .field("host", &self.host)
            .field("port", &self.port())
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file)
            .field("username", &self.username)
            .field(
                "password",
                &if self.password.is_empty() { "" } else { "***" },
            )
            .field("password_env", &self.password_env)
            .field("password_file", &self.password_file)
            .field("from", &self.from)
            .field("from_name", &self.from_name)
            .field("message_id_domain", &self.message_id_domain())
            .field("ehlo_name", &self.ehlo_name())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl EmailNotifyConfig {
    /// The port, or the default of the TLS mode.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        })
    }

    /// The Message-ID domain, or the domain of `from`.
    pub fn message_id_domain(&self) -> String {
        if self.message_id_domain.is_empty() {
            self.from
                .rsplit_once('@')
                .map(|(_, d)| d.trim().to_ascii_lowercase())
                .unwrap_or_default()
        } else {
            self.message_id_domain.clone()
        }
    }

    /// The EHLO name, or the Message-ID domain.
    pub fn ehlo_name(&self) -> String {
        if self.ehlo_name.is_empty() {
            self.message_id_domain()
        } else {
            self.ehlo_name.clone()
        }
    }

    /// Every template, parsed; the error names the first that does not parse.
    pub fn templates(&self) -> Result<EmailTemplates, (&'static str, TemplateError)> {
        let [subject, body, rate_text, reopened_subject, reopened_body] = self
            .template_texts()
            .map(|(key, text, known)| Template::parse(text, &known).map_err(|e| (key, e)));
        Ok(EmailTemplates {
            subject: subject?,
            body: body?,
            rate_text: rate_text?,
            reopened_subject: reopened_subject?,
            reopened_body: reopened_body?,
        })
    }

    /// (key, text, the placeholders it may use) of every template.
    fn template_texts(&self) -> [(&'static str, &str, Vec<&'static str>); 5] {
        let facts = Facts::PLACEHOLDERS.to_vec();
        let with_rate: Vec<&str> = facts.iter().copied().chain([RATE]).collect();
        [
            ("notify.email.subject", &self.subject, facts.clone()),
            ("notify.email.body", &self.body, with_rate.clone()),
            ("notify.email.rate_text", &self.rate_text, facts.clone()),
            (
                "notify.email.reopened_subject",
                &self.reopened_subject,
                facts,
            ),
            ("notify.email.reopened_body", &self.reopened_body, with_rate),
        ]
    }

    /// The login password from wherever it is configured; `None` when there is no login.
    /// An error names the key to fix and what is wrong.
    pub fn password(&self) -> Result<Option<String>, (&'static str, String)> {
        if self.username.is_empty() {
            return Ok(None);
        }
        if !self.password_env.is_empty() {
            return match std::env::var(&self.password_env) {
                Ok(v) if !v.is_empty() => Ok(Some(v)),
                _ => Err((
                    "notify.email.password_env",
                    format!("the environment variable {} is not set", self.password_env),
                )),
            };
        }
        match &self.password_file {
            Some(path) => match std::fs::read_to_string(path) {
                // Only the line break an editor adds: a password may end in a space.
                Ok(text) => Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned())),
                Err(e) => Err((
                    "notify.email.password_file",
                    format!("cannot read {}: {e}", path.display()),
                )),
            },
            None => Ok(Some(self.password.clone())),
        }
    }
}

/// The parsed templates of [`EmailNotifyConfig`].
#[derive(Debug, Clone)]
pub struct EmailTemplates {
    pub subject: Template,
    pub body: Template,
    pub rate_text: Template,
    pub reopened_subject: Template,
    pub reopened_body: Template,
}
