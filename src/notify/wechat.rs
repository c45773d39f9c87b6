//! The WeChat sender: answers a citizen who reported through an official account or a
//! mini-program, from that same account (configured in [`crate::config::notify::wechat`]).
//!
//! Which message:
//! - a mini-program citizen: the subscribe message (订阅消息) they agreed to receive;
//! - an official-account citizen who last wrote less than 48 hours ago: a customer-service text
//!   (客服消息), the friendliest form, allowed only then;
//! - otherwise, or when WeChat says the window is closed after all (45015, 45047): the
//!   account's template message (模板消息). No template configured: unreachable.
//!
//! What WeChat's answers mean is decided by the pure `minhu_adapter_wechat::outbound`; this file
//! does the HTTP, the tokens ([`token`]) and the mapping to a [`Delivery`]. A token WeChat
//! refuses is refreshed once and the call tried once more. Openids and texts never appear in
//! logs or errors; access tokens never either (reqwest errors are stripped of their URL).
use std::sync::Arc;

use futures::future::BoxFuture;
use minhu_adapter_wechat::outbound::{self, Answer, Verdict};
use serde_json::Value;

use super::{Delivery, Notice, Sender};
use crate::config::notify::wechat::{WechatNotifyConfig, check_api_base};
use crate::telemetry::mask;

mod apps;
mod token;

/// Customer-service messages are allowed this long after the citizen's last message.
pub const CUSTOMER_SERVICE_WINDOW_MS: i64 = 48 * 3600 * 1000;

/// Which message a notice is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// 客服消息: `wechat.custom`.
    Custom,
    /// 模板消息: `wechat.template`.
    Template,
    /// 订阅消息: `wechat.subscribe`.
    Subscribe,
}

impl Message {
    /// The `via` recorded in the ledger.
    pub fn via(self) -> &'static str {
        match self {
            Message::Custom => "wechat.custom",
            Message::Template => "wechat.template",
            Message::Subscribe => "wechat.subscribe",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Message::Custom => outbound::CUSTOM_SEND_PATH,
            Message::Template => outbound::TEMPLATE_SEND_PATH,
            Message::Subscribe => outbound::SUBSCRIBE_SEND_PATH,
        }
    }
}

/// The config does not make a sender (`check-config` reports the same, with its line).
#[derive(Debug, thiserror::Error)]
pub enum WechatSetupError {
    #[error("notify.wechat.{key}: {why}")]
    Config { key: String, why: String },
    #[error("notify.wechat: cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Sends notices on the WeChat route.
pub struct WechatSender {
    http: reqwest::Client,
    api_base: String,
    apps: apps::Apps,
}

impl WechatSender {
    /// The sender `cfg` describes; None when it is not enabled. Reads the AppSecrets now.
    pub fn from_config(
        cfg: &WechatNotifyConfig,
    ) -> Result<Option<Arc<WechatSender>>, WechatSetupError> {
        if !cfg.enabled {
            return Ok(None);
        }
        let api_base = check_api_base(&cfg.api_base).map_err(|why| WechatSetupError::Config {
            key: "api_base".into(),
            why,
        })?;
        let apps = apps::Apps::from_config(cfg)?;
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(std::time::Duration::from_secs(5)))
            .user_agent(concat!("minhu/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Some(Arc::new(WechatSender {
            http,
            api_base,
            apps,
        })))
    }

    /// The path and JSON body of `message` for `notice`, without sending anything; Err says
    /// why it cannot be sent (the reason recorded as unreachable).
    pub fn render(
        &self,
        notice: &Notice,
        message: Message,
    ) -> Result<(&'static str, Value), String> {
        self.apps.render(notice, message)
    }

    /// The first message to try for `notice` at `now_ms` (see the module comment).
    pub fn choose(notice: &Notice, now_ms: i64) -> Message {
        let a = &notice.address;
        if a.miniprogram {
            Message::Subscribe
        } else if a.last_seen_ms > 0
            && now_ms.saturating_sub(a.last_seen_ms) < CUSTOMER_SERVICE_WINDOW_MS
        {
            Message::Custom
        } else {
            Message::Template
        }
    }

    async fn deliver(&self, notice: &Notice, now_ms: i64) -> Delivery {
        let first = Self::choose(notice, now_ms);
        let closed = match self.attempt(notice, first, now_ms).await {
            Tried::Done(d) => return d,
            Tried::WindowClosed(answer) => answer,
        };
        // WeChat's own record of the window wins over ours (a message we did not see, the
        // window's message quota used up): the template message is the way left.
        let has_template = self
            .apps
            .account(&notice.address.source_system)
            .is_ok_and(|a| a.template.is_some());
        if !has_template {
            return Delivery::Unreachable {
                reason: format!(
                    "WeChat answered {closed} to the customer-service message, and no template message is configured (notify.wechat.accounts[].template_id)"
                ),
            };
        }
        tracing::info!(notice = %notice.notice_id, openid = %mask::openid(&notice.address.wechat_openid), "customer-service window closed; sending the template message");
        match self.attempt(notice, Message::Template, now_ms).await {
            Tried::Done(d) => d,
            Tried::WindowClosed(answer) => {
                retry(format!("wechat.template: WeChat answered {answer}"))
            }
        }
    }

    /// Sends `message` once (with one token refresh if need be).
    async fn attempt(&self, notice: &Notice, message: Message, now_ms: i64) -> Tried {
        let (path, body) = match self.render(notice, message) {
            Ok(r) => r,
            Err(reason) => return Tried::Done(Delivery::Unreachable { reason }),
        };
        let Some(app) = self.apps.app(notice) else {
            return Tried::Done(Delivery::Unreachable {
                reason: "no WeChat app for this notice".into(),
            });
        };
        let answer = match self.call(app, path, &body, now_ms).await {
            Ok(a) => a,
            Err(error) => return Tried::Done(retry(error)),
        };
        let what = format!("{} from {}", message.via(), app.app_id);
        Tried::Done(match answer.verdict() {
            Verdict::Sent => {
                tracing::debug!(notice = %notice.notice_id, via = message.via(), app_id = %app.app_id, "WeChat message sent");
                Delivery::Sent {
                    via: message.via().to_owned(),
                    receipt: answer
                        .msgid
                        .as_ref()
                        .map_or_else(|| answer.describe(), |id| format!("msgid {id}")),
                }
            }
            Verdict::WindowClosed if message == Message::Custom => {
                return Tried::WindowClosed(answer.describe());
            }
            Verdict::Unreachable => Delivery::Unreachable {
                reason: format!("{what}: WeChat answered {}", answer.describe()),
            },
            Verdict::TokenInvalid => retry(format!(
                "{what}: WeChat refused a freshly fetched access token: {}",
                answer.describe()
            )),
            Verdict::WindowClosed | Verdict::Retry => {
                retry(format!("{what}: WeChat answered {}", answer.describe()))
            }
        })
    }

    /// POSTs `body` to `path` with the app's token; a refused token is refreshed once and the
    /// call made once more. Err: nothing usable came back (network, HTTP status, not JSON, no
    /// token), to be retried.
    async fn call(
        &self,
        app: &token::App,
        path: &str,
        body: &Value,
        now_ms: i64,
    ) -> Result<Answer, String> {
        let api = token::Api {
            http: &self.http,
            base: &self.api_base,
        };
        let mut rejected: Option<String> = None;
        loop {
            let token = app.token(&api, now_ms, rejected.as_deref()).await?;
            let answer = self.post(path, &token, body).await?;
            if answer.verdict() == Verdict::TokenInvalid && rejected.is_none() {
                tracing::info!(app_id = %app.app_id, errcode = answer.errcode, "WeChat refused the access token; refreshing it once");
                rejected = Some(token);
                continue;
            }
            return Ok(answer);
        }
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> Result<Answer, String> {
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.api_base))
            .map_err(|e| format!("WeChat {path}: {e}"))?;
        url.query_pairs_mut().append_pair("access_token", token);
        let resp = self
            .http
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("WeChat {path}: {}", token::http_error(e)))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("WeChat {path}: {}", token::http_error(e)))?;
        if !status.is_success() {
            return Err(format!("WeChat {path}: HTTP {status}"));
        }
        outbound::parse_answer(&bytes).map_err(|e| format!("WeChat {path}: {e}"))
    }
}

/// What one message's attempt came to.
enum Tried {
    Done(Delivery),
    /// The customer-service window is closed (WeChat's answer, described).
    WindowClosed(String),
}

fn retry(error: String) -> Delivery {
    Delivery::Retry { error, after: None }
}

impl Sender for WechatSender {
    fn send<'a>(&'a self, notice: &'a Notice, now_ms: i64) -> BoxFuture<'a, Delivery> {
        Box::pin(self.deliver(notice, now_ms))
    }
}
