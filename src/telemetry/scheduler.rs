//! The scheduler's counters (`crate::scheduler`): passes, units evaluated, events written and
//! lights turned, for `/metrics`.
use std::fmt::Write;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

/// The scheduler's counters.
#[derive(Debug, Default)]
pub struct ClockMetrics {
    /// Light changes and escalations written to the outbox.
    pub events: AtomicU64,
    /// Units evaluated.
    pub evaluated: AtomicU64,
    /// Passes that failed (the store refused; retried next tick).
    pub failures: AtomicU64,
    /// Lights turned yellow, and red (any clock stage).
    pub yellow: AtomicU64,
    pub red: AtomicU64,
}

impl ClockMetrics {
    /// Appends the Prometheus text of these metrics to `out`.
    pub fn render(&self, out: &mut String) {
        for (name, help, v) in [
            (
                "minhu_supervision_events_total",
                "Light changes and escalations written to the outbox for minhu.supervision.",
                &self.events,
            ),
            (
                "minhu_clocks_evaluated_total",
                "Units whose clocks the scheduler evaluated because something was due.",
                &self.evaluated,
            ),
            (
                "minhu_scheduler_failures_total",
                "Scheduler passes the store refused (retried on the next tick).",
                &self.failures,
            ),
        ] {
            super::metrics::write_scalar(out, "counter", name, help, v.load(Relaxed));
        }
        let name = "minhu_lights_total";
        let _ = writeln!(
            out,
            "# HELP {name} Lights that turned yellow or red since start (each clock stage's light, once per change).\n# TYPE {name} counter\n{name}{{light=\"yellow\"}} {}\n{name}{{light=\"red\"}} {}",
            self.yellow.load(Relaxed),
            self.red.load(Relaxed)
        );
    }

    /// Counts a light turned (`pb::Light` as a number); other values are not lights.
    pub fn light_turned(&self, light: i32) {
        match crate::pb::Light::try_from(light) {
            Ok(crate::pb::Light::Yellow) => drop(self.yellow.fetch_add(1, Relaxed)),
            Ok(crate::pb::Light::Red) => drop(self.red.fetch_add(1, Relaxed)),
            _ => {}
        }
    }
}
