//! `POST /v1/sms/replies`, mounted when `[adapters.sms_replies] enabled`: the SMS gateway's
//! callback for a citizen's reply (上行短信) to a result notice. A reply that reads as a
//! rating ("1" 满意, "0 还是不亮", see `minhu_adapter::rating_reply`) rates the most recent
//! result notice sent to that phone within `window` ([`super::rating_replies`]); anything
//! else is answered as not a rating and never becomes a report (a citizen with a new problem
//! calls 12345). The gateway's message id is the rating's id (`sms-<id>`), so the gateway's
//! retries are replays.
//!
//! Answers, JSON (never the phone or the text):
//!
//! | status | body | when |
//! | --- | --- | --- |
//! | 200 | `{"status":"rated","ticket_id","reopened","escalated","replay"}` | recorded, or recorded before |
//! | 400 | `{"error","field"}` | malformed: not JSON/form, a field missing, not a mobile number |
//! | 401 | `{"error"}` | no or wrong token or signature, stale timestamp |
//! | 409 | `{"status":"already_rated"\|"handled_again","error","ticket_id"}` | rated already; the case is being handled again |
//! | 413 | `{"error"}` | body over `max_body_bytes` |
//! | 422 | `{"status":"not_a_rating"\|"no_notice","error"}` | not a rating; no result notice within the window |
//! | 503, 500 | `{"error"}` | nothing recorded: the gateway may retry |
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use minhu_adapter::rating_reply;
use minhu_adapter_hotline12345::sms::mobile;
use minhu_adapter_hotline12345::sms_reply::{Callback, Replies};
use serde_json::json;

use super::ChannelContext;
use super::rating_replies::{Replied, ReplyRatings};
use crate::handling::HandlingError;
use crate::store::Contact;
use crate::telemetry::mask;

struct Door {
    callback: Replies,
    replies: ReplyRatings,
    window: Duration,
}

/// The route; none unless enabled (and none, logged, if the section does not compile: the
/// config check refuses such a file before `serve` gets here).
pub fn routes(ctx: ChannelContext) -> Router {
    let cfg = &ctx.config.sms_replies;
    if !cfg.enabled {
        return Router::new();
    }
    let callback = match cfg.compile() {
        Ok(c) => c,
        Err(problems) => {
            for (key, message) in problems {
                tracing::error!(key, message, "SMS replies not served");
            }
            return Router::new();
        }
    };
    let state = Arc::new(Door {
        callback,
        replies: ctx.replies.clone(),
        window: cfg.window,
    });
    Router::new()
        .route("/v1/sms/replies", post(reply))
        .layer(DefaultBodyLimit::max(cfg.max_body_bytes))
        .with_state(state)
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn reply(
    State(d): State<Arc<Door>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) => return answer(r.status(), json!({ "error": r.body_text() })),
    };
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let callback = Callback {
        method: "POST",
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &pairs,
        body: &body,
        now_s: crate::time::now_ms().div_euclid(1000),
    };
    if let Err(e) = d.callback.authenticate(&callback) {
        tracing::warn!(error = %e, "SMS reply refused: not from the gateway");
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({ "error": format!("not from the SMS gateway: {e}") }),
        );
    }
    let sms = match d.callback.read(&body) {
        Ok(s) => s,
        Err(e) => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({ "error": e.message, "field": e.field }),
            );
        }
    };
    let phone = match mobile(&sms.phone) {
        Ok(p) => p,
        Err(e) => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({ "error": e.to_string(), "field": d.callback.phone_field() }),
            );
        }
    };
    let masked = mask::phone(phone.as_str());
    let rating = match rating_reply::parse(&sms.text) {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(phone = %masked, message_id = %sms.message_id, why = %e, "SMS reply is not a rating");
            return answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "status": "not_a_rating", "error": format!("not a rating: {e}") }),
            );
        }
    };
    let contact = Contact::Sms {
        phone: phone.as_str().to_owned(),
    };
    let rating_id = format!("sms-{}", sms.message_id);
    match d
        .replies
        .rate(&contact, &rating, &rating_id, "sms", d.window)
        .await
    {
        Ok(Replied::Rated(r)) => {
            tracing::info!(phone = %masked, ticket = %r.ticket_id, reopened = r.reopened, replay = r.replay, "SMS reply rated");
            answer(
                StatusCode::OK,
                json!({
                    "status": "rated",
                    "ticket_id": r.ticket_id,
                    "reopened": r.reopened,
                    "escalated": r.escalated,
                    "replay": r.replay,
                }),
            )
        }
        Ok(Replied::NoNotice) => {
            tracing::info!(phone = %masked, "SMS reply: no result notice awaits a rating");
            answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "status": "no_notice", "error": "no result notice sent to this phone within the window awaits a rating" }),
            )
        }
        Ok(Replied::AlreadyRated { ticket_id }) => answer(
            StatusCode::CONFLICT,
            json!({ "status": "already_rated", "error": "this result was rated already", "ticket_id": ticket_id }),
        ),
        Ok(Replied::HandledAgain { ticket_id }) => answer(
            StatusCode::CONFLICT,
            json!({ "status": "handled_again", "error": "the case is being handled again; its next result will be rated", "ticket_id": ticket_id }),
        ),
        Err(e) => refused(&e),
    }
}

/// The rating path's refusals, in HTTP.
fn refused(e: &HandlingError) -> Response {
    let code =
        |c: tonic::Code| matches!(e, HandlingError::Refused { code, .. } if *code == c as i32);
    let (status, what) = match e {
        HandlingError::Invalid(i) => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({ "error": e.to_string(), "field": i.field }),
            );
        }
        _ if code(tonic::Code::AlreadyExists) => (StatusCode::CONFLICT, "already_rated"),
        _ if code(tonic::Code::FailedPrecondition) => (StatusCode::CONFLICT, "handled_again"),
        _ if code(tonic::Code::NotFound) => (StatusCode::UNPROCESSABLE_ENTITY, "no_notice"),
        HandlingError::Retry(_) | HandlingError::ShuttingDown => {
            (StatusCode::SERVICE_UNAVAILABLE, "retry")
        }
        _ => {
            tracing::warn!(error = %e, "SMS reply not recorded");
            (StatusCode::INTERNAL_SERVER_ERROR, "retry")
        }
    };
    answer(status, json!({ "status": what, "error": e.to_string() }))
}
