//! How long the outbox has waited for any broker confirm, for `/metrics`
//! (`minhu_relay_last_confirm_age_seconds`, `minhu_relay_stalled`) and `/readyz`.
//!
//! A broker can hold a connection open, accept publishes and never confirm them (quorum queues
//! recovering a large backlog, a memory alarm): `minhu_broker_connected` stays 1 while nothing
//! moves. This module turns "rows are waiting and no confirm came" into a number that grows.
//!
//! The age is 0 while nothing waits, and otherwise the time since the later of "rows started
//! waiting" and "the last confirm arrived". Zero-when-idle reads better for alerting than the
//! plain time since the last confirm, which grows on every quiet night: `age > N` fires only
//! when work is actually stuck, with no `and minhu_outbox_depth > 0` clause to forget.
//!
//! Any confirm counts, a nack or an ack carrying a returned message too: each proves the broker
//! answers. Rows failing for their own reasons have their own counters.
//!
//! The relay is the only writer; HTTP handlers read. Times are milliseconds on a monotonic clock
//! (since the first use in this process), so a moved wall clock does not fake a stall. The
//! arithmetic is the pure [`confirm_wait`], tested without waiting.
use std::fmt::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// "Not set" in the time atomics.
const NONE: u64 = u64::MAX;
/// The default of `[amqp] confirm_stall_after`, also used until the relay starts.
const DEFAULT_STALL_AFTER: Duration = Duration::from_secs(60);

/// The relay's confirm bookkeeping, shared through [`super::Metrics`].
#[derive(Debug)]
pub struct ConfirmWatch {
    /// When the relay last went from "nothing waiting" to "rows waiting" (ms), or `NONE`.
    waiting_since: AtomicU64,
    /// When the last confirm of any kind arrived (ms), or `NONE`.
    last_confirm: AtomicU64,
    /// `[amqp] confirm_stall_after` in ms.
    stall_after: AtomicU64,
}

impl Default for ConfirmWatch {
    fn default() -> Self {
        Self {
            waiting_since: AtomicU64::new(NONE),
            last_confirm: AtomicU64::new(NONE),
            stall_after: AtomicU64::new(millis(DEFAULT_STALL_AFTER)),
        }
    }
}

/// What `/readyz` shows of the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayHealth {
    /// How long the outbox has waited for any confirm (0 while nothing waits).
    pub waiting: Duration,
    /// The configured threshold.
    pub stall_after: Duration,
}

impl RelayHealth {
    /// Past the threshold: readiness reports `"status": "degraded"`.
    pub fn stalled(&self) -> bool {
        self.waiting >= self.stall_after
    }
}

/// How long the outbox has waited for a confirm at `now`, given when rows started waiting
/// (`None`: nothing waits) and when the last confirm arrived (`None`: never).
pub fn confirm_wait(now: u64, waiting_since: Option<u64>, last_confirm: Option<u64>) -> Duration {
    let Some(since) = waiting_since else {
        return Duration::ZERO;
    };
    // A confirm before the rows started waiting says nothing about them.
    let from = last_confirm.map_or(since, |c| c.max(since));
    Duration::from_millis(now.saturating_sub(from))
}

impl ConfirmWatch {
    /// Sets the threshold from `[amqp] confirm_stall_after` (the relay does, at start).
    pub fn set_stall_after(&self, d: Duration) {
        self.stall_after.store(millis(d), Relaxed);
    }

    /// The relay reports whether any row is waiting (ready, resting or unconfirmed).
    pub(crate) fn set_waiting(&self, waiting: bool) {
        self.set_waiting_at(waiting, now_ms());
    }

    /// A confirm (ack or nack) arrived.
    pub(crate) fn confirmed(&self) {
        self.last_confirm.store(now_ms(), Relaxed);
    }

    fn set_waiting_at(&self, waiting: bool, now: u64) {
        if !waiting {
            self.waiting_since.store(NONE, Relaxed);
        } else if self.waiting_since.load(Relaxed) == NONE {
            // Only the relay writes, so load-then-store cannot race with another writer.
            self.waiting_since.store(now, Relaxed);
        }
    }

    /// The relay's state now.
    pub fn health(&self) -> RelayHealth {
        self.health_at(now_ms())
    }

    fn health_at(&self, now: u64) -> RelayHealth {
        let get = |a: &AtomicU64| Some(a.load(Relaxed)).filter(|v| *v != NONE);
        RelayHealth {
            waiting: confirm_wait(now, get(&self.waiting_since), get(&self.last_confirm)),
            stall_after: Duration::from_millis(self.stall_after.load(Relaxed)),
        }
    }

    /// Appends the relay's gauges in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let h = self.health();
        let name = "minhu_relay_last_confirm_age_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} How long the outbox has waited for any broker confirm; 0 while nothing waits.\n\
             # TYPE {name} gauge\n{name} {:.3}",
            h.waiting.as_secs_f64()
        );
        let name = "minhu_relay_stalled";
        let _ = writeln!(
            out,
            "# HELP {name} 1 while the outbox has waited for a confirm longer than [amqp] confirm_stall_after.\n\
             # TYPE {name} gauge\n{name} {}",
            u8::from(h.stalled())
        );
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(NONE - 1)
}

/// Milliseconds on a monotonic clock since its first use in this process.
fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    millis(EPOCH.get_or_init(Instant::now).elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1000;

    #[test]
    fn nothing_waiting_is_zero_however_old_the_last_confirm() {
        assert_eq!(confirm_wait(500 * S, None, Some(S)), Duration::ZERO);
        assert_eq!(confirm_wait(500 * S, None, None), Duration::ZERO);
    }

    #[test]
    fn waiting_counts_from_the_later_of_start_and_last_confirm() {
        // Rows wait since 100 s, the last confirm was long before: 50 s of waiting.
        assert_eq!(
            confirm_wait(150 * S, Some(100 * S), Some(10 * S)),
            Duration::from_secs(50)
        );
        // Confirms keep arriving while rows flow: the age is the time since the last one.
        assert_eq!(
            confirm_wait(150 * S, Some(100 * S), Some(149 * S)),
            Duration::from_secs(1)
        );
        // Never a confirm at all (the broker stalled from the first publish).
        assert_eq!(
            confirm_wait(103 * S, Some(100 * S), None),
            Duration::from_secs(3)
        );
        // A clock read just before a racing store never goes negative.
        assert_eq!(confirm_wait(99 * S, Some(100 * S), None), Duration::ZERO);
    }

    #[test]
    fn the_watch_grows_while_stalled_and_recovers_on_a_confirm() {
        let w = ConfirmWatch::default();
        w.set_stall_after(Duration::from_secs(60));
        assert!(!w.health_at(10 * S).stalled());
        w.set_waiting_at(true, 10 * S);
        // Still waiting later: the start stays where it was.
        w.set_waiting_at(true, 30 * S);
        let h = w.health_at(69 * S);
        assert_eq!(h.waiting, Duration::from_secs(59));
        assert!(!h.stalled());
        assert!(w.health_at(70 * S).stalled());
        w.last_confirm.store(80 * S, Relaxed);
        assert_eq!(w.health_at(81 * S).waiting, Duration::from_secs(1));
        w.set_waiting_at(false, 82 * S);
        assert_eq!(w.health_at(900 * S).waiting, Duration::ZERO);
    }

    #[test]
    fn renders_both_gauges() {
        let w = ConfirmWatch::default();
        let mut out = String::new();
        w.render(&mut out);
        assert!(out.contains("\nminhu_relay_last_confirm_age_seconds 0.000\n"));
        assert!(out.contains("\nminhu_relay_stalled 0\n"));
    }
}
