//! `POST /v1/citymgmt/verifications`, mounted with the 数字城管 events endpoint: the grid
//! inspector's verdict (核查) on a completed case, answering the verification task Minhu
//! published to `minhu.return.citymgmt` (fields in
//! [`minhu_adapter_citymgmt::verification`]). The case number (案卷号) names the platform's
//! event; a pass closes its case (结案), a fail reopens it to the department that completed it.
//!
//! | status | body | when |
//! | --- | --- | --- |
//! | 200 | `{"status":"closed"\|"reopened","ticket_id","case_id","case_status","department_id","case_version"}` | applied, or the same verdict again |
//! | 400 | `{"error","field"}` | not JSON, a field missing or wrong |
//! | 404 | `{"error","field":"case_number"}` | no event with that case number |
//! | 409 | `{"error"}` | the case is not waiting for a verdict (still being handled, or closed) |
//! | 413, 415 | `{"error","field"}` | body too large; not `application/json` |
//! | 503 | `{"error"}` | nothing applied: send it again |
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minhu_adapter_citymgmt::verification::read_result;
use serde_json::json;

use super::{json_body, refuse};
use crate::handling::verification::{Verdict, Verifications};
use crate::intake::error::handling_http_status;
use crate::pb;
use crate::store::Store;

/// What the verdict handler shares.
pub(super) struct Door {
    pub verifications: Verifications,
    pub store: Store,
    /// The platform's `source_system`: with the case number, the key of its events.
    pub source_system: String,
    pub max_body_bytes: usize,
}

pub(super) async fn verdict(
    State(door): State<Arc<Door>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let raw = match json_body(&headers, body, door.max_body_bytes, "one verdict") {
        Ok(raw) => raw,
        Err(refused) => return *refused,
    };
    let value: serde_json::Value = match serde_json::from_slice(&raw) {
        Ok(v) => v,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "body", format!("not JSON: {e}")),
    };
    let v = match read_result(&value) {
        Ok(v) => v,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.field, e.message),
    };
    let ticket = match door
        .store
        .ticket_by_source(
            minhu_adapter_citymgmt::CHANNEL,
            &door.source_system,
            &v.case_number,
        )
        .await
    {
        Ok(Some(t)) => t,
        Ok(None) => {
            return refuse(
                StatusCode::NOT_FOUND,
                "case_number",
                format!("no event with case number {}", v.case_number),
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "citymgmt: verdict not applied");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "",
                "store unavailable; send it again",
            );
        }
    };
    let verdict = Verdict {
        ticket_id: ticket.ticket_id.clone(),
        passed: v.passed,
        comment: v.comment,
        inspector_id: v.inspector_id,
        verified_at: v.verified_at,
    };
    match door.verifications.verify(&verdict).await {
        Ok(o) => {
            let status = pb::CaseStatus::try_from(o.status).unwrap_or_default();
            tracing::info!(ticket_id = %ticket.ticket_id, case_number = %v.case_number,
                           passed = verdict.passed, "citymgmt: verdict applied");
            let body = json!({
                "status": if status == pb::CaseStatus::Closed { "closed" } else { "reopened" },
                "ticket_id": ticket.ticket_id,
                "case_id": o.case_id,
                "case_status": status.as_str_name(),
                "department_id": o.department_id,
                "case_version": o.case_version,
            });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(e) => {
            let status = handling_http_status(&e);
            if status.is_server_error() {
                tracing::warn!(error = %e, "citymgmt: verdict not applied");
            }
            (status, axum::Json(json!({ "error": e.to_string() }))).into_response()
        }
    }
}
