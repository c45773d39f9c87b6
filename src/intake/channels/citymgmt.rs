//! HTTP endpoints of digital city management, mounted when `[adapters.citymgmt] enabled`:
//!
//! - `POST /v1/citymgmt/events`, `Content-Type: application/json`: one event from the 数字城管
//!   platform (fields in [`minhu_adapter_citymgmt::event`]). Answers like the other channels:
//!   `{"status":"accepted", "ticket_id", "case_id", "disposition", "department_id", "level"}`,
//!   or `{"error", "field"}` with 400 (an unknown class code names the codes), 413 or 415.
//!   The platform's case number (案卷号) is the idempotency key: re-sending an event is a
//!   `DISPOSITION_REPLAY` with the same ticket.
//! - `POST /v1/citymgmt/verifications`: the grid inspector's verdict (核查) on a completed
//!   case ([`verification`]).
//! - Open311 GeoReport v2 under `/open311/v2/` ([`open311`]).
//!
//! Translation is the pure `minhu-adapter-citymgmt` crate; this file does the HTTP and calls
//! [`Intake::submit`](crate::intake::Intake::submit), the path gRPC takes.
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use minhu_adapter_citymgmt::Options;
use minhu_adapter_citymgmt::event::translate_event;

use super::ChannelContext;
use crate::intake::validate::Invalid;
use crate::intake::{Intake, IntakeError};
use crate::pb;
use crate::telemetry::mask::MaskedReporter;

pub mod open311;
mod verification;

/// What the event handler shares.
struct Events {
    intake: Intake,
    options: Options,
    max_body_bytes: usize,
}

/// The city-management and Open311 routes; none when the channel is disabled.
pub fn routes(ctx: ChannelContext) -> Router {
    let config = &ctx.config.citymgmt;
    if !config.enabled {
        return Router::new();
    }
    let events = Arc::new(Events {
        intake: ctx.intake.clone(),
        options: config.options(),
        max_body_bytes: config.max_body_bytes,
    });
    let verdicts = Arc::new(verification::Door {
        verifications: ctx.verifications.clone(),
        store: ctx.replies.store().clone(),
        source_system: config.source_system.clone(),
        max_body_bytes: config.max_body_bytes,
    });
    let events = Router::new()
        .route(
            "/v1/citymgmt/events",
            post(event).layer(DefaultBodyLimit::max(config.max_body_bytes)),
        )
        .with_state(events)
        .merge(
            Router::new()
                .route(
                    "/v1/citymgmt/verifications",
                    post(verification::verdict).layer(DefaultBodyLimit::max(config.max_body_bytes)),
                )
                .with_state(verdicts),
        );
    // Open311 keeps its own api_key; the events endpoint needs a known caller under [auth].
    ctx.authenticated(events).merge(open311::routes(&ctx))
}

/// The media type of the request, lower case, without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn refuse(status: StatusCode, field: &str, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "error": message.into(), "field": field });
    (status, axum::Json(body)).into_response()
}

/// The body of a JSON endpoint, or its refusal: 415 unless `application/json` (`what` says
/// what it must hold), 413 over `max_body_bytes`.
pub(crate) fn json_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    max_body_bytes: usize,
    what: &str,
) -> Result<Bytes, Box<Response>> {
    if media_type(headers) != "application/json" {
        return Err(Box::new(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content-type",
            format!("must be application/json ({what})"),
        )));
    }
    match body {
        Ok(b) => Ok(b),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(Box::new(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body",
            format!("larger than {max_body_bytes} bytes"),
        ))),
        Err(e) => Err(Box::new(refuse(e.status(), "body", e.body_text()))),
    }
}

async fn event(
    State(ev): State<Arc<Events>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let raw = match json_body(&headers, body, ev.max_body_bytes, "one event") {
        Ok(raw) => raw,
        Err(refused) => return *refused,
    };
    let request = match translate_event(&raw, &ev.options) {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(field = %e.field, "citymgmt: event refused");
            return IntakeError::Invalid(Invalid {
                field: e.field.clone(),
                message: e.message,
            })
            .into_response();
        }
    };
    let source_id = request.source_id.clone();
    let reporter = request.reporter.clone().unwrap_or_default();
    match ev.intake.submit(Some(request)).await {
        Ok(r) => {
            let disposition = pb::Disposition::try_from(r.disposition)
                .map_or("DISPOSITION_UNSPECIFIED", |d| d.as_str_name());
            tracing::info!(
                ticket_id = %r.ticket_id,
                case_number = %source_id,
                disposition,
                department = %r.department_id,
                inspector = %MaskedReporter(&reporter),
                "citymgmt: event accepted"
            );
            super::accepted_response(&r)
        }
        Err(e) => e.into_response(),
    }
}
