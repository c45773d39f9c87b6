//! HTTP endpoints of the WeChat channel, mounted when `[adapters.wechat] enabled`:
//!
//! - `GET /v1/wechat[/<account>]`: server verification (服务器配置). Answers `echostr` when the
//!   signature (SHA-1 of the sorted token, timestamp, nonce) matches and the timestamp is
//!   within `timestamp_window`; 403 otherwise.
//! - `POST /v1/wechat[/<account>]`: message pushes, plain or safe mode (`encrypt_type=aes`).
//!   The reply is WeChat's own protocol: a passive text message with the ticket number
//!   (encrypted in safe mode), `success` for events, or a short text naming the accepted kinds
//!   for a message type that makes no ticket.
//! - `POST /v1/wechat/miniprogram`: mini-program JSON ([`miniprogram`]).
//!
//! Status codes (WeChat retries non-200 answers, which is what we want only for transient
//! failures): 401 missing signature parameters; 403 wrong signature, stale timestamp, wrong
//! AppId; 400 corrupt `Encrypt`, bad padding, malformed XML, DOCTYPE or entity; 404 unknown
//! account; 413 body over `max_body_bytes`; the intake's own mapping (429/503/500) when the
//! store cannot take the report, so WeChat retries and the retry is a replay. A report the
//! intake finds invalid (say, too long) is answered 200 with a text telling the citizen, since a
//! retry could never succeed; so is one refused by a rate limit (WeChat's own retries would be
//! refused too), with a text asking the citizen to wait. Nothing is stored on any refusal.
//!
//! Text, photo and location sent within `follow_up_window` join one case:
//! [`Intake::submit_follow_up`] with the key `wechat:<account>:<openid>`.
//!
//! A text that reads as a rating ("1", "满意", "0 还是坏的") from a citizen whose result
//! notice awaits one is a rating (回访), not a report: see `wechat/rating.rs`.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minhu_adapter_wechat::crypto::Cipher;
use minhu_adapter_wechat::{AccountKeys, Outcome, Query, WechatError, protocol, reply, translate};

use super::ChannelContext;
use crate::config::adapters::wechat::WechatConfig;
use crate::intake::{Intake, IntakeError};
use crate::pb;
use crate::telemetry::mask;

pub mod miniprogram;
mod rating;

/// One official account, ready to serve.
pub(crate) struct Account {
    /// Path segment (`default` for `/v1/wechat`), for logs.
    id: String,
    keys: AccountKeys,
    /// `wechat:<AppId or id>`: the idempotency namespace and follow-up key prefix.
    source_system: String,
}

/// What the WeChat handlers share.
pub(crate) struct Wechat {
    intake: Intake,
    cfg: WechatConfig,
    default: Option<Arc<Account>>,
    accounts: HashMap<String, Arc<Account>>,
    /// Mini-program AppId → HMAC secret.
    miniprograms: HashMap<String, String>,
    /// Ratings by reply (回访).
    replies: super::rating_replies::ReplyRatings,
}

fn build_account(id: &str, token: &str, aes_key: &str, app_id: &str) -> Option<Arc<Account>> {
    let cipher = if aes_key.is_empty() {
        None
    } else {
        match Cipher::new(aes_key) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(account = id, error = %e, "WeChat account not served");
                return None;
            }
        }
    };
    if token.is_empty() {
        tracing::error!(account = id, "WeChat account has no token; not served");
        return None;
    }
    let name = if app_id.is_empty() { id } else { app_id };
    Some(Arc::new(Account {
        id: id.to_owned(),
        keys: AccountKeys {
            token: token.to_owned(),
            app_id: app_id.to_owned(),
            cipher,
        },
        source_system: format!("wechat:{name}"),
    }))
}

/// The WeChat routes; none unless `[adapters.wechat] enabled`.
pub fn routes(ctx: ChannelContext) -> Router {
    let cfg = ctx.config.wechat.clone();
    if !cfg.enabled {
        return Router::new();
    }
    let default = build_account("default", &cfg.token, &cfg.encoding_aes_key, &cfg.app_id)
        .filter(|_| !cfg.token.is_empty());
    let accounts = cfg
        .accounts
        .iter()
        .filter_map(|a| {
            build_account(&a.id, &a.token, &a.encoding_aes_key, &a.app_id)
                .map(|acc| (a.id.clone(), acc))
        })
        .collect();
    let mut miniprograms: HashMap<String, String> = cfg
        .miniprograms
        .iter()
        .map(|m| (m.app_id.clone(), m.secret.clone()))
        .collect();
    if !cfg.miniprogram_app_id.is_empty() && !cfg.miniprogram_secret.is_empty() {
        miniprograms.insert(
            cfg.miniprogram_app_id.clone(),
            cfg.miniprogram_secret.clone(),
        );
    }
    let limit = cfg.max_body_bytes;
    let state = Arc::new(Wechat {
        intake: ctx.intake,
        cfg,
        default,
        accounts,
        miniprograms,
        replies: ctx.replies,
    });
    Router::new()
        .route("/v1/wechat", get(verify_default).post(push_default))
        .route("/v1/wechat/miniprogram", post(miniprogram::submit))
        .route("/v1/wechat/{account}", get(verify_named).post(push_named))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

fn now_secs() -> i64 {
    crate::time::now_ms().div_euclid(1000)
}

fn window_secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// An error answer: status and a JSON body naming the problem (never personal data).
pub(crate) fn refuse(status: StatusCode, message: impl std::fmt::Display) -> Response {
    let body = serde_json::json!({ "error": message.to_string() });
    (status, axum::Json(body)).into_response()
}

/// The HTTP mapping of WeChat's protocol errors.
pub(crate) fn status_of(e: &WechatError) -> StatusCode {
    match e {
        WechatError::Missing(_) => StatusCode::UNAUTHORIZED,
        WechatError::BadSignature(_) | WechatError::Stale { .. } | WechatError::WrongAppId => {
            StatusCode::FORBIDDEN
        }
        WechatError::BadAesKey => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn not_found() -> Response {
    refuse(StatusCode::NOT_FOUND, "no such WeChat account")
}

async fn verify_default(State(w): State<Arc<Wechat>>, uri: Uri) -> Response {
    match w.default.clone() {
        Some(a) => verify(&w, &a, &uri),
        None => not_found(),
    }
}

async fn verify_named(
    State(w): State<Arc<Wechat>>,
    Path(account): Path<String>,
    uri: Uri,
) -> Response {
    match w.accounts.get(&account).cloned() {
        Some(a) => verify(&w, &a, &uri),
        None => not_found(),
    }
}

fn verify(w: &Wechat, a: &Account, uri: &Uri) -> Response {
    let q = Query::parse(uri.query().unwrap_or(""));
    match protocol::verify_server(&a.keys, &q, now_secs(), window_secs(w.cfg.timestamp_window)) {
        Ok(echostr) => {
            tracing::info!(account = %a.id, "WeChat server verification answered");
            (
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                echostr,
            )
                .into_response()
        }
        Err(e) => {
            tracing::warn!(account = %a.id, error = %e, "WeChat server verification refused");
            refuse(StatusCode::FORBIDDEN, e)
        }
    }
}

async fn push_default(
    State(w): State<Arc<Wechat>>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match w.default.clone() {
        Some(a) => push(&w, &a, &uri, body).await,
        None => not_found(),
    }
}

async fn push_named(
    State(w): State<Arc<Wechat>>,
    Path(account): Path<String>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match w.accounts.get(&account).cloned() {
        Some(a) => push(&w, &a, &uri, body).await,
        None => not_found(),
    }
}

/// The answer to an unreadable body (413 over the limit), as JSON.
pub(crate) fn rejected(r: BytesRejection) -> Response {
    refuse(r.status(), r.body_text())
}

async fn push(w: &Wechat, a: &Account, uri: &Uri, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) => return rejected(r),
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "body is not UTF-8");
    };
    let q = Query::parse(uri.query().unwrap_or(""));
    let now = now_secs();
    let inbound =
        match protocol::open_push(&a.keys, &q, text, now, window_secs(w.cfg.timestamp_window)) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(account = %a.id, error = %e, "WeChat push refused");
                return refuse(status_of(&e), e);
            }
        };
    let m = &inbound.message;
    let openid = mask::openid(&m.header.from_user);
    // A rating by reply answers the result notice it rates; everything else is a report.
    let rated = match rating::rating(w, a, m).await {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    let content = match translate(m, &a.source_system) {
        // A rating is answered with thanks (the translation, pure and cheap, goes unused).
        _ if rated.is_some() => rated.unwrap_or_default(),
        Outcome::Event { event } => {
            tracing::debug!(account = %a.id, openid = %openid, event = %event, "WeChat event: no ticket");
            return plain(reply::SUCCESS);
        }
        Outcome::Unsupported { msg_type } => {
            tracing::info!(account = %a.id, openid = %openid, msg_type = %msg_type, "WeChat message type not accepted: no ticket");
            reply::UNSUPPORTED_TEXT.to_owned()
        }
        Outcome::Ticket(req) => match submit(w, a, *req, &m.header.from_user).await {
            Ok(resp) => {
                let merged = resp.disposition == pb::Disposition::Merged as i32;
                tracing::info!(account = %a.id, openid = %openid, ticket = %resp.ticket_id, merged, "WeChat push accepted");
                reply::ticket_text(&resp.ticket_id, merged)
            }
            Err(IntakeError::Invalid(e)) => {
                tracing::info!(account = %a.id, openid = %openid, field = %e.field, "WeChat message refused as invalid");
                format!("您的消息未能受理：{}。请修改后重新发送。", e.message)
            }
            // WeChat's retries come within seconds and would be refused too: tell the citizen
            // in the conversation instead (nothing is stored; the refusal is counted).
            Err(IntakeError::RateLimited(l)) => {
                tracing::info!(account = %a.id, openid = %openid, scope = l.scope.as_str(), "WeChat message refused by a rate limit");
                reply::rate_limited_text(crate::intake::error::retry_secs(l.retry_after))
            }
            Err(e) => {
                tracing::warn!(account = %a.id, error = %e, "WeChat push not stored; WeChat will retry");
                return e.into_response();
            }
        },
    };
    let xml = reply::text(&m.header.from_user, &m.header.to_user, now, &content);
    let nonce = rand::random::<u32>().to_string();
    match protocol::seal_reply(
        &a.keys,
        inbound.encrypted,
        &xml,
        now,
        &nonce,
        rand::random(),
    ) {
        Ok(x) => (
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            x,
        )
            .into_response(),
        Err(e) => refuse(status_of(&e), e),
    }
}

fn plain(s: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], s).into_response()
}

/// Submits as a possible follow-up, in a task of its own so the report is stored even if
/// WeChat drops the connection, and answers within `reply_timeout`.
async fn submit(
    w: &Wechat,
    a: &Account,
    req: pb::Request,
    openid: &str,
) -> Result<pb::SubmitResponse, IntakeError> {
    let key = format!("{}:{openid}", a.source_system);
    let intake = w.intake.clone();
    let window = w.cfg.follow_up_window;
    let task = tokio::spawn(async move { intake.submit_follow_up(Some(req), key, window).await });
    match tokio::time::timeout(w.cfg.reply_timeout, task).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(IntakeError::Internal(format!("submit task failed: {e}"))),
        Err(_) => Err(IntakeError::Internal(format!(
            "not stored within {:?}; the retry will find it",
            w.cfg.reply_timeout
        ))),
    }
}
