//! HTTP endpoints of the mayor's mailbox (市长信箱), mounted when `[adapters.mailbox] enabled`:
//!
//! - `POST /v1/mailbox/messages`, `Content-Type: message/rfc822`: one raw e-mail as an MTA
//!   (or a mail-fetching job) delivers it;
//! - `POST /v1/mailbox/forms`, JSON or `application/x-www-form-urlencoded`: the web form.
//!
//! The protocol I/O lives here: authentication, body limits (413), content types (415), storing
//! attachments (before the Submit, so a ticket never names a missing file), then
//! [`Intake::submit`](crate::intake::Intake::submit) — the path gRPC takes. Translation is the
//! pure `minhu-adapter-mailbox` crate. Answers are JSON: `{"status":"accepted", "ticket_id", …}`,
//! `{"status":"ignored", "reason", "detail"}` (2xx: auto-replies, bounces and list mail make no
//! ticket, and a 4xx would make the sender's MTA bounce or retry), or the intake's error body
//! `{"error", "field"}`.
//!
//! `minhu ingest mail` ([`ingest`]) is the same path for an MTA pipe, over gRPC.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use minhu_adapter_mailbox::form::Form;
use minhu_adapter_mailbox::{IgnoreReason, Ignored, MailOutcome, Options, translate_mail};

use super::ChannelContext;
use crate::config::adapters::mailbox::MailboxConfig;
use crate::intake::validate::Invalid;
use crate::intake::{Intake, IntakeError};
use crate::pb;
use crate::telemetry::mask;

pub mod ingest;
pub mod store;

/// What the mailbox handlers share.
struct Mailbox {
    intake: Intake,
    config: MailboxConfig,
    options: Options,
}

/// The mailbox routes; none when the channel is disabled.
pub fn routes(ctx: ChannelContext) -> Router {
    let config = ctx.config.mailbox.clone();
    if !config.enabled {
        return Router::new();
    }
    let state = Arc::new(Mailbox {
        intake: ctx.intake,
        options: config.options(),
        config,
    });
    Router::new()
        .route(
            "/v1/mailbox/messages",
            post(message).layer(DefaultBodyLimit::max(state.config.max_message_bytes)),
        )
        .route(
            "/v1/mailbox/forms",
            post(form).layer(DefaultBodyLimit::max(state.config.max_form_bytes)),
        )
        .with_state(state)
}

/// Mail ignored since start, by reason (Prometheus text from [`render_metrics`]).
static IGNORED: [AtomicU64; IgnoreReason::ALL.len()] = [const { AtomicU64::new(0) }; 5];

/// Records a mail that made no ticket: a counter by reason and a log line with the sender
/// masked. Shared with `minhu ingest mail`.
pub fn record_ignored(ignored: &Ignored) {
    if let Some(i) = IgnoreReason::ALL.iter().position(|r| *r == ignored.reason) {
        IGNORED[i].fetch_add(1, Relaxed);
    }
    tracing::info!(
        reason = ignored.reason.as_str(),
        detail = %ignored.detail,
        sender = %mask::email(&ignored.sender),
        "mailbox: machine-generated mail ignored, no ticket"
    );
}

/// `minhu_mailbox_ignored_total{reason="…"}` in the Prometheus text format.
pub fn render_metrics() -> String {
    let mut out = String::from(
        "# HELP minhu_mailbox_ignored_total Mail that made no ticket (auto-replies, bounces, lists).\n\
         # TYPE minhu_mailbox_ignored_total counter\n",
    );
    for (r, n) in IgnoreReason::ALL.iter().zip(&IGNORED) {
        out.push_str(&format!(
            "minhu_mailbox_ignored_total{{reason=\"{}\"}} {}\n",
            r.as_str(),
            n.load(Relaxed)
        ));
    }
    out
}

/// A JSON error answer naming the field or header to blame.
fn refuse(status: StatusCode, field: &str, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "error": message.into(), "field": field });
    (status, axum::Json(body)).into_response()
}

fn invalid(field: &str, message: impl Into<String>) -> Response {
    IntakeError::Invalid(Invalid {
        field: field.to_owned(),
        message: message.into(),
    })
    .into_response()
}

/// The media type of the request, lower case, without parameters.
fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The answer to a body that could not be read (413 past the limit).
fn body_refused(e: BytesRejection, limit: usize) -> Response {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body",
            format!("larger than {limit} bytes"),
        ),
        status => refuse(status, "body", e.body_text()),
    }
}

/// The answer to a Submit.
fn submitted(result: Result<pb::SubmitResponse, IntakeError>, attachments: usize) -> Response {
    match result {
        Ok(r) => {
            let disposition = pb::Disposition::try_from(r.disposition)
                .map_or("DISPOSITION_UNSPECIFIED", |d| d.as_str_name());
            tracing::info!(
                ticket_id = %r.ticket_id,
                disposition,
                attachments,
                "mailbox: report accepted"
            );
            super::accepted_response(&r)
        }
        Err(e) => e.into_response(),
    }
}

async fn message(
    State(mb): State<Arc<Mailbox>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !super::bearer_matches(&mb.config.token, &headers) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "authorization",
            "missing or wrong bearer token",
        );
    }
    if media_type(&headers) != "message/rfc822" {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content-type",
            "must be message/rfc822 (the raw message)",
        );
    }
    let raw = match body {
        Ok(b) => b,
        Err(e) => return body_refused(e, mb.config.max_message_bytes),
    };
    // Parsing a large message and fsyncing attachments are blocking work.
    let work = mb.clone();
    let prepared = tokio::task::spawn_blocking(move || {
        prepare(&raw, &work.options, &work.config.attachments_dir)
    })
    .await;
    match prepared {
        Ok(Prepared::Ticket(request, n)) => submitted(mb.intake.submit(Some(*request)).await, n),
        Ok(Prepared::Ignored(ignored)) => {
            record_ignored(&ignored);
            let body = serde_json::json!({
                "status": "ignored",
                "reason": ignored.reason.as_str(),
                "detail": ignored.detail,
            });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Ok(Prepared::Refused(e)) => invalid(e.field(), e.to_string()),
        Ok(Prepared::StoreFailed(e)) => {
            tracing::error!(error = %e, "mailbox: cannot store attachments; nothing submitted");
            IntakeError::Internal("cannot store the attachments; retry later".into())
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "mailbox: translation task failed");
            IntakeError::Internal("the message could not be processed".into()).into_response()
        }
    }
}

/// A raw mail made ready for the Submit.
pub enum Prepared {
    /// The request to submit (its attachments are stored) and how many attachments it has.
    Ticket(Box<pb::Request>, usize),
    /// Machine-generated: no ticket. Record it with [`record_ignored`].
    Ignored(Ignored),
    /// Not a usable e-mail: refuse it (HTTP 400, EX_DATAERR).
    Refused(minhu_adapter_mailbox::MailError),
    /// The attachments could not be written: nothing was submitted; retry later.
    StoreFailed(std::io::Error),
}

/// Translates `raw` and stores its attachments under `dir`. Blocking.
pub fn prepare(raw: &[u8], options: &Options, dir: &std::path::Path) -> Prepared {
    match translate_mail(raw, options) {
        Err(e) => Prepared::Refused(e),
        Ok(MailOutcome::Ignored(i)) => Prepared::Ignored(i),
        Ok(MailOutcome::Ticket(t)) => match store::store_all(dir, &t.attachments) {
            Ok(()) => Prepared::Ticket(Box::new(t.request), t.attachments.len()),
            Err(e) => Prepared::StoreFailed(e),
        },
    }
}

async fn form(
    State(mb): State<Arc<Mailbox>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !super::bearer_matches(&mb.config.token, &headers) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "authorization",
            "missing or wrong bearer token",
        );
    }
    let parse = match media_type(&headers).as_str() {
        "application/json" => Form::from_json,
        "application/x-www-form-urlencoded" => Form::from_urlencoded,
        _ => {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "content-type",
                "must be application/json or application/x-www-form-urlencoded",
            );
        }
    };
    let raw = match body {
        Ok(b) => b,
        Err(e) => return body_refused(e, mb.config.max_form_bytes),
    };
    let request =
        match parse(&raw).and_then(|f| minhu_adapter_mailbox::translate_form(&f, &mb.options)) {
            Ok(r) => r,
            Err(e) => return invalid(&e.field, e.message),
        };
    let n = request.attachments.len();
    submitted(mb.intake.submit(Some(request)).await, n)
}
