//! The router in service: one `Arc<Router>` behind an [`ArcSwap`], replaced whole on reload.
//! Each ticket loads the current router once and is routed entirely by it, so no ticket is
//! routed half by one version and half by another, and the version it records is the one used.
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use arc_swap::ArcSwap;

use super::{Routed, Router};
use crate::config::routing::Encoding;
use crate::pb;
use crate::store::{CoDispatch, FanOut, LinkageOut};
use crate::telemetry::Metrics;

/// The live router, shared by every door. Clone freely.
#[derive(Debug, Clone)]
pub struct LiveRouter(Arc<ArcSwap<Router>>);

impl LiveRouter {
    pub fn new(router: Router) -> Self {
        Self(Arc::new(ArcSwap::from_pointee(router)))
    }

    /// The router now in force; hold it for the whole of one ticket.
    pub fn current(&self) -> Arc<Router> {
        self.0.load_full()
    }

    /// Puts `router` in force for every ticket routed from now on.
    pub fn swap(&self, router: Router) {
        self.0.store(Arc::new(router));
    }
}

impl From<Arc<Router>> for LiveRouter {
    fn from(r: Arc<Router>) -> Self {
        Self(Arc::new(ArcSwap::new(r)))
    }
}

/// Routing and reload metrics.
#[derive(Debug, Default)]
pub struct RoutingMetrics {
    /// 1 when the last reload succeeded (or none was tried), 0 after a rejected one.
    pub last_reload_successful: AtomicI64,
    /// Routing config generation in force: 1 at start, +1 per successful reload.
    pub generation: AtomicI64,
    /// The version label in force (for the metric's label).
    pub version: std::sync::Mutex<String>,
    /// Reloads tried, by result.
    pub reloads_ok: AtomicU64,
    pub reloads_failed: AtomicU64,
    /// Tickets whose category was inferred from the text.
    pub categories_inferred: AtomicU64,
    /// Tickets flagged by an emergency linkage rule.
    pub linkage_flagged: AtomicU64,
    /// Deadlines counted past the end of the working-day calendar.
    pub calendar_gaps: AtomicU64,
    /// Provisional deadlines counted again on an official calendar.
    pub deadlines_recounted: AtomicU64,
}

impl RoutingMetrics {
    /// Appends the Prometheus text of these metrics to `out`.
    pub fn render(&self, out: &mut String) {
        let version = self
            .version
            .lock()
            .map(|v| v.replace(['\\', '"', '\n'], "_"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "# HELP minhu_config_last_reload_successful 1 if the last routing config reload succeeded.\n# TYPE minhu_config_last_reload_successful gauge\nminhu_config_last_reload_successful {}",
            self.last_reload_successful.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP minhu_config_version Generation of the routing config in force (1 at start, +1 per reload), labelled with its version.\n# TYPE minhu_config_version gauge\nminhu_config_version{{version=\"{version}\"}} {}",
            self.generation.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP minhu_config_reloads_total Routing config reloads tried.\n# TYPE minhu_config_reloads_total counter\nminhu_config_reloads_total{{result=\"ok\"}} {}\nminhu_config_reloads_total{{result=\"rejected\"}} {}",
            self.reloads_ok.load(Relaxed),
            self.reloads_failed.load(Relaxed)
        );
        for (name, help, v) in [
            (
                "minhu_categories_inferred_total",
                "Tickets whose category was inferred from the text.",
                &self.categories_inferred,
            ),
            (
                "minhu_emergency_linkage_total",
                "Tickets flagged by an emergency linkage rule.",
                &self.linkage_flagged,
            ),
            (
                "minhu_calendar_gaps_total",
                "Deadlines that no working-day calendar could count (counted Monday to Friday).",
                &self.calendar_gaps,
            ),
            (
                "minhu_deadlines_recounted_total",
                "Provisional deadlines counted again once the official calendar of their year came in.",
                &self.deadlines_recounted,
            ),
        ] {
            crate::telemetry::metrics::write_scalar(out, "counter", name, help, v.load(Relaxed));
        }
    }
}

/// What the store sends besides the lead's dispatch.
pub fn fan_out(routed: &Routed) -> FanOut {
    FanOut {
        lead_json: routed.encoding == Encoding::Json,
        co_handlers: routed
            .co_handlers
            .iter()
            .map(|c| CoDispatch {
                route: c.decision.clone(),
                json: c.encoding == Encoding::Json,
            })
            .collect(),
        linkage: routed
            .linkage
            .iter()
            .map(|l| LinkageOut {
                rule_id: l.rule_id.clone(),
                line: l.line.clone(),
                reason: l.reason.clone(),
            })
            .collect(),
        reason: routed.reason.clone(),
    }
}

/// The `Request.extra` key that marks a category as inferred from the text (value `true`).
/// It is stored with the ticket and travels in the dispatch.
pub const CATEGORY_INFERRED: &str = "minhu.category_inferred";

/// Records what routing decided on the request itself (the inferred category, so the ticket
/// keeps it) and in metrics and logs.
pub fn note(routed: &Routed, req: &mut pb::Request, metrics: &Metrics) {
    if let Some(i) = &routed.inferred {
        req.category = i.code.clone();
        req.extra.insert(CATEGORY_INFERRED.into(), "true".into());
        metrics.routing.categories_inferred.fetch_add(1, Relaxed);
    } else {
        // Only Minhu says a category was inferred; a channel cannot.
        req.extra.remove(CATEGORY_INFERRED);
    }
    if !routed.linkage.is_empty() {
        metrics.routing.linkage_flagged.fetch_add(1, Relaxed);
    }
    if let Some(gap) = routed.calendar_gap {
        metrics.routing.calendar_gaps.fetch_add(1, Relaxed);
        tracing::error!(error = %gap, rule = %routed.decision.rule_id, "deadline counted Monday to Friday: the working-day calendar has run out");
    }
}
