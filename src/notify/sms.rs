//! The SMS sender: answers hotline (12345) and phone-only citizens through the HTTP SMS gateway
//! described in `[notify.sms]` (see [`crate::config::notify::sms`]). What is sent is rendered by
//! the pure [`minhu_adapter_hotline12345::sms`]; this module owns the I/O: quiet hours against
//! the injected clock, one HTTP request per attempt, and the gateway's answer turned into a
//! [`Delivery`]. Phone numbers and texts never reach a log unmasked, and neither do gateway
//! error texts that might quote the number.
use std::sync::Arc;

use futures::future::BoxFuture;
use minhu_adapter::template::{Template, truncate_chars};
use minhu_adapter_hotline12345::sms::{
    Answer, Gateway, Message, Method, Mobile, QuietHours, SmsRequest, mobile, quiet_until,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use crate::config::notify::sms::SmsNotifyConfig;
use crate::notify::{Delivery, Notice, Sender};
use crate::telemetry::mask;

/// How `Sent` deliveries say they went.
pub const VIA: &str = "sms";
/// The most of a gateway's answer read: answers are a few hundred bytes; a proxy's error page
/// is not worth more.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why the SMS sender cannot be built from its config.
#[derive(Debug, thiserror::Error)]
pub enum SmsSetupError {
    #[error("[notify.sms]: {}", .0.iter().map(|(k, m)| format!("{k}: {m}")).collect::<Vec<_>>().join("; "))]
    Config(Vec<(String, String)>),
    #[error("[notify.sms]: HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Sends one SMS per notice through the configured gateway.
pub struct SmsSender {
    gateway: Gateway,
    text: Template,
    max_chars: usize,
    quiet: Option<QuietHours>,
    client: reqwest::Client,
}

impl std::fmt::Debug for SmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSender")
            .field("gateway", &self.gateway)
            .field("quiet", &self.quiet.map(|q| q.to_string()))
            .finish_non_exhaustive()
    }
}

impl SmsSender {
    /// The sender `cfg` describes; None when disabled.
    pub fn from_config(cfg: &SmsNotifyConfig) -> Result<Option<Arc<SmsSender>>, SmsSetupError> {
        if !cfg.enabled {
            return Ok(None);
        }
        let mut problems = Vec::new();
        let text = cfg
            .text_template()
            .map_err(|e| problems.push(("notify.sms.text".to_owned(), e)));
        let quiet = QuietHours::parse(&cfg.quiet_hours)
            .map_err(|e| problems.push(("notify.sms.quiet_hours".to_owned(), e)));
        let gateway = cfg.compile().map_err(|p| problems.extend(p));
        let (Ok(text), Ok(quiet), Ok(gateway)) = (text, quiet, gateway) else {
            return Err(SmsSetupError::Config(problems));
        };
        let mut client = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            // A redirected POST could carry the citizen's number to another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("minhu/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                SmsSetupError::Config(vec![(
                    "notify.sms.ca_file".into(),
                    format!("cannot read {}: {e}", path.display()),
                )])
            })?;
            client = client.tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem)?);
        }
        Ok(Some(Arc::new(SmsSender {
            gateway,
            text,
            max_chars: cfg.max_chars,
            quiet,
            client: client.build()?,
        })))
    }

    /// The request an attempt at `now_ms` would send, or the delivery that stands for it
    /// without calling the gateway (quiet hours, no mobile number). Pure.
    pub fn prepare(&self, notice: &Notice, now_ms: i64) -> Result<(Mobile, SmsRequest), Delivery> {
        if let Some(until_ms) = quiet_until(now_ms, self.quiet.as_ref()) {
            let window = self.quiet.map(|q| q.to_string()).unwrap_or_default();
            return Err(Delivery::Held {
                until_ms,
                why: format!("sms quiet hours {window} (Beijing time)"),
            });
        }
        let phone = mobile(&notice.address.phone).map_err(|e| Delivery::Unreachable {
            reason: format!("sms: {e}"),
        })?;
        let facts = notice.facts.vars();
        let vars: Vec<(&str, &str)> = facts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let text = truncate_chars(self.text.render(&vars).trim(), self.max_chars);
        if text.is_empty() {
            // Gateways refuse empty messages; retrying would only delay the dead letter.
            return Err(Delivery::Unreachable {
                reason: "sms: the message text is empty (check [notify.sms] text)".into(),
            });
        }
        let request = self.gateway.render(&Message {
            phone: &phone,
            text: &text,
            notice_id: &notice.notice_id,
            now_ms,
            vars: &vars,
        });
        Ok((phone, request))
    }

    async fn attempt(&self, notice: &Notice, now_ms: i64) -> Delivery {
        let (phone, request) = match self.prepare(notice, now_ms) {
            Ok(r) => r,
            Err(d) => {
                tracing::debug!(notice_id = %notice.notice_id, phone = %mask::phone(&notice.address.phone), outcome = kind(&d), "sms not sent");
                return d;
            }
        };
        let delivery = self.post(&notice.notice_id, &phone, request).await;
        tracing::info!(
            notice_id = %notice.notice_id,
            phone = %mask::phone(phone.as_str()),
            outcome = kind(&delivery),
            "sms attempt"
        );
        delivery
    }

    /// One HTTP exchange with the gateway.
    async fn post(&self, notice_id: &str, phone: &Mobile, r: SmsRequest) -> Delivery {
        let mut headers = HeaderMap::new();
        for (name, value) in &r.headers {
            match (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                (Ok(n), Ok(v)) => drop(headers.append(n, v)),
                // Only a notice id with odd characters can get here (config is checked).
                _ => return retry(format!("sms: header {name} has a value HTTP cannot carry")),
            }
        }
        let method = match r.method {
            Method::POST => reqwest::Method::POST,
            Method::GET => reqwest::Method::GET,
        };
        let mut req = self.client.request(method, &r.url).headers(headers);
        if !r.body.is_empty() {
            req = req.body(r.body);
        }
        // `without_url`: a GET gateway's URL holds the number and the text.
        let mut resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) => return retry(format!("sms gateway not reached: {}", e.without_url())),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) if body.len() < MAX_ANSWER_BYTES => body.extend_from_slice(&c),
                Ok(_) => break,
                Err(e) => {
                    return retry(format!(
                        "sms gateway answer cut off (HTTP {status}): {}",
                        e.without_url()
                    ));
                }
            }
        }
        let clean = |s: &str| scrub(s, phone);
        match self.gateway.classify(status, retry_after.as_deref(), &body) {
            Answer::Sent { receipt } => Delivery::Sent {
                via: VIA.into(),
                receipt: clean(&receipt),
            },
            Answer::Unreachable { code, message } => Delivery::Unreachable {
                reason: format!(
                    "sms gateway: permanent failure {}: {}",
                    clean(&code),
                    clean(&message)
                ),
            },
            Answer::Refused {
                status,
                code,
                message,
            } => {
                let error = format!(
                    "sms gateway refused the request (HTTP {status} {}: {}): check [notify.sms] secret and signature",
                    clean(&code),
                    clean(&message)
                );
                // Every SMS fails until an operator acts: louder than a busy gateway.
                tracing::error!(notice_id, %error, "sms gateway refused our credentials");
                retry(error)
            }
            Answer::Retry {
                status,
                code,
                message,
                after,
            } => Delivery::Retry {
                error: format!(
                    "sms gateway: HTTP {status} {}: {}",
                    clean(&code),
                    clean(&message)
                ),
                after,
            },
        }
    }
}

impl Sender for SmsSender {
    fn send<'a>(&'a self, notice: &'a Notice, now_ms: i64) -> BoxFuture<'a, Delivery> {
        Box::pin(self.attempt(notice, now_ms))
    }
}

fn retry(error: String) -> Delivery {
    Delivery::Retry { error, after: None }
}

/// The kind of a delivery, for logs (its texts may quote the gateway).
fn kind(d: &Delivery) -> &'static str {
    match d {
        Delivery::Sent { .. } => "sent",
        Delivery::Retry { .. } => "retry",
        Delivery::Held { .. } => "held",
        Delivery::Unreachable { .. } => "unreachable",
    }
}

/// A gateway's text, fit for the ledger: the citizen's number masked wherever it is quoted,
/// control characters dropped, at most 200 characters.
fn scrub(s: &str, phone: &Mobile) -> String {
    let masked = s.replace(phone.as_str(), &mask::phone(phone.as_str()));
    let clean: String = masked.chars().filter(|c| !c.is_control()).collect();
    truncate_chars(clean.trim(), 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_masks_the_number_and_cuts() {
        let phone = mobile("13812345678").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            scrub("号码13812345678（+8613812345678）\n无效", &phone),
            "号码138****5678（+86138****5678）无效"
        );
        assert_eq!(scrub(&"错".repeat(300), &phone).chars().count(), 200);
    }
}
