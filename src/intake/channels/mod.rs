//! The channel adapters' HTTP endpoints, mounted on the HTTP listener. Each file here does the
//! protocol I/O of one channel (reading the request, checking its signature, answering in the
//! channel's own format) and calls the pure translator in `adapters/<channel>` and then
//! [`Intake::submit`] — the same path gRPC takes.
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Intake;
use crate::config::adapters::AdaptersConfig;
use crate::pb;
use crate::telemetry::Metrics;

pub mod citymgmt;
pub mod emergency;
pub mod hotline12345;
pub mod mailbox;
pub mod rating_replies;
pub mod sms_replies;
pub mod wechat;

/// What every channel endpoint gets.
#[derive(Clone)]
pub struct ChannelContext {
    /// The shared intake path (validate → route → store).
    pub intake: Intake,
    /// `[adapters.*]` settings.
    pub config: Arc<AdaptersConfig>,
    pub metrics: Arc<Metrics>,
    /// Caller authentication for the system-to-system endpoints (12345, mailbox, city
    /// management events); WeChat, Open311 and emergency centres have their own schemes.
    pub auth: Arc<crate::protect::auth::Authenticator>,
    /// Ratings by reply (回访 by SMS and WeChat): the ledger's lookup and the rating path.
    pub replies: rating_replies::ReplyRatings,
    /// The 数字城管 inspector's verdicts (核查).
    pub verifications: crate::handling::verification::Verifications,
}

impl ChannelContext {
    /// `router` with caller authentication in front (a no-op while `[auth]` is off).
    pub fn authenticated(&self, router: Router) -> Router {
        if !router.has_routes() {
            return router;
        }
        router.route_layer(axum::middleware::from_fn_with_state(
            self.auth.clone(),
            crate::protect::auth::require_caller,
        ))
    }
}

/// Every enabled channel's routes.
pub fn routes(ctx: ChannelContext) -> Router {
    Router::new()
        .merge(wechat::routes(ctx.clone()))
        .merge(ctx.authenticated(mailbox::routes(ctx.clone())))
        .merge(ctx.authenticated(hotline12345::routes(ctx.clone())))
        .merge(citymgmt::routes(ctx.clone()))
        .merge(sms_replies::routes(ctx.clone()))
        .merge(emergency::routes(ctx))
}

/// Whether the request carries `Authorization: Bearer <token>` (compared in constant time).
/// An empty `token` means the endpoint has none configured, and every request passes.
pub(crate) fn bearer_matches(token: &str, headers: &HeaderMap) -> bool {
    use subtle::ConstantTimeEq;
    if token.is_empty() {
        return true;
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    bool::from(given.as_bytes().ct_eq(token.as_bytes()))
}

/// The JSON answer of a system-to-system endpoint (mailbox, city management) to an accepted
/// report.
pub(crate) fn accepted_response(r: &pb::SubmitResponse) -> Response {
    let body = serde_json::json!({
        "status": "accepted",
        "ticket_id": r.ticket_id,
        "case_id": r.case_id,
        "disposition": pb::Disposition::try_from(r.disposition)
            .map_or("DISPOSITION_UNSPECIFIED", |d| d.as_str_name()),
        "department_id": r.department_id,
        "level": pb::Level::try_from(r.level).map_or("LEVEL_UNSPECIFIED", |l| l.as_str_name()),
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn bearer_token_must_match_exactly_when_one_is_configured() {
        assert!(bearer_matches("", &HeaderMap::new()));
        assert!(bearer_matches("s3cret", &with_auth("Bearer s3cret")));
        assert!(!bearer_matches("s3cret", &HeaderMap::new()));
        assert!(!bearer_matches("s3cret", &with_auth("Bearer s3cre")));
        assert!(!bearer_matches("s3cret", &with_auth("Bearer s3cret2")));
        assert!(!bearer_matches("s3cret", &with_auth("Bearer S3CRET")));
        assert!(!bearer_matches("s3cret", &with_auth("s3cret")));
    }
}
