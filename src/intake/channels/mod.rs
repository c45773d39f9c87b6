//! The channel adapters' HTTP endpoints, mounted on the HTTP listener. Each file here does the
//! protocol I/O of one channel (reading the request, checking its signature, answering in the
//! channel's own format) and calls the pure translator in `adapters/<channel>` and then
//! [`Intake::submit`] — the same path gRPC takes.
use std::sync::Arc;

use axum::Router;

use super::Intake;
use crate::config::adapters::AdaptersConfig;
use crate::telemetry::Metrics;

pub mod citymgmt;
pub mod emergency;
pub mod hotline12345;
pub mod mailbox;
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
        .merge(emergency::routes(ctx))
}
