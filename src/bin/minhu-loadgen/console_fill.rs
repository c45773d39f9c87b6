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
use futures::{StreamExt, stream};
use minhu::handling::{Updates, metrics::ReturnMetrics, rating::Ratings};
use minhu::intake::Intake;
use minhu::pb;
use minhu::router::live::LiveRouter;
use minhu::store::{Store, Via};
use minhu::telemetry::Metrics;
use tokio_util::sync::CancellationToken;

use crate::console_reports;
use crate::updates::{Case, Step, case_update};

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

/// A case the fill opened.
struct Opened {
    case_id: String,
    department_id: String,
    ticket_id: String,
    /// To be completed and rated.
    scored: bool,
    /// Signed for (or left unsigned) by the fill's choice.
    sign: bool,
    version: u64,
}

/// What the fill runs through: the gateway's own paths.
struct Paths {
    store: Store,
    intake: Intake,
    updates: Updates,
    ratings: Ratings,
}

#[derive(Default)]
struct Tally {
    opened: u64,
    merged: u64,
    signed: u64,
    completed: u64,
    rated: u64,
    failed: u64,
}

impl Tally {
    fn fail(&mut self, what: &str, e: impl std::fmt::Display) {
        self.failed += 1;
        if self.failed <= 5 {
            eprintln!("fill: {what}: {e}");
        }
    }
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
        minhu::clocks::scheduler::Scheduler {
            store: store.clone(),
            router: live.clone(),
            clock: Arc::new(minhu::clocks::SystemClock),
            tick: minhu::clocks::scheduler::TICK,
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

/// Opens `count` cases, reports `first..first + count`; the first `scored` are to be scored.
async fn open(
    p: &Paths,
    run_id: &str,
    first: u64,
    count: u64,
    scored: u64,
    in_flight: usize,
    tally: &mut Tally,
) -> Vec<Opened> {
    let answers: Vec<_> = stream::iter(first..first + count)
        .map(|seq| async move {
            let req = console_reports::request(run_id, seq);
            (seq, p.intake.submit(Some(req)).await)
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let mut out = Vec::with_capacity(answers.len());
    for (seq, answer) in answers {
        match answer {
            Ok(r) if r.disposition == pb::Disposition::NewCase as i32 => {
                tally.opened += 1;
                out.push(Opened {
                    case_id: r.case_id,
                    department_id: r.department_id,
                    ticket_id: r.ticket_id,
                    scored: seq < first + scored,
                    // Three in ten open cases stay unsigned.
                    sign: seq < first + scored || seq % 10 < 7,
                    version: 0,
                });
            }
            Ok(_) => tally.merged += 1,
            Err(e) => tally.fail("submit", e),
        }
    }
    out
}

/// The case's version now (None: gone).
async fn version(p: &Paths, case_id: &str) -> Option<u64> {
    p.store
        .case_snapshot(case_id)
        .await
        .ok()
        .flatten()
        .map(|s| s.version)
}

async fn apply(
    p: &Paths,
    step: Step,
    run_id: &str,
    c: &Opened,
    version: u64,
) -> Result<u64, String> {
    let case = Case {
        case_id: c.case_id.clone(),
        department_id: c.department_id.clone(),
        version,
    };
    let u = case_update(step, run_id, &case, version);
    match p.updates.apply(u, Via::Grpc, None).await {
        Ok(o) if o.applied => Ok(o.case_version),
        Ok(o) => Err(o.message),
        Err(e) => Err(e.to_string()),
    }
}

/// Signs for the cases of a slot that are to be signed for.
async fn sign(p: &Paths, run_id: &str, cases: &mut [Opened], in_flight: usize, t: &mut Tally) {
    let results: Vec<_> = stream::iter(cases.iter().enumerate().filter(|(_, c)| c.sign))
        .map(|(i, c)| async move {
            let Some(v) = version(p, &c.case_id).await else {
                return (i, Err("case not found".to_owned()));
            };
            (i, apply(p, Step::SignFor, run_id, c, v).await)
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    for (i, r) in results {
        match r {
            Ok(v) => {
                t.signed += 1;
                cases[i].version = v;
            }
            Err(e) => t.fail("sign for", e),
        }
    }
}

/// Completes the slot's cases to be scored, and has most of their reporters rate them.
async fn complete(p: &Paths, run_id: &str, cases: &[Opened], in_flight: usize, t: &mut Tally) {
    let results: Vec<_> = stream::iter(cases.iter().filter(|c| c.scored && c.version > 0))
        .enumerate()
        .map(|(n, c)| async move {
            if let Err(e) = apply(p, Step::Complete, run_id, c, c.version).await {
                return (Err(format!("complete: {e}")), false);
            }
            let Some((satisfaction, solved)) = rating(n) else {
                return (Ok(()), false);
            };
            let r = pb::RateRequest {
                ticket_id: c.ticket_id.clone(),
                satisfaction: satisfaction as i32,
                solved: solved as i32,
                text: if solved == pb::Solved::No {
                    "问题还在，没有解决".into()
                } else {
                    String::new()
                },
                rating_id: format!("console-{run_id}-{}", c.ticket_id),
                via: "hotline".into(),
            };
            match p.ratings.rate(r, "hotline", None).await {
                Ok(_) => (Ok(()), true),
                Err(e) => (Err(format!("rate: {e}")), false),
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    for (r, rated) in results {
        match r {
            Ok(()) => {
                t.completed += 1;
                t.rated += u64::from(rated);
            }
            Err(e) => t.fail("complete and rate", e),
        }
    }
}

/// The `n`th completed case's rating: most satisfied, a few not, a few cases not solved
/// (reopened), and some reporters never answer.
fn rating(n: usize) -> Option<(pb::Satisfaction, pb::Solved)> {
    use pb::{Satisfaction as S, Solved};
    match n % 100 {
        0..8 => None,
        8..11 => Some((S::Dissatisfied, Solved::No)),
        11..18 => Some((S::Dissatisfied, Solved::Yes)),
        18..33 => Some((S::BasicallySatisfied, Solved::Yes)),
        _ => Some((S::Satisfied, Solved::Yes)),
    }
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

    #[test]
    fn most_completed_cases_are_rated_and_a_few_reopen() {
        let all: Vec<_> = (0..100).map(rating).collect();
        assert_eq!(all.iter().filter(|r| r.is_none()).count(), 8);
        let reopened = all
            .iter()
            .filter(|r| matches!(r, Some((_, pb::Solved::No))))
            .count();
        assert_eq!(reopened, 3);
    }
}
