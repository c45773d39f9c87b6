//! The scheduler: turns the due times kept in the store into lights and escalations.
//!
//! Each tick it asks the store for the earliest `next_at` (one probe of a partial index, so a
//! million open cases with nothing due cost the same as ten), and only when that instant has
//! come does it send the writer a pass over the due units ([`Store::fire_due`]). It reads the
//! time from a [`SharedClock`] every tick instead of sleeping until the next due time, so a
//! wall clock that jumps (NTP, libfaketime in tests, a gateway stopped for an hour) is noticed
//! within a tick, and the first tick after a start catches up at once.
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::SharedClock;
use crate::router::live::LiveRouter;
use crate::store::{Lookup, Store};

/// How often the scheduler looks: lights are hours apart, so a second late is nothing, and
/// the probe it costs is a few microseconds.
pub const TICK: Duration = Duration::from_secs(1);

/// Units evaluated per writer pass: one transaction's worth, so a catch-up after an outage
/// shares the writer with intake instead of holding it.
const PASS: usize = 256;

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
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Relaxed)
            );
        }
        let name = "minhu_lights_total";
        let _ = writeln!(
            out,
            "# HELP {name} Lights that turned yellow or red since start (each clock stage's light, once per change).\n# TYPE {name} counter\n{name}{{light=\"yellow\"}} {}\n{name}{{light=\"red\"}} {}",
            self.yellow.load(Relaxed),
            self.red.load(Relaxed)
        );
    }

    /// Counts the light changes among a pass's changes.
    fn lights(&self, changes: &[crate::store::CaseChange]) {
        use crate::pb::Light;
        use crate::pb::case_change::Kind;
        for c in changes {
            if c.change.kind != Kind::Light as i32 {
                continue;
            }
            match Light::try_from(c.change.light) {
                Ok(Light::Yellow) => drop(self.yellow.fetch_add(1, Relaxed)),
                Ok(Light::Red) => drop(self.red.fetch_add(1, Relaxed)),
                _ => {}
            }
        }
    }
}

/// Everything the scheduler needs.
pub struct Scheduler {
    pub store: Store,
    pub router: LiveRouter,
    pub clock: SharedClock,
    /// How often it looks ([`TICK`]; tests and benchmarks may differ).
    pub tick: Duration,
    pub metrics: Arc<crate::telemetry::Metrics>,
}

impl Scheduler {
    /// Runs until `stop`; the first look is at once.
    pub async fn run(self, stop: CancellationToken) {
        let mut interval = tokio::time::interval(self.tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = interval.tick() => {}
            }
            self.look().await;
        }
    }

    /// One tick: fires everything due now, pass after pass.
    pub async fn look(&self) {
        let now = self.clock.now_ms();
        match self.store.next_due().await {
            Ok(Some(at)) if at <= now => {}
            Ok(_) => return,
            Err(e) => {
                self.metrics.clocks.failures.fetch_add(1, Relaxed);
                tracing::warn!(error = %e, "scheduler: cannot read due clocks");
                return;
            }
        }
        // A bound on passes per tick: a unit the evaluation left due would otherwise spin.
        for _ in 0..1000 {
            let lookup = Lookup(self.router.current());
            match self.store.fire_due(now, lookup, PASS).await {
                Ok(f) => {
                    let m = &self.metrics.clocks;
                    m.evaluated.fetch_add(f.looked as u64, Relaxed);
                    m.events.fetch_add(f.events as u64, Relaxed);
                    m.lights(&f.changes);
                    if !f.more {
                        return;
                    }
                }
                Err(e) => {
                    self.metrics.clocks.failures.fetch_add(1, Relaxed);
                    tracing::warn!(error = %e, "scheduler: pass failed; retrying next tick");
                    return;
                }
            }
        }
    }
}
