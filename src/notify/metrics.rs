//! The notifier's counters: notices planned and skipped (counted when the completion that
//! planned them commits), and each attempt's outcome per route (counted when recorded).
use std::fmt::Write;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

use super::notice::Route;
use super::plan::Skip;

const SKIPS: [Skip; 5] = [
    Skip::NoContact,
    Skip::NoAddress,
    Skip::AnsweredByDepartment,
    Skip::Duplicate,
    Skip::ThroughItsSystem,
];

/// Per-route counters, indexed like [`Route::ALL`].
#[derive(Debug, Default)]
struct PerRoute([AtomicU64; Route::ALL.len()]);

impl PerRoute {
    fn add(&self, route: Route) {
        if let Some(i) = Route::ALL.iter().position(|r| *r == route) {
            self.0[i].fetch_add(1, Relaxed);
        }
    }

    fn get(&self, route: Route) -> u64 {
        Route::ALL
            .iter()
            .position(|r| *r == route)
            .map_or(0, |i| self.0[i].load(Relaxed))
    }
}

/// The notifier's counters.
#[derive(Debug, Default)]
pub struct NotifyMetrics {
    planned: PerRoute,
    skipped: [AtomicU64; SKIPS.len()],
    sent: PerRoute,
    retried: PerRoute,
    held: PerRoute,
    unreachable: PerRoute,
    dead: PerRoute,
    returned: [AtomicU64; SYSTEMS.len()],
}

/// The systems answers are returned to, as `GetTicket.notices` names their routes.
const SYSTEMS: [&str; 3] = ["call_centre", "citymgmt", "emergency"];

/// What became of one attempt, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Sent,
    Retried,
    Held,
    Unreachable,
    Dead,
}

impl NotifyMetrics {
    pub fn planned(&self, route: Route) {
        self.planned.add(route);
    }

    pub fn skipped(&self, reason: Skip) {
        if let Some(i) = SKIPS.iter().position(|s| *s == reason) {
            self.skipped[i].fetch_add(1, Relaxed);
        }
    }

    /// An answer handed to a system's queue (`route` as [`super::systems::System::route`]).
    pub fn returned(&self, route: &str) {
        if let Some(i) = SYSTEMS.iter().position(|s| *s == route) {
            self.returned[i].fetch_add(1, Relaxed);
        }
    }

    pub fn attempt(&self, route: Route, what: Counted) {
        match what {
            Counted::Sent => &self.sent,
            Counted::Retried => &self.retried,
            Counted::Held => &self.held,
            Counted::Unreachable => &self.unreachable,
            Counted::Dead => &self.dead,
        }
        .add(route);
    }

    /// Notices dead-lettered on `route` so far (tests and benchmarks).
    pub fn dead(&self, route: Route) -> u64 {
        self.dead.get(route)
    }

    /// Appends the Prometheus text of these metrics to `out`.
    pub fn render(&self, out: &mut String) {
        let per_route: [(&str, &str, &PerRoute); 6] = [
            (
                "minhu_notices_planned_total",
                "Notices to citizens planned when a case completed, by route.",
                &self.planned,
            ),
            (
                "minhu_notices_sent_total",
                "Notices handed over to the citizen's channel, by route.",
                &self.sent,
            ),
            (
                "minhu_notices_retries_total",
                "Notice attempts that failed for now and will be tried again, by route.",
                &self.retried,
            ),
            (
                "minhu_notices_held_total",
                "Notices held back (quiet hours) until a later time, by route.",
                &self.held,
            ),
            (
                "minhu_notices_unreachable_total",
                "Notices that can never be delivered on their route (unsubscribed, no such \
                 mailbox, no sender configured), by route.",
                &self.unreachable,
            ),
            (
                "minhu_notices_dead_total",
                "Notices dead-lettered after notify.max_attempts failed attempts, by route.",
                &self.dead,
            ),
        ];
        for (name, help, counts) in per_route {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for route in Route::ALL {
                let _ = writeln!(
                    out,
                    "{name}{{route=\"{}\"}} {}",
                    route.as_str(),
                    counts.get(route)
                );
            }
        }
        let name = "minhu_notices_skipped_total";
        let _ = writeln!(
            out,
            "# HELP {name} Reporters of completed cases who got no notice, by reason.\n\
             # TYPE {name} counter"
        );
        for (reason, n) in SKIPS.iter().zip(&self.skipped) {
            let _ = writeln!(
                out,
                "{name}{{reason=\"{}\"}} {}",
                reason.as_str(),
                n.load(Relaxed)
            );
        }
        let name = "minhu_notices_returned_total";
        let _ = writeln!(
            out,
            "# HELP {name} Answers handed to the reporting system's queue (12345 回访 task, \
             数字城管 核查 task, emergency centre result), by system.\n# TYPE {name} counter"
        );
        for (system, n) in SYSTEMS.iter().zip(&self.returned) {
            let _ = writeln!(out, "{name}{{system=\"{system}\"}} {}", n.load(Relaxed));
        }
    }
}
