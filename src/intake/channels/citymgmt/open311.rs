//! Open311 GeoReport v2 (<https://wiki.open311.org/GeoReport_v2>), so existing Open311 apps
//! and tools work unchanged. Every path takes `.json` or `.xml` (no extension: JSON):
//!
//! - `GET /open311/v2/services.{json,xml}`: the taxonomy's categories;
//! - `GET /open311/v2/services/{service_code}.{json,xml}`: a definition (no attributes);
//! - `POST /open311/v2/requests.{json,xml}` (form-encoded, `api_key` required): a new request,
//!   answered `[{service_request_id, service_notice, account_id}]`; `service_request_id` is
//!   Minhu's ticket number. A double POST of the same form is a replay (same ticket);
//! - `GET /open311/v2/requests/{service_request_id}.{json,xml}` and
//!   `GET /open311/v2/requests.{json,xml}?service_request_id=T1,T2`: tickets as service
//!   requests (status open/closed, status_notes, agency_responsible = department, …). Without
//!   `service_request_id`, the spec's query: `service_code`, `status`, `start_date`,
//!   `end_date` (default: the last 90 days), at most 1000, newest first. Only tickets that
//!   came in through Open311 or the city-management platform are shown; others are 404, as if
//!   they did not exist.
//!
//! Errors are the spec's `[{"code":400,"description":"…"}]` (`<errors>` in XML) with the same
//! HTTP status: 400 missing or invalid parameter, 403 bad api_key, 404 unknown service, request
//! or jurisdiction, 413 body too large, 429/503 when Minhu cannot take work right now.
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minhu_adapter_citymgmt::open311::render::{self, Body};
use minhu_adapter_citymgmt::open311::{ApiKeys, Format, Post, translate_post};
use minhu_adapter_citymgmt::taxonomy::Taxonomy;
use minhu_adapter_citymgmt::{Open311Error, extra};

use super::super::ChannelContext;
use crate::intake::{Intake, IntakeError};
use crate::pb;
use crate::store::TicketQuery;
use crate::telemetry::mask::MaskedReporter;

/// Most ids in one `GET requests?service_request_id=…`.
const MAX_IDS: usize = 100;

/// What the Open311 handlers share.
struct Open311 {
    intake: Intake,
    taxonomy: Taxonomy,
    keys: ApiKeys,
    jurisdiction_id: String,
}

/// The `/open311/v2` routes.
pub fn routes(ctx: &ChannelContext) -> Router {
    let config = &ctx.config.citymgmt;
    let taxonomy = config.read_taxonomy().unwrap_or_else(|e| {
        // check-config refuses this; reaching here means the file changed since.
        tracing::error!(error = %e, "open311: no taxonomy, no services");
        Taxonomy::default()
    });
    let state = Arc::new(Open311 {
        intake: ctx.intake.clone(),
        taxonomy,
        keys: config.keys(),
        jurisdiction_id: config.jurisdiction_id.clone(),
    });
    Router::new()
        .route("/open311/v2/services.json", get(services_json))
        .route("/open311/v2/services.xml", get(services_xml))
        .route("/open311/v2/services/{file}", get(service_definition))
        .route("/open311/v2/requests.json", get(list_json).post(post_json))
        .route("/open311/v2/requests.xml", get(list_xml).post(post_xml))
        .route("/open311/v2/requests/{file}", get(one_request))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .with_state(state)
}

fn answer(status: StatusCode, b: Body) -> Response {
    (status, [(header::CONTENT_TYPE, b.content_type)], b.text).into_response()
}

fn fail(e: &Open311Error, f: Format) -> Response {
    let status = StatusCode::from_u16(e.code).unwrap_or(StatusCode::BAD_REQUEST);
    answer(status, render::error(e, f))
}

/// The query string's parameters.
fn query(uri: &Uri) -> Post {
    Post::from_urlencoded(uri.query().unwrap_or_default().as_bytes())
}

impl Open311 {
    /// 404 when the request names a jurisdiction this server does not answer for.
    fn jurisdiction(&self, p: &Post) -> Result<(), Open311Error> {
        let given = p.get("jurisdiction_id");
        if given.is_empty() || self.jurisdiction_id.is_empty() || given == self.jurisdiction_id {
            return Ok(());
        }
        Err(Open311Error::not_found(
            "jurisdiction_id is not served here",
        ))
    }
}

fn services(o: &Open311, uri: &Uri, f: Format) -> Response {
    match o.jurisdiction(&query(uri)) {
        Ok(()) => answer(StatusCode::OK, render::services(&o.taxonomy, f)),
        Err(e) => fail(&e, f),
    }
}

async fn services_json(State(o): State<Arc<Open311>>, uri: Uri) -> Response {
    services(&o, &uri, Format::Json)
}

async fn services_xml(State(o): State<Arc<Open311>>, uri: Uri) -> Response {
    services(&o, &uri, Format::Xml)
}

async fn service_definition(
    State(o): State<Arc<Open311>>,
    Path(file): Path<String>,
    uri: Uri,
) -> Response {
    let (code, f) = Format::split(&file);
    if let Err(e) = o.jurisdiction(&query(&uri)) {
        return fail(&e, f);
    }
    match o.taxonomy.get(code) {
        Some(c) => answer(StatusCode::OK, render::service_definition(c, f)),
        None => fail(
            &Open311Error::not_found("service_code is not a service here"),
            f,
        ),
    }
}

/// An intake error in Open311's shape.
fn intake_error(e: IntakeError) -> Open311Error {
    let code = match &e {
        IntakeError::Invalid(_) => 400,
        IntakeError::NotFound(_) => 404,
        IntakeError::Conflict(_) => 409,
        IntakeError::OutboxFull(_) | IntakeError::RateLimited(_) => 429,
        IntakeError::Unauthenticated(_) => 401,
        IntakeError::PermissionDenied(_) => 403,
        IntakeError::ShuttingDown => 503,
        IntakeError::Internal(_) => 500,
    };
    Open311Error {
        code,
        description: e.to_string(),
    }
}

async fn post_json(
    State(o): State<Arc<Open311>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    create(&o, &uri, &headers, body, Format::Json).await
}

async fn post_xml(
    State(o): State<Arc<Open311>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    create(&o, &uri, &headers, body, Format::Xml).await
}

async fn create(
    o: &Open311,
    uri: &Uri,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    f: Format,
) -> Response {
    let media = super::media_type(headers);
    if !(media.is_empty() || media == "application/x-www-form-urlencoded") {
        return fail(
            &Open311Error {
                code: 415,
                description: "Content-Type must be application/x-www-form-urlencoded".into(),
            },
            f,
        );
    }
    let raw = match body {
        Ok(b) => b,
        Err(e) => {
            return fail(
                &Open311Error {
                    code: e.status().as_u16(),
                    description: e.body_text(),
                },
                f,
            );
        }
    };
    // Parameters may come in the body or, from some clients, the query string.
    let mut form = Post::from_urlencoded(&raw);
    let q = query(uri);
    for (k, v) in q.fields {
        form.fields.entry(k).or_insert(v);
    }
    if let Err(e) = o.jurisdiction(&form) {
        return fail(&e, f);
    }
    let Some(key_name) = o.keys.check(form.get("api_key")).map(str::to_owned) else {
        tracing::info!("open311: post refused, missing or unknown api_key");
        return fail(
            &Open311Error::forbidden("api_key is missing or not valid"),
            f,
        );
    };
    let request = match translate_post(&form, &key_name, &o.taxonomy) {
        Ok(r) => r,
        Err(e) => return fail(&e, f),
    };
    let account_id = request
        .extra
        .get(extra::ACCOUNT_ID)
        .cloned()
        .unwrap_or_default();
    let reporter = request.reporter.clone().unwrap_or_default();
    match o.intake.submit(Some(request)).await {
        Ok(r) => {
            let replay = r.disposition == pb::Disposition::Replay as i32;
            tracing::info!(
                ticket_id = %r.ticket_id,
                api_key = %key_name,
                replay,
                department = %r.department_id,
                reporter = %MaskedReporter(&reporter),
                "open311: service request accepted"
            );
            let notice = format!("已受理，承办单位 {} (accepted)", r.department_id);
            let status = if replay {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            answer(
                status,
                render::posted(&r.ticket_id, &notice, &account_id, f),
            )
        }
        Err(e) => fail(&intake_error(e), f),
    }
}

/// Whether a ticket may be shown over Open311: it came in through Open311 or the platform.
fn visible(t: &pb::GetTicketResponse) -> bool {
    t.request.as_ref().is_some_and(|r| {
        r.source_system.starts_with("open311:") || r.channel == pb::Channel::CityManagement as i32
    })
}

/// Looks a ticket up; None when it does not exist or is not shown over Open311.
async fn lookup(o: &Open311, id: &str) -> Result<Option<pb::GetTicketResponse>, Open311Error> {
    match o.intake.ticket(id).await {
        Ok(t) if visible(&t) => Ok(Some(t)),
        Ok(_) | Err(IntakeError::NotFound(_) | IntakeError::Invalid(_)) => Ok(None),
        Err(e) => Err(intake_error(e)),
    }
}

async fn one_request(
    State(o): State<Arc<Open311>>,
    Path(file): Path<String>,
    uri: Uri,
) -> Response {
    let (id, f) = Format::split(&file);
    if let Err(e) = o.jurisdiction(&query(&uri)) {
        return fail(&e, f);
    }
    match lookup(&o, id).await {
        Ok(Some(t)) => answer(
            StatusCode::OK,
            render::service_requests(&[t], &o.taxonomy, f),
        ),
        Ok(None) => fail(
            &Open311Error::not_found("service_request_id was not found"),
            f,
        ),
        Err(e) => fail(&e, f),
    }
}

async fn list(o: &Open311, uri: &Uri, f: Format) -> Response {
    let q = query(uri);
    if let Err(e) = o.jurisdiction(&q) {
        return fail(&e, f);
    }
    let ids: Vec<&str> = q
        .get("service_request_id")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return match search(o, &q).await {
            Ok(found) => answer(
                StatusCode::OK,
                render::service_requests(&found, &o.taxonomy, f),
            ),
            Err(e) => fail(&e, f),
        };
    }
    if ids.len() > MAX_IDS {
        return fail(
            &Open311Error::bad_request(format!(
                "at most {MAX_IDS} service_request_id values at once"
            )),
            f,
        );
    }
    let mut found = Vec::new();
    for id in ids {
        match lookup(o, id).await {
            Ok(Some(t)) => found.push(t),
            Ok(None) => {}
            Err(e) => return fail(&e, f),
        }
    }
    answer(
        StatusCode::OK,
        render::service_requests(&found, &o.taxonomy, f),
    )
}

/// The spec's query form of `GET requests`: `service_code`, `status` (open/closed),
/// `start_date` and `end_date` (W3C date-times); without dates, the last 90 days; at most 1000
/// requests, newest first.
async fn search(o: &Open311, q: &Post) -> Result<Vec<pb::GetTicketResponse>, Open311Error> {
    const DAY_MS: i64 = 86_400_000;
    let date = |key: &str| -> Result<Option<i64>, Open311Error> {
        let v = q.get(key);
        if v.is_empty() {
            return Ok(None);
        }
        minhu_adapter_citymgmt::time::parse(v)
            .map(|t| Some(crate::time::timestamp_to_ms(&t)))
            .ok_or_else(|| {
                Open311Error::bad_request(format!(
                    "{key} must be a date-time such as 2026-11-22T08:00:00+08:00"
                ))
            })
    };
    let end = date("end_date")?.unwrap_or_else(|| crate::time::now_ms() + 1);
    let start = date("start_date")?.unwrap_or(end - 90 * DAY_MS);
    if start > end {
        return Err(Open311Error::bad_request("start_date is after end_date"));
    }
    let finished = match q.get("status") {
        "" => None,
        "open" => Some(false),
        "closed" => Some(true),
        other => {
            return Err(Open311Error::bad_request(format!(
                "status {other:?} is not open or closed"
            )));
        }
    };
    let code = q.get("service_code");
    if !code.is_empty() && o.taxonomy.get(code).is_none() {
        return Err(Open311Error::not_found(format!(
            "service_code {code:?} is not a service"
        )));
    }
    let query = TicketQuery {
        from_ms: start,
        to_ms: end,
        source_system_prefix: "open311:".into(),
        channel: Some(pb::Channel::CityManagement),
        category: (!code.is_empty()).then(|| code.to_owned()),
        finished,
        limit: 1000,
    };
    o.intake.search(query).await.map_err(intake_error)
}

async fn list_json(State(o): State<Arc<Open311>>, uri: Uri) -> Response {
    list(&o, &uri, Format::Json).await
}

async fn list_xml(State(o): State<Arc<Open311>>, uri: Uri) -> Response {
    list(&o, &uri, Format::Xml).await
}
