//! `minhu-loadgen clocks-bench`: the scheduler's figures of issue 14 at many open cases, in
//! three steps a script strings together (`scripts/bench-clocks.sh`):
//!
//! - `seed` opens N cases through the real `Submit` of a running gateway, no two of which merge,
//!   and waits until the outbox is empty (every dispatch confirmed by the broker);
//! - `idle` reads the CPU of running gateways over the same windows, total from
//!   `/proc/PID/stat` and by thread from `/proc/PID/task/*/schedstat`;
//! - `start` execs a gateway and times its start-up from the log and the first message on a
//!   queue (`minhu.supervision.lights` after the clock moved past the lights), then follows
//!   the catch-up on `/metrics` ([`restart`]).
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use lapin::options::QueuePurgeOptions;
use minhu::pb::{self, gateway_client::GatewayClient};
use tonic::transport::Channel;

use crate::{GatewayArgs, bench, demo, metrics, parse_duration};

#[path = "clocks_idle.rs"]
mod idle;
#[path = "clocks_restart.rs"]
mod restart;

/// The steps of the scheduler benchmark.
#[derive(Debug, Args)]
pub struct Cli {
    #[command(subcommand)]
    step: Step,
}

#[derive(Debug, Subcommand)]
enum Step {
    /// Open --count cases through Submit, none merging with another, then wait until the
    /// outbox is empty.
    Seed(SeedArgs),
    /// CPU of running processes over the same windows: median per minute, and by thread.
    Idle(idle::IdleArgs),
    /// Exec a gateway (the command after `--`) and time its start-up, the first message on a
    /// queue, and what it evaluated in the seconds after.
    Start(restart::StartArgs),
}

#[derive(Debug, Args)]
struct SeedArgs {
    #[command(flatten)]
    gateway: GatewayArgs,
    /// The gateway's Prometheus page (to wait until the outbox is empty).
    #[arg(long, default_value = "http://127.0.0.1:8080/metrics")]
    metrics_url: String,
    /// Cases to open.
    #[arg(long, default_value_t = 1_000_000)]
    count: u64,
    #[arg(long, default_value_t = 4)]
    connections: usize,
    #[arg(long, default_value_t = 128)]
    in_flight: usize,
    /// Suffix of every source_id (default: the Unix time in ms).
    #[arg(long)]
    run_id: Option<String>,
    /// AMQP URL of the gateway's vhost, to purge `--purge` queues while seeding.
    #[arg(long)]
    amqp_url: Option<String>,
    /// A queue to empty every `--purge-every` (the department queues: a million dispatches
    /// nobody reads would only fill the broker's disk). May be repeated.
    #[arg(long)]
    purge: Vec<String>,
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    purge_every: Duration,
    /// How long to wait for the outbox to empty after the last Submit.
    #[arg(long, default_value = "600s", value_parser = parse_duration)]
    drain_timeout: Duration,
}

pub async fn run(cli: Cli) -> Result<()> {
    match cli.step {
        Step::Seed(a) => seed(a).await,
        Step::Idle(a) => idle::run(&a).await,
        Step::Start(a) => restart::run(a).await,
    }
}

/// Bench report `seq` made unmergeable: its address carries one number, `seq + 1`, and no other
/// text of the report carries one. Merging vetoes two reports that both give numbers and share
/// none (a different building), so each report opens a case of its own, while the rest of the
/// report (channel mix, category, district, text) stays the bench's.
pub fn distinct(run_id: &str, seq: u64, description_chars: usize) -> pb::Request {
    let mut r = bench::request(run_id, seq, description_chars);
    if let Some(loc) = r.location.as_mut() {
        let old = std::mem::take(&mut loc.address);
        let district = old.split("测试路").next().unwrap_or_default();
        loc.address = format!("{district}测试路{}号", seq + 1);
        // The bench's description starts with the whole address.
        r.description = r.description.replacen(&old, &loc.address, 1);
    }
    r
}

#[derive(Default)]
struct Tally {
    new_cases: AtomicU64,
    merged: AtomicU64,
    replays: AtomicU64,
    retries: AtomicU64,
    errors: AtomicU64,
}

async fn seed(a: SeedArgs) -> Result<()> {
    if a.connections == 0 || a.in_flight == 0 {
        bail!("--connections and --in-flight must be at least 1");
    }
    let run_id = a.run_id.clone().unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
            .to_string()
    });
    let mut clients = Vec::new();
    for _ in 0..a.connections {
        clients.push(demo::connect(&a.gateway.grpc).await?);
    }
    let purger = match (&a.amqp_url, a.purge.is_empty()) {
        (Some(url), false) => Some(Purger::connect(url, a.purge.clone()).await?),
        (None, false) => bail!("--purge needs --amqp-url"),
        _ => None,
    };
    eprintln!(
        "seed: {} cases over {} connections, {} in flight (run {run_id})",
        a.count, a.connections, a.in_flight
    );
    let next = Arc::new(AtomicU64::new(0));
    let tally = Arc::new(Tally::default());
    let start = Instant::now();
    let mut workers = Vec::new();
    for i in 0..a.in_flight {
        workers.push(tokio::spawn(worker(
            clients[i % clients.len()].clone(),
            next.clone(),
            tally.clone(),
            run_id.clone(),
            a.count,
        )));
    }
    let all = futures::future::try_join_all(workers);
    tokio::pin!(all);
    let mut progress = tokio::time::interval(Duration::from_secs(10));
    let mut last_purge = Instant::now();
    progress.tick().await;
    let results = loop {
        tokio::select! {
            r = &mut all => break r.context("a seed worker panicked")?,
            _ = progress.tick() => {
                let done = tally.new_cases.load(Relaxed) + tally.merged.load(Relaxed);
                eprintln!(
                    "seed: {done} accepted after {:.0} s ({:.0}/s)",
                    start.elapsed().as_secs_f64(),
                    done as f64 / start.elapsed().as_secs_f64()
                );
                if let Some(p) = purger.as_ref().filter(|_| last_purge.elapsed() >= a.purge_every) {
                    p.purge().await;
                    last_purge = Instant::now();
                }
            }
        }
    };
    results.into_iter().collect::<Result<Vec<()>>>()?;
    let submitted = start.elapsed();
    let drained = wait_drained(&a.metrics_url, a.drain_timeout).await;
    let drained_after = start.elapsed();
    if let Some(p) = &purger {
        p.purge().await;
        p.close().await;
    }
    let t = &*tally;
    let accepted = t.new_cases.load(Relaxed) + t.merged.load(Relaxed);
    println!(
        "seed: {} new cases, {} merged, {} replays, {} retried, {} failed in {:.1} s ({:.0} accepted/s); outbox {} after {:.1} s",
        t.new_cases.load(Relaxed),
        t.merged.load(Relaxed),
        t.replays.load(Relaxed),
        t.retries.load(Relaxed),
        t.errors.load(Relaxed),
        submitted.as_secs_f64(),
        accepted as f64 / submitted.as_secs_f64(),
        if drained { "empty" } else { "NOT empty" },
        drained_after.as_secs_f64()
    );
    if t.merged.load(Relaxed) > 0 || t.errors.load(Relaxed) > 0 || !drained {
        bail!("the seed is not clean: every report must open a case and be delivered");
    }
    Ok(())
}

async fn worker(
    mut client: GatewayClient<Channel>,
    next: Arc<AtomicU64>,
    tally: Arc<Tally>,
    run_id: String,
    count: u64,
) -> Result<()> {
    loop {
        let seq = next.fetch_add(1, Relaxed);
        if seq >= count {
            return Ok(());
        }
        let request = distinct(&run_id, seq, 60);
        // A full outbox or a busy gateway refuses for now: the same report again (idempotent
        // by its source_id) until it is taken, so the seed ends with exactly `count` cases.
        for attempt in 0.. {
            let req = pb::SubmitRequest {
                request: Some(request.clone()),
            };
            match client.submit(req).await {
                Ok(r) => {
                    let d = r.into_inner().disposition();
                    let n = match d {
                        pb::Disposition::NewCase => &tally.new_cases,
                        pb::Disposition::Merged => &tally.merged,
                        _ => &tally.replays,
                    };
                    n.fetch_add(1, Relaxed);
                    break;
                }
                Err(s)
                    if attempt < 100
                        && matches!(
                            s.code(),
                            tonic::Code::ResourceExhausted
                                | tonic::Code::Unavailable
                                | tonic::Code::DeadlineExceeded
                        ) =>
                {
                    tally.retries.fetch_add(1, Relaxed);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(s) => {
                    if tally.errors.fetch_add(1, Relaxed) < 5 {
                        eprintln!("seed: report {seq} refused: {s}");
                    }
                    break;
                }
            }
        }
    }
}

/// Waits until `minhu_outbox_depth` is 0.
async fn wait_drained(url: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(page) = metrics::fetch(url).await
            && metrics::sum(&page, metrics::OUTBOX_DEPTH) == Some(0.0)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

/// Empties queues nobody reads during the seed.
struct Purger {
    conn: lapin::Connection,
    channel: lapin::Channel,
    queues: Vec<String>,
}

impl Purger {
    async fn connect(url: &str, queues: Vec<String>) -> Result<Self> {
        let conn = lapin::Connection::connect(url, lapin::ConnectionProperties::default())
            .await
            .context("connecting to RabbitMQ to purge queues")?;
        let channel = conn.create_channel().await?;
        Ok(Self {
            conn,
            channel,
            queues,
        })
    }

    async fn purge(&self) {
        let mut purged = 0;
        for q in &self.queues {
            match self
                .channel
                .queue_purge(q.as_str().into(), QueuePurgeOptions::default())
                .await
            {
                Ok(n) => purged += n,
                Err(e) => eprintln!("seed: cannot purge {q}: {e}"),
            }
        }
        eprintln!("seed: purged {purged} dispatches from the department queues");
    }

    async fn close(&self) {
        let _ = self.conn.close(200, "seeded".into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn seeded_reports_carry_one_number_of_their_own() {
        for seq in [0, 1, 211, 997, 999_999] {
            let r = distinct("r", seq, 60);
            let loc = r.location.as_ref().expect("location");
            let want = vec![(seq + 1).to_string()];
            assert_eq!(numbers(&loc.address), want, "{}", loc.address);
            assert_eq!(numbers(&r.description), want, "{}", r.description);
            assert!(r.description.starts_with(&loc.address), "{}", r.description);
        }
    }
}
