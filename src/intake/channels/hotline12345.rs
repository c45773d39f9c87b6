//! HTTP endpoints of the 12345 hotline (市民热线), mounted when `[adapters.hotline12345] enabled`:
//!
//! - `POST /v1/hotline/{source}/orders`: the source system in the path (preferred: one URL per
//!   call-centre, visible in access logs);
//! - `POST /v1/hotline/orders` with the header `X-Minhu-Source: <source>` (or without it when
//!   exactly one source is configured).
//!
//! The body is one work order (a JSON object) or an array of them. Each order is translated with
//! its source's mapping and submitted on its own ([`Intake::submit`], the path gRPC takes; one
//! transaction each), so one bad order never sinks a batch and a refused order leaves nothing
//! written. The answer lists one result per order, in order:
//! `{"index", "status": "accepted"|"replay"|"rejected", "source_id", "ticket_id", "case_id",
//! "error", "field", "retryable"}`; HTTP 200 when every order was accepted or replayed, 207 when
//! some were, 422 when none. A body that is not JSON gets 400, more than `max_batch` orders or more
//! than `max_body_bytes` 413, an unknown source 404 — nothing submitted in those cases.
//!
//! `POST /v1/hotline/{source}/followups` takes the results of the call-centre's 回访 calls
//! ([`followups`]), for sources whose `followup.call_back` is on.
//!
//! `minhu import hotline` ([`import`]) takes CSV exports through the same mapping, over gRPC.
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use minhu_adapter_hotline12345::{Mapping, Order, translate};
use serde_json::{Value, json};

use super::ChannelContext;
use crate::config::adapters::hotline12345::Hotline12345Config;
use crate::intake::{Intake, IntakeError};
use crate::pb;

mod followups;
pub mod import;

/// The header naming the source system on `/v1/hotline/orders`.
pub const SOURCE_HEADER: &str = "x-minhu-source";

struct Hotline {
    intake: Intake,
    /// The rating path and the store, for 回访 results.
    replies: super::rating_replies::ReplyRatings,
    config: Hotline12345Config,
    mappings: BTreeMap<String, Mapping>,
}

impl Hotline {
    /// The mapping of `source` for a caller with the right token, or the refusal (401, 404).
    fn source(&self, source: &str, headers: &HeaderMap) -> Result<&Mapping, Box<Response>> {
        if !super::bearer_matches(&self.config.token, headers) {
            return Err(boxed(
                StatusCode::UNAUTHORIZED,
                "authorization",
                "missing or wrong bearer token",
            ));
        }
        self.mappings.get(source).ok_or_else(|| {
            boxed(
                StatusCode::NOT_FOUND,
                "source",
                format!("no source system {source:?} in [adapters.hotline12345.sources]"),
            )
        })
    }
}

/// The hotline routes; none when the channel is disabled.
pub fn routes(ctx: ChannelContext) -> Router {
    let config = ctx.config.hotline12345.clone();
    if !config.enabled {
        return Router::new();
    }
    let limit = config.max_body_bytes;
    let state = Arc::new(Hotline {
        intake: ctx.intake,
        replies: ctx.replies,
        mappings: config.mappings(),
        config,
    });
    Router::new()
        .route("/v1/hotline/orders", post(by_header))
        .route("/v1/hotline/{source}/orders", post(by_path))
        .route("/v1/hotline/{source}/followups", post(followups::results))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

fn refuse(status: StatusCode, field: &str, message: impl Into<String>) -> Response {
    let body = json!({ "error": message.into(), "field": field });
    (status, axum::Json(body)).into_response()
}

async fn by_header(
    State(h): State<Arc<Hotline>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let source = match headers.get(SOURCE_HEADER).map(|v| v.to_str()) {
        Some(Ok(s)) => s.trim().to_owned(),
        Some(Err(_)) => return refuse(StatusCode::BAD_REQUEST, SOURCE_HEADER, "not ASCII"),
        None if h.mappings.len() == 1 => h.mappings.keys().next().cloned().unwrap_or_default(),
        None => {
            return refuse(
                StatusCode::BAD_REQUEST,
                SOURCE_HEADER,
                "name the source system in the X-Minhu-Source header or use /v1/hotline/{source}/orders",
            );
        }
    };
    orders(h, source, headers, body).await
}

async fn by_path(
    State(h): State<Arc<Hotline>>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    orders(h, source, headers, body).await
}

async fn orders(
    h: Arc<Hotline>,
    source: String,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mapping = match h.source(&source, &headers) {
        Ok(m) => m,
        Err(refused) => return *refused,
    };
    let items = match read_items(&h.config, body, "work orders") {
        Ok(items) => items,
        Err(refused) => return *refused,
    };
    // Translate everything first, then submit the good orders concurrently: the store commits
    // them in groups, so a batch costs a few fsyncs, not one per order.
    let translated: Vec<_> = items
        .iter()
        .map(|v| Order::from_json(v).and_then(|o| translate(&o, &source, mapping)))
        .collect();
    let submits = translated.iter().map(|t| {
        let intake = h.intake.clone();
        let req = t.as_ref().ok().cloned();
        async move {
            match req {
                Some(r) => Some(intake.submit(Some(r)).await),
                None => None,
            }
        }
    });
    let outcomes = futures::future::join_all(submits).await;
    let results: Vec<Value> = translated
        .iter()
        .zip(outcomes)
        .enumerate()
        .map(|(index, (t, outcome))| item_result(index, t, outcome))
        .collect();
    let (ok, rejected, answer) = batch_answer(results, "accepted");
    tracing::info!(source = %source, orders = ok + rejected, accepted = ok, rejected, "hotline: batch answered");
    answer
}

/// The answer to a batch whose items were each answered on their own: `{<done_key>: n,
/// "rejected": n, "results"}`, HTTP 200 when none was rejected, 422 when all were, 207 else.
/// Also the counts, for the log.
fn batch_answer(results: Vec<Value>, done_key: &str) -> (usize, usize, Response) {
    let ok = results.iter().filter(|r| r["status"] != "rejected").count();
    let rejected = results.len() - ok;
    let status = match (ok, rejected) {
        (_, 0) => StatusCode::OK,
        (0, _) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::MULTI_STATUS,
    };
    let body = json!({ done_key: ok, "rejected": rejected, "results": results });
    (ok, rejected, (status, axum::Json(body)).into_response())
}

fn boxed(status: StatusCode, field: &str, message: impl Into<String>) -> Box<Response> {
    Box::new(refuse(status, field, message))
}

/// The body's items (one JSON object or an array of them), or the refusal: not JSON, empty,
/// over `max_body_bytes` or `max_batch`.
fn read_items(
    config: &Hotline12345Config,
    body: Result<Bytes, BytesRejection>,
    what: &str,
) -> Result<Vec<Value>, Box<Response>> {
    let raw = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(boxed(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body",
                format!(
                    "larger than {} bytes (max_body_bytes)",
                    config.max_body_bytes
                ),
            ));
        }
        Err(e) => return Err(boxed(e.status(), "body", e.body_text())),
    };
    let items = match serde_json::from_slice::<Value>(&raw) {
        Ok(Value::Array(a)) => a,
        Ok(v @ Value::Object(_)) => vec![v],
        Ok(_) => {
            return Err(boxed(
                StatusCode::BAD_REQUEST,
                "body",
                format!("must be a JSON object or an array of them ({what})"),
            ));
        }
        Err(e) => {
            return Err(boxed(
                StatusCode::BAD_REQUEST,
                "body",
                format!("not JSON: {e}"),
            ));
        }
    };
    if items.is_empty() {
        return Err(boxed(StatusCode::BAD_REQUEST, "body", format!("no {what}")));
    }
    if items.len() > config.max_batch {
        return Err(boxed(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body",
            format!(
                "{} items; at most {} in one request (max_batch)",
                items.len(),
                config.max_batch
            ),
        ));
    }
    Ok(items)
}

/// One order's entry in the answer.
fn item_result(
    index: usize,
    t: &Result<pb::Request, minhu_adapter_hotline12345::OrderError>,
    outcome: Option<Result<pb::SubmitResponse, IntakeError>>,
) -> Value {
    let source_id = t.as_ref().map_or("", |r| r.source_id.as_str());
    let rejected = |error: String, field: &str, retryable: bool| {
        tracing::info!(index, field, retryable, "hotline: order rejected");
        json!({ "index": index, "status": "rejected", "source_id": source_id,
                "error": error, "field": field, "retryable": retryable })
    };
    match (t, outcome) {
        (Err(e), _) => rejected(e.message.clone(), &e.field, false),
        (Ok(_), Some(Ok(r))) => {
            let replay = r.disposition == pb::Disposition::Replay as i32;
            json!({
                "index": index,
                "status": if replay { "replay" } else { "accepted" },
                "source_id": source_id,
                "ticket_id": r.ticket_id,
                "case_id": r.case_id,
                "department_id": r.department_id,
            })
        }
        (Ok(_), Some(Err(e))) => {
            let retryable = !matches!(e, IntakeError::Invalid(_));
            let field = e.field().to_owned();
            rejected(e.to_string(), &field, retryable)
        }
        (Ok(_), None) => rejected("not submitted".into(), "", true),
    }
}
