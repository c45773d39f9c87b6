//! The HTTP listener: health, readiness and metrics; every HTTP channel (WeChat, the mailbox
//! form, 数字城管, Open311, the emergency centres, SMS replies, reporting systems'
//! callbacks); the citizens' feedback form; and the supervision console.
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::service::ServiceConfig;
use crate::handling::Updates;
use crate::handling::metrics::ReturnMetrics;
use crate::handling::rating::Ratings;
use crate::handling::verification::Verifications;
use crate::intake::Intake;
use crate::intake::channels::rating_replies::ReplyRatings;
use crate::intake::http::{self, HttpState};
use crate::notify::worker::FollowUpLinks;
use crate::protect::auth::Authenticator;
use crate::router::history::ReloadHistory;
use crate::router::live::LiveRouter;
use crate::store::Store;
use crate::telemetry::Metrics;

/// What the routes answer from.
pub(super) struct Parts {
    /// The console's handle is the last one `serve` keeps of the store.
    pub(super) store: Store,
    pub(super) intake: Intake,
    pub(super) updates: Updates,
    pub(super) ratings: Ratings,
    pub(super) live: LiveRouter,
    pub(super) reloads: Arc<ReloadHistory>,
    pub(super) routing_file: PathBuf,
    pub(super) auth: Arc<Authenticator>,
    pub(super) follow_up: Option<FollowUpLinks>,
    pub(super) returns: Arc<ReturnMetrics>,
    pub(super) metrics: Arc<Metrics>,
    /// Set at the first step of a shutdown: readiness answers 503 from then on.
    pub(super) closing: Arc<AtomicBool>,
}

/// Starts serving on `listener` until `stop`, finishing the requests under way.
pub(super) fn start(
    cfg: &ServiceConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
    p: Parts,
    listener: TcpListener,
    stop: CancellationToken,
) -> JoinHandle<std::io::Result<()>> {
    let feedback_form = crate::handling::feedback_http::routes(
        p.follow_up.map(|f| f.links),
        p.ratings.clone(),
        p.store.clone(),
    );
    let console = crate::console::routes(crate::console::Parts {
        store: p.store.clone(),
        metrics: p.metrics.clone(),
        router: p.live.clone(),
        reloads: p.reloads,
        auth: p.auth.clone(),
        tls: tls.is_some(),
        updates: p.updates,
        intake: p.intake.clone(),
        routing_file: p.routing_file,
    });
    let channels = crate::intake::channels::routes(crate::intake::channels::ChannelContext {
        intake: p.intake,
        config: Arc::new(cfg.adapters.clone()),
        metrics: p.metrics.clone(),
        auth: p.auth,
        replies: ReplyRatings::new(p.ratings, p.store.clone()),
        verifications: Verifications::new(p.store, p.live.clone()),
    })
    .merge(feedback_form)
    .merge(console);
    let state = HttpState {
        router: p.live,
        metrics: p.metrics,
        returns: p.returns,
        closing: p.closing,
    };
    let http_cfg = cfg.http.clone();
    tokio::spawn(async move {
        let app = http::router(state, channels);
        crate::intake::http_serve::serve(listener, app, tls, &http_cfg, stop).await
    })
}
