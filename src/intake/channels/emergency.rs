//! `POST /v1/emergency/transfers`, mounted when `[adapters.emergency] enabled`: the 110, 119,
//! 120 and 122 dispatch centres (接警中心) transfer calls that are not emergencies to 12345.
//!
//! - Authentication: `Authorization: Bearer <token>`; 401 when missing, 403 when it matches no
//!   configured centre. A transfer from a line the centre is not configured for is refused
//!   with 403 (per item).
//! - Body: `application/json`, one transfer object or an array of up to `max_batch`
//!   (format: `minhu_adapter_emergency::transfer`). Larger bodies or batches: 413, nothing
//!   accepted.
//! - Never rate-limited, and exempt from the outbox budget (the intake gives emergency channels
//!   priority 9 and the store admits them past the budget); each transfer is answered only once
//!   it is committed to disk.
//! - Answer: `{"results": [{index, status, ticket_id, case_id, disposition, department_id,
//!   error, field}]}` with `status` one of `accepted`, `replay` (the incident number was
//!   already accepted from this centre and line: same ticket), `rejected` (bad input: fix it)
//!   or `failed` (retry later). HTTP status: 200 when every item was accepted or a replay, 207
//!   when some were, otherwise the status of the first item's failure (400, 403, 429, 503…).
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use minhu_adapter_emergency::{Transfer, TransferError, parse_transfers, translate};
use serde_json::{Value, json};

use super::ChannelContext;
use crate::config::adapters::emergency::{Centre, EmergencyConfig};
use crate::intake::Intake;
use crate::pb;
use crate::telemetry::mask;

struct Emergency {
    intake: Intake,
    config: EmergencyConfig,
}

/// The emergency routes; none when the channel is disabled.
pub fn routes(ctx: ChannelContext) -> Router {
    let config = ctx.config.emergency.clone();
    if !config.enabled {
        return Router::new();
    }
    let limit = config.max_body_bytes;
    let state = Arc::new(Emergency {
        intake: ctx.intake,
        config,
    });
    Router::new()
        .route(
            "/v1/emergency/transfers",
            post(transfers).layer(DefaultBodyLimit::max(limit)),
        )
        .with_state(state)
}

fn refuse(status: StatusCode, field: &str, message: impl Into<String>) -> Response {
    let body = json!({ "error": message.into(), "field": field });
    (status, axum::Json(body)).into_response()
}

/// The bearer token, if the header carries one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

async fn transfers(
    State(em): State<Arc<Emergency>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(token) = bearer(&headers) else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "authorization",
            "a dispatch centre's bearer token is required",
        );
    };
    let Some(centre) = em.config.centre_for(token) else {
        tracing::warn!("emergency: transfer refused, the token matches no dispatch centre");
        return refuse(
            StatusCode::FORBIDDEN,
            "authorization",
            "the token matches no configured dispatch centre",
        );
    };
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media != "application/json" {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content-type",
            "must be application/json",
        );
    }
    let raw = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body",
                format!("larger than {} bytes", em.config.max_body_bytes),
            );
        }
        Err(e) => return refuse(e.status(), "body", e.body_text()),
    };
    let items = match parse_transfers(&raw, em.config.max_batch) {
        Ok(items) => items,
        Err(e @ TransferError::BatchTooLarge { .. }) => {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, "body", e.to_string());
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.field(), e.to_string()),
    };
    let mut results = Vec::with_capacity(items.len());
    let mut statuses = Vec::with_capacity(items.len());
    // One at a time, in order: a dispatch centre's batch is small, and order is its order.
    for (index, item) in items.into_iter().enumerate() {
        let (status, result) = one(&em.intake, centre, item).await;
        let mut result = result;
        result["index"] = json!(index);
        statuses.push(status);
        results.push(result);
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let status = if ok == statuses.len() {
        StatusCode::OK
    } else if ok > 0 {
        StatusCode::MULTI_STATUS
    } else {
        statuses.first().copied().unwrap_or(StatusCode::BAD_REQUEST)
    };
    (status, axum::Json(json!({ "results": results }))).into_response()
}

/// Checks, translates and submits one transfer; its HTTP status and result object.
async fn one(
    intake: &Intake,
    centre: &Centre,
    item: Result<Transfer, TransferError>,
) -> (StatusCode, Value) {
    let t = match item {
        Ok(t) => t,
        Err(e) => return rejected(StatusCode::BAD_REQUEST, &e.field(), e.to_string()),
    };
    if !centre.lines.contains(&t.line) {
        tracing::warn!(
            centre = %centre.id,
            line = t.line.as_str(),
            "emergency: transfer refused, line not allowed for this centre"
        );
        return rejected(
            StatusCode::FORBIDDEN,
            "line",
            format!(
                "dispatch centre {} may not transfer from line {}",
                centre.id,
                t.line.as_str()
            ),
        );
    }
    let request = translate(&t, &centre.id);
    match intake.submit(Some(request)).await {
        Ok(r) => {
            let disposition = pb::Disposition::try_from(r.disposition)
                .map_or("DISPOSITION_UNSPECIFIED", |d| d.as_str_name());
            let replay = r.disposition == pb::Disposition::Replay as i32;
            tracing::info!(
                ticket_id = %r.ticket_id,
                centre = %centre.id,
                line = t.line.as_str(),
                incident = %t.incident_number,
                caller = %mask::phone(&t.caller_phone),
                disposition,
                "emergency: transfer accepted"
            );
            let body = json!({
                "status": if replay { "replay" } else { "accepted" },
                "ticket_id": r.ticket_id,
                "case_id": r.case_id,
                "disposition": disposition,
                "department_id": r.department_id,
            });
            (StatusCode::OK, body)
        }
        Err(e) => {
            let message = e.to_string();
            let field = e.field().to_owned();
            let status = e.into_response().status();
            if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS {
                rejected(status, &field, message)
            } else {
                tracing::error!(
                    centre = %centre.id,
                    incident = %t.incident_number,
                    error = %message,
                    "emergency: transfer not accepted"
                );
                let body = json!({ "status": "failed", "error": message, "field": field });
                (status, body)
            }
        }
    }
}

fn rejected(status: StatusCode, field: &str, message: String) -> (StatusCode, Value) {
    let body = json!({ "status": "rejected", "error": message, "field": field });
    (status, body)
}
