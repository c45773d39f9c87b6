//! `POST /v1/hotline/{source}/followups`: the results of a call-centre's 回访 calls, for
//! sources whose `followup.call_back` is on (they get a follow-up task on
//! `minhu.return.hotline12345.<source>` when a case completes). Each result is read through the
//! source's `followup` mapping — its own field names and values — and recorded through the one
//! rating path every door takes ([`crate::handling::rating::Ratings::rate`], `via` `hotline`):
//! "not solved" reopens the case (二次办理) as from any other door.
//!
//! The body is one result or an array of them; each is answered on its own, in order:
//! `{"index", "status": "rated"|"replay"|"rejected", "source_id", "ticket_id", "reopened",
//! "escalated", "error", "field", "retryable"}`. HTTP 200 when every result was recorded (or
//! recorded before), 207 when some were, 422 when none; 400/401/404/413 as for orders.
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minhu_adapter_hotline12345::Order;
use minhu_adapter_hotline12345::followup::{FollowupResult, read_result};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Hotline, batch_answer, read_items, refuse};
use crate::handling::HandlingError;
use crate::pb;

pub(super) async fn results(
    State(h): State<Arc<Hotline>>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mapping = match h.source(&source, &headers) {
        Ok(m) => m,
        Err(refused) => return *refused,
    };
    if !mapping.followup.call_back {
        return refuse(
            StatusCode::NOT_FOUND,
            "source",
            format!("source system {source:?} does not call back (followup.call_back is off)"),
        );
    }
    let items = match read_items(&h.config, body, "follow-up results") {
        Ok(items) => items,
        Err(refused) => return *refused,
    };
    let rates = items.iter().enumerate().map(|(index, v)| {
        let h = h.clone();
        let source = source.clone();
        async move {
            let read = Order::from_json(v).and_then(|o| read_result(&mapping.followup, &o));
            match read {
                Err(e) => rejected(index, "", &e.message, &e.field, false),
                Ok(r) => rate(&h, &source, index, r).await,
            }
        }
    });
    let results: Vec<Value> = futures::future::join_all(rates).await;
    let (ok, rejected, answer) = batch_answer(results, "rated");
    tracing::info!(source = %source, results = ok + rejected, rated = ok, rejected, "hotline: follow-up results answered");
    answer
}

/// Records one result: the order's ticket, rated through the one rating path.
async fn rate(h: &Hotline, source: &str, index: usize, r: FollowupResult) -> Value {
    let store = h.replies.store();
    let ticket = match store
        .ticket_by_source(pb::Channel::Hotline12345, source, &r.source_id)
        .await
    {
        Ok(Some(t)) => t,
        Ok(None) => {
            return rejected(
                index,
                &r.source_id,
                "no order with this number was received from this source",
                "source_id",
                false,
            );
        }
        Err(e) => return rejected(index, &r.source_id, &e.to_string(), "", true),
    };
    let solved = r.solved as i32;
    let request = pb::RateRequest {
        ticket_id: ticket.ticket_id.clone(),
        satisfaction: r.satisfaction as i32,
        solved,
        text: r.comment.clone(),
        // Without the call's own id, the result's content is its id: the same result sent
        // again is a replay, a different one for the same completion is refused.
        rating_id: r.rating_id.clone().unwrap_or_else(|| content_id(&r)),
        via: "hotline".to_owned(),
    };
    match h.replies.ratings().rate(request, "hotline", None).await {
        Ok(done) => json!({
            "index": index,
            "status": if done.replay { "replay" } else { "rated" },
            "source_id": r.source_id,
            "ticket_id": done.ticket_id,
            "case_id": done.case_id,
            "reopened": done.reopened,
            "escalated": done.escalated,
        }),
        Err(e) => {
            let field = match &e {
                HandlingError::Invalid(i) => i.field.clone(),
                _ => String::new(),
            };
            let retryable = matches!(e, HandlingError::Retry(_) | HandlingError::ShuttingDown);
            rejected(index, &r.source_id, &e.to_string(), &field, retryable)
        }
    }
}

fn content_id(r: &FollowupResult) -> String {
    let d = Sha256::digest(
        format!(
            "{}\u{0}{}\u{0}{}\u{0}{}",
            r.source_id, r.satisfaction as i32, r.solved as i32, r.comment
        )
        .as_bytes(),
    );
    let hex: String = d[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("hotline-{hex}")
}

fn rejected(index: usize, source_id: &str, error: &str, field: &str, retryable: bool) -> Value {
    tracing::info!(
        index,
        field,
        retryable,
        "hotline: follow-up result rejected"
    );
    json!({ "index": index, "status": "rejected", "source_id": source_id,
            "error": error, "field": field, "retryable": retryable })
}
