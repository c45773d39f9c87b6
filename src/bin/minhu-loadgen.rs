//! `minhu-loadgen`: sample traffic and load for a running Minhu gateway.
//!
//! This binary owns these jobs, all of which talk to the gateway only through its public
//! contracts (gRPC `minhu.v1.Gateway`, the Prometheus `/metrics` page and RabbitMQ):
//!
//! - `demo` submits a handful of realistic reports, one or more through every `Channel`, prints
//!   what the gateway answered, and submits one again to show `DISPOSITION_REPLAY`.
//! - `bench` drives `Submit` hard over several connections, measures accepted and delivered
//!   (broker-confirmed) rates and latency, and in the same run measures the raw ceiling of the
//!   broker (plain lapin publishing with confirms) so the two can be compared.
//! - `grpc-floor` measures a bare gRPC call on the gateway's port, the other baseline for
//!   `bench`; `merge-score` and `merge-bench` measure merging.
//! - `updates` measures department updates (`minhu.v1.Handling` over gRPC, `minhu.updates`
//!   over AMQP) against Submit's own rate in the same run.
//! - `notify` measures notices sent to citizens per second, to stand-ins of the SMS gateway
//!   and the WeChat API it serves itself, against Submit's rate in the same run;
//!   `notify-config` writes the gateway's service file that points the senders at them.
//! - `console` fills a store with a city's weeks of cases in process and times the
//!   supervision console's pages on a gateway serving it.
use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

// A binary's root file looks for modules beside it, so point at the folder explicitly.
#[path = "minhu-loadgen/bench.rs"]
mod bench;
#[path = "minhu-loadgen/bench_report.rs"]
mod bench_report;
#[path = "minhu-loadgen/ceiling.rs"]
mod ceiling;
#[path = "minhu-loadgen/clocks_bench.rs"]
mod clocks_bench;
#[path = "minhu-loadgen/console.rs"]
mod console;
#[path = "minhu-loadgen/console_reports.rs"]
mod console_reports;
#[path = "minhu-loadgen/cpu_meter.rs"]
mod cpu_meter;
#[path = "minhu-loadgen/demo.rs"]
mod demo;
#[path = "minhu-loadgen/floor.rs"]
mod floor;
#[path = "minhu-loadgen/merge_bench.rs"]
mod merge_bench;
#[path = "minhu-loadgen/merge_score.rs"]
mod merge_score;
#[path = "minhu-loadgen/metrics.rs"]
mod metrics;
#[path = "minhu-loadgen/notify.rs"]
mod notify;
#[path = "minhu-loadgen/notify_config.rs"]
mod notify_config;
#[path = "minhu-loadgen/notify_measure.rs"]
mod notify_measure;
#[path = "minhu-loadgen/notify_report.rs"]
mod notify_report;
#[path = "minhu-loadgen/notify_standins.rs"]
mod notify_standins;
#[path = "minhu-loadgen/sample.rs"]
mod sample;
#[path = "minhu-loadgen/updates.rs"]
mod updates;
#[path = "minhu-loadgen/updates_amqp.rs"]
mod updates_amqp;
#[path = "minhu-loadgen/updates_report.rs"]
mod updates_report;

/// Sample traffic and load generator for the Minhu gateway.
#[derive(Debug, Parser)]
#[command(name = "minhu-loadgen", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Submit a small set of realistic reports through every channel and print the answers.
    Demo(DemoArgs),
    /// Measure Submit throughput, delivery rate and latency against the raw broker ceiling.
    Bench(BenchArgs),
    /// Replay a labelled corpus through Submit and score the cases pairwise (run it against a
    /// gateway with a fresh store).
    MergeScore(MergeScoreArgs),
    /// Measure the merge index in process: decision latency with many open cases, memory per
    /// case and the start-up rebuild, against a small index and a scan without index.
    MergeBench(MergeBenchArgs),
    /// Measure the cost of a bare gRPC call (Health/Check on the gateway's port) with the same
    /// connections and calls in flight as `bench`: the baseline for what Minhu adds per Submit.
    GrpcFloor(GrpcFloorArgs),
    /// Measure department updates applied per second (SignFor, ReportProgress, Complete) over
    /// gRPC and over AMQP, against Submit's rate, CPU and commits in the same run.
    Updates(UpdatesArgs),
    /// Issue 14's scheduler at many open cases: seed them, idle CPU, a restart's first light.
    ClocksBench(clocks_bench::Cli),
    /// Issue 16's console pages at 100,000 open cases: fill a store in process, then time
    /// the lights board and the departments page against trivial answers.
    Console(console::Cli),
    /// Measure notices sent per second to stand-ins of the SMS gateway and the WeChat API
    /// (served by this process), against Submit's rate, CPU and latency in the same run.
    Notify(notify::Args),
    /// Write the gateway's service file for `notify`: a base file with its `[notify]` senders
    /// pointed at the stand-ins.
    NotifyConfig(notify_config::Args),
}

#[derive(Debug, Args)]
struct UpdatesArgs {
    #[command(flatten)]
    gateway: GatewayArgs,
    /// URL of the gateway's Prometheus page.
    #[arg(
        long,
        env = "LOADGEN_METRICS_URL",
        default_value = "http://127.0.0.1:8080/metrics"
    )]
    metrics_url: String,
    /// AMQP URL (with vhost) of the broker the gateway uses: updates are published to its
    /// `minhu.updates`, outcomes read from its `minhu.dept.<id>.outcomes`.
    #[arg(
        long,
        env = "MINHU_AMQP__URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    amqp_url: String,
    /// gRPC connections (HTTP/2) to spread Submits and gRPC updates over.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Submits in flight at once; in the update phases, cases being updated at once.
    #[arg(long, default_value_t = 128)]
    in_flight: usize,
    /// Cases per door per round (each round submits twice as many reports; merged ones are
    /// not updated).
    #[arg(long, default_value_t = 5000)]
    cases: usize,
    /// Rounds of Submit, gRPC updates and AMQP updates; medians are over the rounds.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Length of each report's description, in characters (Chinese text).
    #[arg(long, default_value_t = 60)]
    description_chars: usize,
    /// How long to wait after each phase for the outbox to drain.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    drain_timeout: Duration,
    /// Also report the CPU a local process spent per operation, as NAME=PID (e.g.
    /// `gateway=1234`); may be repeated. Linux only.
    #[arg(long = "cpu-of", value_parser = parse_named_pid)]
    cpu_of: Vec<(String, u32)>,
}

#[derive(Debug, Args)]
struct GrpcFloorArgs {
    #[command(flatten)]
    gateway: GatewayArgs,
    /// gRPC connections (HTTP/2) to spread the calls over.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Calls in flight at once, over all connections.
    #[arg(long, default_value_t = 256)]
    in_flight: usize,
    /// How long to call for, e.g. `10s`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// The service name Health/Check asks about.
    #[arg(long, default_value = "minhu.v1.Gateway")]
    service: String,
}

#[derive(Debug, Args)]
struct MergeBenchArgs {
    /// Open cases to index.
    #[arg(long, default_value_t = 1_000_000)]
    cases: usize,
    /// Merge decisions to time.
    #[arg(long, default_value_t = 100_000)]
    probes: usize,
    /// Open cases of the baseline index.
    #[arg(long, default_value_t = 10_000)]
    baseline_cases: usize,
    /// Store file to write the cases to and time the rebuild from (skipped when absent).
    #[arg(long)]
    store: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct MergeScoreArgs {
    #[command(flatten)]
    gateway: GatewayArgs,
    /// JSON-lines corpus with an `incident` per report (e.g. ../shared/data/reports-dev.jsonl).
    #[arg(long)]
    file: PathBuf,
    /// Suffix for every source_id (default: `-<unix time>`), so a rerun is not a replay.
    #[arg(long)]
    run_id: Option<String>,
}

/// Where the gateway listens.
#[derive(Debug, Args, Clone)]
struct GatewayArgs {
    /// gRPC address of `minhu.v1.Gateway`.
    #[arg(long, env = "LOADGEN_GRPC", default_value = "http://127.0.0.1:50051")]
    grpc: String,
}

#[derive(Debug, Args)]
struct DemoArgs {
    #[command(flatten)]
    gateway: GatewayArgs,
    /// JSON-lines file of reports (default: the built-in copy of config/sample-traffic.jsonl).
    #[arg(long)]
    traffic: Option<PathBuf>,
    /// Suffix for every source_id, so repeated demos against one store open new tickets
    /// (default: the current Unix time).
    #[arg(long)]
    run_id: Option<String>,
}

#[derive(Debug, Args)]
struct BenchArgs {
    #[command(flatten)]
    gateway: GatewayArgs,
    /// URL of the gateway's Prometheus page.
    #[arg(
        long,
        env = "LOADGEN_METRICS_URL",
        default_value = "http://127.0.0.1:8080/metrics"
    )]
    metrics_url: String,
    /// gRPC connections (HTTP/2) to spread the load over.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Submit calls in flight at once, over all connections.
    #[arg(long, default_value_t = 256)]
    in_flight: usize,
    /// How long to submit for, e.g. `30s`, `2m`, `500ms`. Ignored when --count is given.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Submit exactly this many requests instead of running for --duration.
    #[arg(long)]
    count: Option<u64>,
    /// Length of each report's description, in characters (Chinese text).
    #[arg(long, default_value_t = 60)]
    description_chars: usize,
    /// How long to wait after the last Submit for the outbox to drain (minhu_outbox_depth 0).
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    drain_timeout: Duration,
    #[command(flatten)]
    ceiling: CeilingArgs,
    /// Skip the raw broker ceiling measurement.
    #[arg(long, conflicts_with = "ceiling_only")]
    no_ceiling: bool,
    /// Measure only the raw broker ceiling (no gateway needed).
    #[arg(long)]
    ceiling_only: bool,
    /// Also report the CPU a local process spent per delivered ticket during the gateway
    /// phase, as NAME=PID (e.g. `gateway=1234`, `broker=987`); may be repeated. Linux only.
    #[arg(long = "cpu-of", value_parser = parse_named_pid)]
    cpu_of: Vec<(String, u32)>,
}

fn parse_named_pid(s: &str) -> Result<(String, u32), String> {
    let (name, pid) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected NAME=PID"))?;
    let pid = pid
        .parse()
        .map_err(|_| format!("`{pid}` is not a process id"))?;
    Ok((name.to_owned(), pid))
}

/// Settings of the raw broker ceiling measurement.
#[derive(Debug, Args, Clone)]
struct CeilingArgs {
    /// AMQP URL (with vhost) for the ceiling measurement. Point it at a vhost of its own to
    /// keep the benchmark queue away from production queues.
    #[arg(
        long,
        env = "MINHU_AMQP__URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    amqp_url: String,
    /// Queue the ceiling publishes to (quorum; declared by this tool and deleted afterwards).
    #[arg(long, default_value = "minhu.bench.ceiling")]
    ceiling_queue: String,
    /// Publishes awaiting a confirm at once; the gateway's `amqp.confirm_window`.
    #[arg(long, default_value_t = 1024)]
    confirm_window: usize,
    /// Body size of each ceiling message in bytes (default: the size of a typical encoded
    /// `minhu.v1.Dispatch` with one ticket of the bench's reports).
    #[arg(long)]
    message_bytes: Option<usize>,
}

/// Parses `250ms`, `30s`, `2m`, `1h` or a bare number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30s, 2m or 500ms"))?;
    let secs = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown duration unit `{other}` (use ms, s, m or h)"
            ));
        }
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("`{s}` is not a valid duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("minhu-loadgen: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("minhu-loadgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo(args) => {
            let traffic = match &args.traffic {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?,
                None => sample::BUILTIN.to_owned(),
            };
            let reports = sample::parse(&traffic)?;
            if reports.is_empty() {
                bail!("the traffic file holds no reports");
            }
            demo::run(&args.gateway.grpc, &reports, args.run_id).await
        }
        Command::Bench(args) => bench::run(args).await,
        Command::ClocksBench(a) => clocks_bench::run(a).await,
        Command::Console(a) => console::run(a).await,
        Command::MergeBench(a) => merge_bench::run(merge_bench::Settings {
            cases: a.cases,
            probes: a.probes,
            baseline_cases: a.baseline_cases,
            store: a.store,
        }),
        Command::GrpcFloor(a) => {
            floor::run(floor::Settings {
                grpc: a.gateway.grpc,
                connections: a.connections,
                in_flight: a.in_flight,
                duration: a.duration,
                service: a.service,
            })
            .await
        }
        Command::Updates(args) => updates::run(args).await,
        Command::Notify(args) => notify::run(args).await,
        Command::NotifyConfig(a) => notify_config::write(&a),
        Command::MergeScore(args) => {
            merge_score::run(&args.gateway.grpc, &args.file, args.run_id).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_named_pid;

    #[test]
    fn cpu_of_takes_name_equals_pid_and_says_what_is_wrong() {
        assert_eq!(parse_named_pid("broker=987"), Ok(("broker".into(), 987)));
        let e = parse_named_pid("broker").unwrap_err();
        assert!(e.contains("expected NAME=PID"), "{e}");
        let e = parse_named_pid("broker=beam").unwrap_err();
        assert!(e.contains("`beam` is not a process id"), "{e}");
    }
}
