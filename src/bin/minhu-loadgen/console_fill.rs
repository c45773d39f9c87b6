//! `minhu-loadgen console fill`: a store that looks like a city's after some weeks, for the
//! console pages' benchmark (issue 16), written in process through the gateway's own code:
//! the service file and sample routing loaded with the library's loader, every report taken
//! through [`Intake`] (validate, route, merge probe, store), every sign-for and completion
//! through [`Updates`], every rating through [`Ratings`], and the scheduler running all along,
//! so cases, unit clocks, lights, stints and `case_scores` rows are what a gateway would have
//! written. Many calls are in flight at once, so the writer's group commit keeps it fast.
//!
//! Time. The gateway's code reads the wall clock, so the fill runs under libfaketime with a
//! timestamp file (`--clock-file`, as `scripts/bench-clocks.sh` uses) and moves that clock
//! itself: slots every 12 hours from `--days` ago to now. In each slot it opens its share of
//! cases, signs for most cases opened a slot earlier (the rest stay unsigned), and completes
//! and rates the cases meant to be scored that opened three slots earlier. Without
//! `--clock-file` every case opens now.
//!
//! At the end the clock is back at the real now, the scheduler has caught up, and every
//! outbox row is deleted as the relay deletes a confirmed one ("delivered"): the gateway that
//! serves the pages then starts with an empty outbox instead of publishing the fill.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Args;
use minhu::handling::{Updates, metrics::ReturnMetrics, rating::Ratings};
use minhu::intake::Intake;
use minhu::router::live::LiveRouter;
use minhu::store::Store;
use minhu::telemetry::Metrics;
use tokio_util::sync::CancellationToken;

#[path = "console_fill_cases.rs"]
mod cases;

use cases::{Opened, Paths, Tally, complete, open, sign};

const SLOT: Duration = Duration::from_secs(12 * 3600);

#[derive(Debug, Args)]
pub struct FillArgs {
    /// The gateway's service file (its routing, store, merge, scores and limits are used;
    /// `MINHU_STORE__PATH` and the other overrides apply).
    #[arg(long, default_value = "config/minhu.toml")]
    config: PathBuf,
    /// Cases left open.
    #[arg(long, default_value_t = 100_000)]
    open: u64,
    /// Cases completed, and rated by their reporter (most of them), scored in the period.
    #[arg(long, default_value_t = 30_000)]
    scored: u64,
    /// How far back the first cases open.
    #[arg(long, default_value_t = 28)]
    days: u64,
    /// libfaketime's timestamp file this process runs under (FAKETIME_TIMESTAMP_FILE).
    #[arg(long)]
    clock_file: Option<PathBuf>,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 256)]
    in_flight: usize,
}

pub async fn run(a: FillArgs) -> Result<()> {
    let loaded = minhu::config::load::load(&a.config)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("loading {}", a.config.display()))?;
    let cfg = loaded.service;
    let keys = cfg
        .privacy
        .keyring()
        .map_err(|p| anyhow::anyhow!("[privacy] keys: {} problem(s)", p.len()))?;
    let metrics = Arc::new(Metrics::default());
    let (store, feed, writer) = Store::open_scored(
        &cfg.store,
        &cfg.merge,
        keys,
        cfg.scores.clone(),
        metrics.clone(),
    )?;
    // Nobody relays: the rows stay on disk and are deleted at the end.
    drop(feed);
    let live = LiveRouter::new(loaded.router);
    let paths = Paths {
        intake: Intake::new(
            store.clone(),
            live.clone(),
            cfg.limits.clone(),
            metrics.clone(),
        )
        .with_merge(&cfg.merge),
        updates: Updates::new(
            store.clone(),
            live.clone(),
            cfg.limits.clone(),
            Arc::new(ReturnMetrics::new(cfg.store.location())),
        ),
        ratings: Ratings::new(store.clone(), live.clone()),
        store: store.clone(),
    };
    let stop = CancellationToken::new();
    let scheduler = tokio::spawn(
        minhu::scheduler::Scheduler {
            store: store.clone(),
            router: live.clone(),
            clock: Arc::new(minhu::clocks::SystemClock),
            tick: minhu::scheduler::TICK,
            metrics,
        }
        .run(stop.clone()),
    );

    let real_now = SystemTime::now();
    let slots = if a.clock_file.is_some() {
        a.days * 2 + 1
    } else {
        1
    };
    let run_id = unix_ms(real_now).to_string();
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut opened: Vec<Vec<Opened>> = Vec::new();
    let mut seq = 0;
    for slot in 0..slots {
        let back = SLOT * u32::try_from(slots - 1 - slot)?;
        if let Some(file) = &a.clock_file {
            move_clock(file, real_now - back).await?;
        }
        // Scored cases open early enough to be completed three slots later.
        let scored = if slot + 3 < slots {
            share(a.scored, slots.saturating_sub(3).max(1), slot)
        } else {
            0
        };
        let count = share(a.open, slots, slot) + scored;
        let mut batch = open(&paths, &run_id, seq, count, scored, a.in_flight, &mut tally).await;
        seq += count;
        if let Some(prev) = slot.checked_sub(1).and_then(|s| opened.get_mut(s as usize)) {
            sign(&paths, &run_id, prev, a.in_flight, &mut tally).await;
        }
        if let Some(old) = slot.checked_sub(3).and_then(|s| opened.get_mut(s as usize)) {
            complete(&paths, &run_id, old, a.in_flight, &mut tally).await;
        }
        batch.shrink_to_fit();
        opened.push(batch);
        eprintln!(
            "fill: slot {}/{slots} ({} h ago): {} opened, {} signed, {} completed, {} rated, {} failed ({:.0} s)",
            slot + 1,
            back.as_secs() / 3600,
            tally.opened,
            tally.signed,
            tally.completed,
            tally.rated,
            tally.failed,
            started.elapsed().as_secs_f64()
        );
    }
    if let Some(file) = &a.clock_file {
        write_offset(file, 0)?;
    }
    catch_up(&store).await;
    stop.cancel();
    let _ = scheduler.await;
    drop(paths);
    drop(store);
    writer.join().await;
    let delivered = mark_delivered(&cfg.store.path)?;
    println!(
        "fill: {} cases opened ({} merged), {} signed for, {} completed, {} rated, {} failed in {:.0} s; {delivered} outbox rows marked delivered",
        tally.opened,
        tally.merged,
        tally.signed,
        tally.completed,
        tally.rated,
        tally.failed,
        started.elapsed().as_secs_f64()
    );
    if tally.merged > 0 || tally.failed > tally.opened / 100 {
        bail!("the fill is not clean: reports merged or too many calls failed");
    }
    Ok(())
}

/// Slot `slot`'s share of `total` spread over `slots` (the last takes the remainder).
fn share(total: u64, slots: u64, slot: u64) -> u64 {
    let each = total / slots;
    if slot + 1 == slots {
        total - each * (slots - 1)
    } else if slot < slots {
        each
    } else {
        0
    }
}

fn unix_ms(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis())
}

fn write_offset(file: &Path, secs: i64) -> Result<()> {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, format!("{secs:+}\n")).with_context(|| format!("{}", tmp.display()))?;
    std::fs::rename(&tmp, file).with_context(|| format!("{}", file.display()))
}

/// Moves this process's wall clock to `to` and waits until libfaketime has read it again.
async fn move_clock(file: &Path, to: SystemTime) -> Result<()> {
    let secs = |at: SystemTime| i64::try_from(unix_ms(at) / 1000).unwrap_or(i64::MAX);
    // The file holds the offset from the real clock, which this process no longer reads.
    let offset = std::fs::read_to_string(file)
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(0);
    let real = secs(SystemTime::now()) - offset;
    write_offset(file, secs(to) - real)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if (secs(SystemTime::now()) - secs(to)).abs() <= 5 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "the clock did not move: run the fill under libfaketime with FAKETIME_TIMESTAMP_FILE={} (see scripts/bench-console.sh)",
        file.display()
    )
}

/// Waits until the scheduler has nothing due at the (real) now, two minutes at most.
async fn catch_up(store: &Store) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        match store.next_due().await {
            Ok(Some(at)) if at <= minhu::time::now_ms() => {}
            _ => return,
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("fill: the scheduler has not caught up after 120 s");
}

/// Deletes every outbox row, as the relay does with a row the broker confirmed.
fn mark_delivered(path: &Path) -> Result<usize> {
    let conn = rusqlite::Connection::open(path).with_context(|| format!("{}", path.display()))?;
    Ok(conn.execute("DELETE FROM outbox", [])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_total() {
        for (total, slots) in [(100_000, 57), (30_000, 54), (5, 7), (0, 3)] {
            let sum: u64 = (0..slots).map(|s| share(total, slots, s)).sum();
            assert_eq!(sum, total);
        }
    }
}
