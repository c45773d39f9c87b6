//! Counters and gauges exported at `GET /metrics` in the Prometheus text format. Plain atomics:
//! the hot path pays one relaxed add, and the set is small enough to render by hand.
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// Every metric Minhu exports. Shared as `Arc<Metrics>`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Submits accepted as new tickets.
    pub tickets_accepted: AtomicU64,
    /// Submits answered as replays of an earlier ticket.
    pub tickets_replayed: AtomicU64,
    /// Submits refused as invalid.
    pub tickets_invalid: AtomicU64,
    /// Submits refused because the outbox budget was spent.
    pub tickets_refused_outbox_full: AtomicU64,
    /// Store transactions committed (each is one fsync).
    pub store_commits: AtomicU64,
    /// Dispatches waiting in the outbox.
    pub outbox_depth: AtomicI64,
    /// Messages handed to the broker (including re-publishes).
    pub publishes: AtomicU64,
    /// Publishes confirmed with a clean ack and removed from the outbox.
    pub publishes_confirmed: AtomicU64,
    /// Publishes the broker nacked.
    pub publishes_nacked: AtomicU64,
    /// Publishes the broker returned as unroutable (mandatory).
    pub publishes_returned: AtomicU64,
    /// Publishes with no confirm before the timeout.
    pub publishes_timed_out: AtomicU64,
    /// Publishes lost with a broken connection or channel.
    pub publishes_failed: AtomicU64,
    /// 1 while the relay holds a working broker connection.
    pub broker_connected: AtomicI64,
    /// Broker (re)connections made.
    pub broker_connects: AtomicU64,
    /// How long the outbox has waited for a confirm (a stalled relay; see
    /// [`super::confirms`]).
    pub relay: super::confirms::ConfirmWatch,
    /// Routing config reloads, inference, linkage and calendar metrics.
    pub routing: crate::router::live::RoutingMetrics,
    /// The closed loop's scheduler (lights, escalations).
    pub clocks: super::scheduler::ClockMetrics,
    /// Notices to citizens: planned, skipped, and each attempt's outcome.
    pub notify: crate::notify::metrics::NotifyMetrics,
    /// Reports by channel and disposition.
    pub intake: super::intake::IntakeByChannel,
    /// Department queues' depths and consumers, as last read from the broker.
    pub queues: super::queues::QueueDepths,
}

impl Metrics {
    /// Renders all metrics in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters: [(&str, &str, &AtomicU64); 11] = [
            (
                "minhu_tickets_accepted_total",
                "Submits accepted as new tickets.",
                &self.tickets_accepted,
            ),
            (
                "minhu_tickets_replayed_total",
                "Submits answered as replays.",
                &self.tickets_replayed,
            ),
            (
                "minhu_tickets_invalid_total",
                "Submits refused as invalid.",
                &self.tickets_invalid,
            ),
            (
                "minhu_tickets_refused_outbox_full_total",
                "Submits refused: outbox budget spent.",
                &self.tickets_refused_outbox_full,
            ),
            (
                "minhu_store_commits_total",
                "Store transactions committed.",
                &self.store_commits,
            ),
            (
                "minhu_publishes_total",
                "Messages handed to the broker.",
                &self.publishes,
            ),
            (
                "minhu_publishes_confirmed_total",
                "Publishes acked and removed from the outbox.",
                &self.publishes_confirmed,
            ),
            (
                "minhu_publishes_nacked_total",
                "Publishes nacked by the broker.",
                &self.publishes_nacked,
            ),
            (
                "minhu_publishes_returned_total",
                "Publishes returned as unroutable.",
                &self.publishes_returned,
            ),
            (
                "minhu_publishes_timed_out_total",
                "Publishes without a confirm in time.",
                &self.publishes_timed_out,
            ),
            (
                "minhu_publishes_failed_total",
                "Publishes lost with a broken connection.",
                &self.publishes_failed,
            ),
        ];
        for (name, help, v) in counters {
            write_scalar(&mut out, "counter", name, help, v.load(Relaxed));
        }
        let gauges: [(&str, &str, &AtomicI64); 2] = [
            (
                "minhu_outbox_depth",
                "Dispatches waiting for a broker confirm.",
                &self.outbox_depth,
            ),
            (
                "minhu_broker_connected",
                "1 while connected to the broker.",
                &self.broker_connected,
            ),
        ];
        for (name, help, v) in gauges {
            write_scalar(&mut out, "gauge", name, help, v.load(Relaxed));
        }
        write_scalar(
            &mut out,
            "counter",
            "minhu_broker_connects_total",
            "Broker connections made.",
            self.broker_connects.load(Relaxed),
        );
        self.relay.render(&mut out);
        self.routing.render(&mut out);
        self.clocks.render(&mut out);
        self.notify.render(&mut out);
        self.intake.render(&mut out);
        self.queues.render(&mut out);
        out
    }
}

/// Appends one unlabelled metric in the Prometheus text format: its `HELP` and `TYPE` lines
/// and its value. `kind` is `counter` or `gauge`.
pub fn write_scalar(
    out: &mut String,
    kind: &str,
    name: &str,
    help: &str,
    value: impl std::fmt::Display,
) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}
