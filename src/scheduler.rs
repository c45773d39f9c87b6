//! The scheduler: turns the due times kept in the store into lights and escalations (the
//! clocks' arithmetic is [`crate::clocks`]'; this is the task that drives it).
//!
//! Each tick it asks the store for the earliest `next_at` (one probe of a partial index, so a
//! million open cases with nothing due cost the same as ten), and only when that instant has
//! come does it send the writer a pass over the due units ([`Store::fire_due`]). It reads the
//! time from a [`SharedClock`] every tick instead of sleeping until the next due time, so a
//! wall clock that jumps (NTP, libfaketime in tests, a gateway stopped for an hour) is noticed
//! within a tick, and the first tick after a start catches up at once.
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clocks::SharedClock;
use crate::router::live::LiveRouter;
use crate::store::{Lookup, Store};

/// How often the scheduler looks: lights are hours apart, so a second late is nothing, and
/// the probe it costs is a few microseconds.
pub const TICK: Duration = Duration::from_secs(1);

/// Units evaluated per writer pass: one transaction's worth, so a catch-up after an outage
/// shares the writer with intake instead of holding it.
const PASS: usize = 256;

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
                    for c in &f.changes {
                        if c.change.kind == crate::pb::case_change::Kind::Light as i32 {
                            m.light_turned(c.change.light);
                        }
                    }
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
