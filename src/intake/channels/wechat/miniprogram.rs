//! `POST /v1/wechat/miniprogram`: a mini-program's submission (text, photo URLs, location pin)
//! posted by its backend. Authentication: `X-Minhu-App-Id`, `X-Minhu-Timestamp` (within
//! `timestamp_window`) and `X-Minhu-Signature` = hex HMAC-SHA256 of `"<timestamp>\n<body>"`
//! with the mini-program's secret (`minhu_adapter_wechat::miniprogram`). Answers JSON:
//! `{"status": "accepted", "ticket_id", "case_id", "disposition", "department_id"}`, 401/403
//! for authentication, 400 for a bad body, 413 over the limit, or the intake's error body.
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minhu_adapter_wechat::{WechatError, miniprogram, protocol};

use super::{Wechat, refuse, rejected, status_of, window_secs};
use crate::pb;
use crate::telemetry::mask;

fn header<'a>(h: &'a HeaderMap, name: &'static str) -> Result<&'a str, WechatError> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(WechatError::Missing(name))
}

/// Checks the headers' signature over the body; returns the mini-program's AppId.
fn authenticate<'a>(w: &Wechat, h: &'a HeaderMap, body: &[u8]) -> Result<&'a str, WechatError> {
    let app_id = header(h, "x-minhu-app-id")?;
    let timestamp = header(h, "x-minhu-timestamp")?;
    let signature = header(h, "x-minhu-signature")?;
    let secret = w
        .miniprograms
        .get(app_id)
        .ok_or(WechatError::BadSignature("X-Minhu-App-Id"))?;
    miniprogram::verify(secret, timestamp, body, signature)?;
    protocol::check_fresh(
        timestamp,
        super::now_secs(),
        window_secs(w.cfg.timestamp_window),
    )?;
    Ok(app_id)
}

pub(super) async fn submit(
    State(w): State<Arc<Wechat>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) => return rejected(r),
    };
    let app_id = match authenticate(&w, &headers, &body) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "mini-program submission refused");
            return refuse(status_of(&e), e);
        }
    };
    let sub = match miniprogram::parse(&body) {
        Ok(s) => s,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e),
    };
    let req = miniprogram::translate(&sub, &format!("wechat:{app_id}"));
    match w.intake.submit(Some(req)).await {
        Ok(r) => {
            tracing::info!(app_id, openid = %mask::openid(&sub.openid), ticket = %r.ticket_id, "mini-program submission accepted");
            let body = serde_json::json!({
                "status": "accepted",
                "ticket_id": r.ticket_id,
                "case_id": r.case_id,
                "disposition": pb::Disposition::try_from(r.disposition)
                    .map_or("DISPOSITION_UNSPECIFIED", |d| d.as_str_name()),
                "department_id": r.department_id,
            });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(e) => e.into_response(),
    }
}
