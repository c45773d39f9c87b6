//! How `minhu-loadgen notify` measures a phase: where it started (CPU of this and the
//! `--cpu-of` processes, store commits, notices counted sent) and the waits until it has
//! settled — the outbox empty, every expected notice arrived at the stand-ins and counted sent
//! by the gateway — so that each phase's CPU includes the work it caused.
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::{
    bench, metrics,
    notify::Args,
    notify_report::Phase,
    notify_standins::{Received, StandIns},
    updates_report::Outcome,
};

/// Notices the gateway handed to a channel, over all routes.
pub const SENT: &str = "minhu_notices_sent_total";
/// Attempts that failed for now (the stand-ins never refuse: should stay 0).
pub const RETRIES: &str = "minhu_notices_retries_total";

/// The latest arrival among `addresses` (None when one has not arrived).
pub fn last_arrival(r: &Received, addresses: &[String]) -> Option<Instant> {
    let mut last = None;
    for a in addresses {
        let t = *r.first.get(a)?;
        last = Some(last.map_or(t, |l: Instant| l.max(t)));
    }
    last
}

/// Waits, with the CPU meter running since `work` started, until the outbox is empty, every
/// address in `expected` has its notice and the gateway counts them all sent; the phase.
pub async fn measured(
    args: &Args,
    stand_ins: &StandIns,
    work: Started,
    expected: Vec<String>,
) -> Result<Phase> {
    let deadline = Instant::now() + args.drain_timeout;
    let drained = metrics::wait_until_drained(&args.metrics_url, args.drain_timeout).await?;
    let arrived = wait_for(stand_ins, &expected, deadline).await;
    let counted = wait_for_sent(args, work.meter.sent, expected.len(), deadline).await;
    if !(drained && arrived && counted) {
        eprintln!(
            "warning: the phase did not settle (outbox drained {drained}, notices arrived {arrived}, counted sent {counted}); CPU figures include a backlog"
        );
    }
    Ok(work.meter.phase(args, work.outcome).await)
}

/// Until every address in `expected` has had a notice, or `deadline`; whether they all did.
pub async fn wait_for(stand_ins: &StandIns, expected: &[String], deadline: Instant) -> bool {
    loop {
        if stand_ins.with(|r| expected.iter().all(|a| r.first.contains_key(a))) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Until `minhu_notices_sent_total` has grown by `n` since `before`, or `deadline`.
pub async fn wait_for_sent(args: &Args, before: Option<f64>, n: usize, deadline: Instant) -> bool {
    let Some(before) = before else {
        return false;
    };
    loop {
        let now = metrics::read(&args.metrics_url, SENT)
            .await
            .unwrap_or(before);
        if now - before >= n as f64 {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A phase's calls, made; the meter still running.
pub struct Started {
    pub outcome: Outcome,
    pub meter: Meter,
}

/// Where a phase started: CPU so far, notices the gateway counted sent, store commits.
pub struct Meter {
    cpu: bench::CpuMeter,
    pub sent: Option<f64>,
    commits: Option<f64>,
}

impl Meter {
    pub async fn start(args: &Args) -> Meter {
        let page = match metrics::fetch(&args.metrics_url).await {
            Ok(page) => Some(page),
            Err(e) => {
                eprintln!("warning: {e:#}");
                None
            }
        };
        let read = |name| page.as_deref().and_then(|p| metrics::sum(p, name));
        Meter {
            sent: read(SENT),
            commits: read(metrics::COMMITS),
            cpu: bench::CpuMeter::start(&args.cpu_of),
        }
    }

    /// The phase that `outcome` made, measured up to now.
    pub async fn phase(&self, args: &Args, outcome: Outcome) -> Phase {
        let commits = metrics::read(&args.metrics_url, metrics::COMMITS)
            .await
            .zip(self.commits)
            .map(|(a, b)| a - b);
        Phase {
            ok: outcome.ok,
            failed: outcome.failed,
            elapsed: outcome.elapsed,
            watched: self.cpu.others(),
            own: self.cpu.own(),
            commits,
        }
    }
}
