//! The e-mail sender: answers citizens who wrote to the mayor's mailbox, over SMTP (lettre's
//! tokio connection; rustls on aws-lc). What the answer says, and how it threads under the
//! citizen's mail, is rendered by the mailbox adapter ([`minhu_adapter_mailbox::reply`]); this
//! module delivers it and reports what the server made of it. Settings:
//! [`crate::config::notify::email`].
//!
//! The SMTP dialogue is driven step by step rather than through lettre's one-call transport,
//! because the step a refusal comes at decides what it means. A 5xx to `RCPT TO` or to the
//! message itself concerns this citizen's mailbox or this message, and is final
//! ([`Delivery::Unreachable`], in the server's words). A 5xx to `AUTH` or `MAIL FROM` concerns
//! the gateway's own settings: it must not write off every citizen's answer while an operator
//! fixes a password, so it is retried like a 4xx, a refused connection or a TLS failure (the
//! ledger dead-letters it after `[notify] max_attempts`).
//!
//! One connection per notice, no pool: answers are few (one per completed case and reporter)
//! and a fresh connection has no stale-session failures. lettre bounds only the TCP connect,
//! so the whole attempt runs under `timeout`; only the polite `QUIT` after an accepted
//! message is outside it, so a slow goodbye never turns a delivered answer into a retry.
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailParameter};
use lettre::transport::smtp::response::Response;
use minhu_adapter_mailbox::reply::{Answer, Reply, ReplyError, ReplyStyle, render_reply};

use crate::config::notify::email::{EmailNotifyConfig, EmailTemplates, RATE, SmtpTls};
use crate::notify::{Delivery, Notice, NoticeKind, Sender};
use crate::telemetry::mask;

mod failure;

use failure::{Failure, Step, masked, words};

/// `via` of an answer handed to the SMTP server.
pub const VIA: &str = "smtp";

/// Longest wait for the server's answer to `QUIT` once the message is accepted.
const QUIT_WAIT: Duration = Duration::from_secs(5);

/// Why the sender could not be set up from its configuration (the config check catches all
/// but unreadable files).
#[derive(Debug, thiserror::Error)]
pub enum EmailSetupError {
    #[error("{0}: {1}")]
    Password(&'static str, String),
    #[error("notify.email.ca_file: {0}")]
    Ca(String),
    #[error("notify.email: {0}")]
    Invalid(String),
}

/// Sends notices of [`crate::notify::Route::Email`].
pub struct EmailSender {
    style: ReplyStyle,
    templates: EmailTemplates,
    host: String,
    port: u16,
    tls: SmtpTls,
    /// For `starttls` and `tls`: the server name to verify and the roots to trust.
    tls_params: Option<TlsParameters>,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
}

// By hand: lettre's TLS settings have no Debug.
impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EmailSender({}:{} {:?})", self.host, self.port, self.tls)
    }
}

impl EmailSender {
    /// The sender `cfg` describes; `None` when it is off.
    pub fn from_config(
        cfg: &EmailNotifyConfig,
    ) -> Result<Option<Arc<EmailSender>>, EmailSetupError> {
        if !cfg.enabled {
            return Ok(None);
        }
        let invalid = |e: &dyn std::fmt::Display| EmailSetupError::Invalid(e.to_string());
        let style = ReplyStyle::new(&cfg.from, &cfg.from_name, &cfg.message_id_domain())
            .map_err(|e| invalid(&e))?;
        let templates = cfg
            .templates()
            .map_err(|(key, e)| invalid(&format!("{key}: {e}")))?;
        let host = cfg.host.trim().to_owned();
        let tls_params = match cfg.tls {
            SmtpTls::None => None,
            SmtpTls::Starttls | SmtpTls::Tls => {
                let mut b = TlsParameters::builder(host.clone());
                if let Some(path) = &cfg.ca_file {
                    let ca = |e: &dyn std::fmt::Display| {
                        EmailSetupError::Ca(format!("{}: {e}", path.display()))
                    };
                    let pem = std::fs::read(path).map_err(|e| ca(&e))?;
                    // lettre accepts a file without certificates, which would trust nothing more.
                    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
                        return Err(ca(&"no PEM certificate in it"));
                    }
                    b = b.add_root_certificate(Certificate::from_pem(&pem).map_err(|e| ca(&e))?);
                }
                Some(b.build().map_err(|e| invalid(&e))?)
            }
        };
        let credentials = cfg
            .password()
            .map_err(|(key, message)| EmailSetupError::Password(key, message))?
            .map(|password| Credentials::new(cfg.username.clone(), password));
        Ok(Some(Arc::new(EmailSender {
            style,
            templates,
            host,
            port: cfg.port(),
            tls: cfg.tls,
            tls_params,
            credentials,
            hello: ClientId::Domain(cfg.ehlo_name()),
            timeout: cfg.timeout,
        })))
    }

    /// The message `notice` is answered with when sent at `now_ms`: exactly what
    /// [`Sender::send`] hands to the server.
    pub fn render(&self, notice: &Notice, now_ms: i64) -> Result<Reply, ReplyError> {
        let t = &self.templates;
        let (subject, body) = match notice.kind {
            NoticeKind::Result => (&t.subject, &t.body),
            NoticeKind::Reopened => (&t.reopened_subject, &t.reopened_body),
        };
        let facts = notice.facts.vars();
        let mut vars: Vec<(&str, &str)> = facts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        // The rating request only where there is something to rate with.
        let rate = match notice.kind {
            NoticeKind::Result if !notice.facts.rate_url.is_empty() => t.rate_text.render(&vars),
            _ => String::new(),
        };
        vars.push((RATE, &rate));
        let a = &notice.address;
        render_reply(
            &self.style,
            &Answer {
                to_address: &a.email,
                to_name: &a.name,
                source_id: &a.source_id,
                subject: &a.subject,
                notice_id: &notice.notice_id,
                date_ms: now_ms,
                fallback_subject: &subject.render(&vars),
                body: &body.render(&vars),
            },
        )
    }

    async fn deliver(&self, notice: &Notice, now_ms: i64) -> Delivery {
        if notice.address.email.trim().is_empty() {
            return Delivery::Unreachable {
                reason: "the reporter left no e-mail address".into(),
            };
        }
        let reply = match self.render(notice, now_ms) {
            Ok(r) => r,
            Err(ReplyError::Recipient) => {
                return Delivery::Unreachable {
                    reason: format!(
                        "not an e-mail address: {}",
                        mask::email(&notice.address.email)
                    ),
                };
            }
            Err(e) => {
                return Delivery::Retry {
                    error: e.to_string(),
                    after: None,
                };
            }
        };
        let outcome = match tokio::time::timeout(self.timeout, self.transfer(&reply)).await {
            Err(_) => Err(Failure {
                step: Step::Connect,
                permanent: false,
                text: format!("no answer within {:?}", self.timeout),
            }),
            Ok(Err(f)) => Err(f),
            Ok(Ok((mut conn, response))) => {
                // Accepted: a slow or failed goodbye changes nothing.
                let _ = tokio::time::timeout(QUIT_WAIT, conn.quit()).await;
                Ok(response)
            }
        };
        let delivery = match outcome {
            Ok(response) => Delivery::Sent {
                via: VIA.into(),
                receipt: masked(&words(&response), &reply.to),
            },
            Err(f) => f.delivery(&reply.to),
        };
        tracing::debug!(
            notice_id = %notice.notice_id,
            to = %mask::email(&reply.to),
            outcome = ?delivery,
            "e-mail answer attempted"
        );
        delivery
    }

    /// Connects, secures, logs in and hands over the message; the connection is returned
    /// (for `QUIT`) once the server has accepted it, and closed on any failure.
    async fn transfer(&self, reply: &Reply) -> Result<(AsyncSmtpConnection, Response), Failure> {
        let from = reply
            .from
            .parse()
            .map_err(|e| Failure::client(Step::Sender, e))?;
        let to = reply
            .to
            .parse()
            .map_err(|e| Failure::client(Step::Recipient, e))?;
        let implicit = match self.tls {
            SmtpTls::Tls => self.tls_params.clone(),
            SmtpTls::None | SmtpTls::Starttls => None,
        };
        let server = (self.host.as_str(), self.port);
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            server,
            Some(self.timeout),
            &self.hello,
            implicit,
            None,
        )
        .await
        .map_err(|e| Failure::smtp(Step::Connect, &e))?;
        match self.dialogue(&mut conn, from, to, &reply.bytes).await {
            Ok(response) => Ok((conn, response)),
            Err(f) => {
                // A polite QUIT, except after a failed STARTTLS: lettre leaves no stream
                // behind then (and asserts, in debug builds, that none is written to). The
                // connection is closed when dropped either way.
                if f.step != Step::Connect {
                    conn.abort().await;
                }
                Err(f)
            }
        }
    }

    async fn dialogue(
        &self,
        conn: &mut AsyncSmtpConnection,
        from: lettre::Address,
        to: lettre::Address,
        message: &[u8],
    ) -> Result<Response, Failure> {
        if let (SmtpTls::Starttls, Some(params)) = (self.tls, &self.tls_params) {
            // Fails when the server does not offer STARTTLS: never fall back to plain text.
            conn.starttls(params.clone(), &self.hello)
                .await
                .map_err(|e| Failure::smtp(Step::Connect, &e))?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(|e| Failure::smtp(Step::Login, &e))?;
        }
        let mut params = Vec::new();
        if !message.is_ascii() || !from.to_string().is_ascii() || !to.to_string().is_ascii() {
            // An internationalised address (用户@例子.中国) needs SMTPUTF8 all the way.
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(Failure {
                    step: Step::Recipient,
                    permanent: true,
                    text: "the address is not ASCII and the server does not support SMTPUTF8"
                        .into(),
                });
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        conn.command(Mail::new(Some(from), params))
            .await
            .map_err(|e| Failure::smtp(Step::Sender, &e))?;
        conn.command(Rcpt::new(to, vec![]))
            .await
            .map_err(|e| Failure::smtp(Step::Recipient, &e))?;
        conn.command(Data)
            .await
            .map_err(|e| Failure::smtp(Step::Message, &e))?;
        // lettre ends the data with CRLF.CRLF itself: without this the server would store
        // one more line than was rendered.
        let message = message.strip_suffix(b"\r\n").unwrap_or(message);
        conn.message(message)
            .await
            .map_err(|e| Failure::smtp(Step::Message, &e))
    }
}

impl Sender for EmailSender {
    fn send<'a>(&'a self, notice: &'a Notice, now_ms: i64) -> BoxFuture<'a, Delivery> {
        Box::pin(self.deliver(notice, now_ms))
    }
}
