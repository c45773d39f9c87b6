//! The HTTP listener: liveness, readiness and metrics now; channel adapters (WeChat, mailbox,
//! hotline, Open311) mount their routes here.
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::telemetry::Metrics;

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub metrics: Arc<Metrics>,
    /// The live router: readiness and metrics show the years its deadlines reach that have
    /// no official working-day calendar yet.
    pub router: crate::router::live::LiveRouter,
    /// Returns by reason and the bounce rate (read from the store at each scrape).
    pub returns: Arc<crate::handling::metrics::ReturnMetrics>,
    /// Set while shutting down: readiness turns false so load balancers stop sending.
    pub closing: Arc<std::sync::atomic::AtomicBool>,
}

/// The HTTP routes: health, readiness and metrics, plus every channel adapter's endpoints.
pub fn router(state: HttpState, channels: Router) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
        .merge(channels)
}

async fn ready(State(s): State<HttpState>) -> impl IntoResponse {
    let broker = if s.metrics.broker_connected.load(Relaxed) == 1 {
        "connected"
    } else {
        "disconnected"
    };
    let depth = s.metrics.outbox_depth.load(Relaxed);
    let provisional = s.router.current().provisional_years(crate::time::now_ms());
    let relay = s.metrics.relay.health();
    let closing = s.closing.load(Relaxed);
    let body = serde_json::json!({
        "status": if closing { "closing" } else if relay.stalled() { "degraded" } else { "ready" },
        "accepting": !closing,
        "broker": broker,
        "relay": {
            "state": if relay.stalled() { "stalled" } else { "ok" },
            "waiting_for_confirm_seconds": relay.waiting.as_secs(),
            "stall_after_seconds": relay.stall_after.as_secs(),
        },
        "outbox_depth": depth,
        "calendar": {
            "provisional_years": provisional.iter().map(|p| p.year).collect::<Vec<_>>(),
            "warnings": provisional.iter().map(ToString::to_string).collect::<Vec<_>>(),
        },
    });
    // Ready means "accepting reports": an unreachable broker does not stop intake (the outbox
    // holds the work), so it is reported but does not fail readiness; nor does a missing
    // calendar file, which only makes deadlines provisional; nor does a stalled relay, which
    // is "degraded" in the body and `minhu_relay_stalled` for alerts (a 503 would take every
    // gateway of a city out of its load balancer at once when their shared broker stalls).
    let code = if closing {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, axum::Json(body))
}

async fn metrics(State(s): State<HttpState>) -> impl IntoResponse {
    let returns = s.returns.clone().render().await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render()
            + &crate::router::coverage::render_metrics(&s.router.current(), crate::time::now_ms())
            + &crate::intake::channels::mailbox::render_metrics()
            + &crate::protect::metrics::render()
            + &returns,
    )
}
