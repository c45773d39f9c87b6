//! Access tokens of one WeChat app (official account or mini-program): fetched from
//! `/cgi-bin/stable_token`, cached until shortly before they expire, and refreshed when WeChat
//! refuses one. One lock per app makes the refresh single-flight: senders that need a token
//! while one is being fetched wait for it instead of fetching their own (each fetch counts
//! against the app's daily quota, and a forced one knocks out the token others hold).
use minhu_adapter_wechat::outbound;
use tokio::sync::Mutex;

/// Refresh this long before WeChat says the token expires (capped at half its life), so a
/// token is never used in its last minutes: WeChat hands out the next stable token during the
/// last five.
const MARGIN_SECS: u64 = 300;

/// How long a failed fetch is answered from memory. Senders waiting for the lock then fail at
/// once instead of each waiting out its own timeout or refusal, and a wrong AppSecret does not
/// spend the app's daily token quota (one fetch per due notice otherwise).
const FAILURE_MEMORY_MS: i64 = 30_000;

/// One app's credentials and its cached token.
pub(super) struct App {
    pub app_id: String,
    secret: String,
    cached: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    token: Option<Cached>,
    /// The last fetch's error and until when it stands.
    failed: Option<(String, i64)>,
}

struct Cached {
    token: String,
    /// When to fetch a new one, ms since the epoch (the sender's clock).
    refresh_at_ms: i64,
}

/// The HTTP side a token fetch needs.
pub(super) struct Api<'a> {
    pub http: &'a reqwest::Client,
    /// Scheme and host, no trailing slash.
    pub base: &'a str,
}

impl App {
    pub fn new(app_id: String, secret: String) -> App {
        App {
            app_id,
            secret,
            cached: Mutex::new(Slot::default()),
        }
    }

    /// A token to call with at `now_ms`. `rejected` is a token WeChat has just refused
    /// (40001/42001/40014): it is replaced unless another sender already replaced it.
    pub async fn token(
        &self,
        api: &Api<'_>,
        now_ms: i64,
        rejected: Option<&str>,
    ) -> Result<String, String> {
        let mut slot = self.cached.lock().await;
        if let Some(c) = slot.token.as_ref()
            && now_ms < c.refresh_at_ms
            && Some(c.token.as_str()) != rejected
        {
            return Ok(c.token.clone());
        }
        if let Some((error, until_ms)) = &slot.failed
            && now_ms < *until_ms
        {
            return Err(error.clone());
        }
        match self.refresh(api, rejected).await {
            Ok(fresh) => {
                let life = fresh
                    .expires_in
                    .saturating_sub(MARGIN_SECS.min(fresh.expires_in / 2));
                let life_ms = i64::try_from(life.saturating_mul(1000)).unwrap_or(i64::MAX);
                slot.token = Some(Cached {
                    token: fresh.access_token.clone(),
                    refresh_at_ms: now_ms.saturating_add(life_ms),
                });
                slot.failed = None;
                tracing::debug!(app_id = %self.app_id, expires_in = fresh.expires_in, "WeChat access token fetched");
                Ok(fresh.access_token)
            }
            Err(error) => {
                slot.failed = Some((error.clone(), now_ms.saturating_add(FAILURE_MEMORY_MS)));
                Err(error)
            }
        }
    }

    /// A new token; forced when WeChat would otherwise hand back the one it refused.
    async fn refresh(
        &self,
        api: &Api<'_>,
        rejected: Option<&str>,
    ) -> Result<outbound::AccessToken, String> {
        let fresh = self.fetch(api, false).await?;
        // In normal mode WeChat hands out the same stable token until it expires; if that is
        // the very token it just refused, only a forced refresh gets a new one.
        if Some(fresh.access_token.as_str()) == rejected {
            tracing::warn!(app_id = %self.app_id, "WeChat refused a token it still hands out; forcing a refresh");
            return self.fetch(api, true).await;
        }
        Ok(fresh)
    }

    async fn fetch(
        &self,
        api: &Api<'_>,
        force_refresh: bool,
    ) -> Result<outbound::AccessToken, String> {
        let url = format!("{}{}", api.base, outbound::STABLE_TOKEN_PATH);
        let body = outbound::stable_token_request(&self.app_id, &self.secret, force_refresh);
        let what = format!("access token for {}", self.app_id);
        let resp = api
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("{what}: {}", http_error(e)))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("{what}: {}", http_error(e)))?;
        if !status.is_success() {
            return Err(format!("{what}: HTTP {status}"));
        }
        match outbound::parse_token(&bytes) {
            Ok(Ok(t)) => Ok(t),
            Ok(Err(refused)) => {
                let hint = outbound::token_hint(refused.errcode)
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                let why = format!("{what} refused: {}{hint}", refused.describe());
                tracing::error!(app_id = %self.app_id, errcode = refused.errcode, "{why}");
                Err(why)
            }
            Err(e) => Err(format!("{what}: {e}")),
        }
    }
}

/// A reqwest error with its causes ("error sending request: ... Connection refused"), without
/// the URL: a send's URL carries the access token.
pub(super) fn http_error(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
