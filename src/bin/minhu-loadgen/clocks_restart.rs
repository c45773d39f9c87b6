//! `minhu-loadgen clocks-bench start`: execs a gateway and times what a restart costs, from the
//! exec (a monotonic instant taken just before it) to each start-up line of its log, to the
//! first message on a queue, and then follows the scheduler's catch-up on `/metrics`.
//!
//! The gateway's log goes to a file, not through this process, so the gateway outlives the
//! tool when `--stop` is not given (the script measures it further and stops it by pid).
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use prost::Message;

use super::idle::ticks;
use crate::{metrics, parse_duration};

/// Log lines whose first appearance is timed, in the order start-up writes them.
const MARKS: &[&str] = &[
    "merge index rebuilt",
    "outbox relay starting",
    "minhu serving",
    "connected to the broker",
    "bounce rate loaded from the store",
];
const SERVING: &str = "minhu serving";
const EVALUATED: &str = "minhu_clocks_evaluated_total";
const EVENTS: &str = "minhu_supervision_events_total";

#[derive(Debug, Args)]
pub struct StartArgs {
    /// File the gateway's stdout and stderr (its log) are written to.
    #[arg(long)]
    log: PathBuf,
    /// File to write the gateway's pid to.
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// The gateway's Prometheus page.
    #[arg(long, default_value = "http://127.0.0.1:8080/metrics")]
    metrics_url: String,
    /// AMQP URL of the gateway's vhost (for --first-on).
    #[arg(long)]
    amqp_url: Option<String>,
    /// A queue (empty before the start) whose first message is timed, e.g.
    /// `minhu.supervision.lights`.
    #[arg(long, requires = "amqp_url")]
    first_on: Option<String>,
    /// How long to follow `/metrics` once the gateway serves (and the first message came).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    follow: Duration,
    /// Give up when the gateway does not serve (or send the first message) within this.
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    timeout: Duration,
    /// Stop the gateway (SIGTERM) at the end and wait until it has exited.
    #[arg(long)]
    stop: bool,
    /// The gateway's command line, e.g. `env LD_PRELOAD=... minhu --config C serve`.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// First appearance of each mark: (mark, seconds after the exec, the line).
type Seen = Arc<Mutex<Vec<(&'static str, f64, String)>>>;

pub async fn run(a: StartArgs) -> Result<()> {
    let first = match (&a.first_on, &a.amqp_url) {
        (Some(q), Some(url)) => Some(FirstMessage::listen(url, q).await?),
        _ => None,
    };
    let log =
        std::fs::File::create(&a.log).with_context(|| format!("creating {}", a.log.display()))?;
    let mut cmd = Command::new(&a.command[0]);
    cmd.args(&a.command[1..])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let t0 = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", a.command))?;
    let pid = child.id();
    if let Some(p) = &a.pid_file {
        std::fs::write(p, format!("{pid}\n"))?;
    }
    eprintln!("start: pid {pid}: {}", a.command.join(" "));
    let seen: Seen = Arc::default();
    let tail = tokio::spawn(follow_log(a.log.clone(), t0, seen.clone()));

    // Wait for "minhu serving" and the first message, whichever order they come in.
    let deadline = t0 + a.timeout;
    let mut first_at = None;
    let mut first_msg = String::new();
    let mut first = first;
    loop {
        if let Some(status) = child.try_wait()? {
            bail!(
                "the gateway exited ({status}) during start-up; see {}",
                a.log.display()
            );
        }
        let serving = seen.lock().unwrap().iter().any(|s| s.0 == SERVING);
        if let Some(f) = first.as_mut() {
            if let Some(m) = f.poll(Duration::from_millis(5)).await? {
                first_at = Some(t0.elapsed().as_secs_f64());
                first_msg = m;
                first = None;
            }
        } else if serving {
            break;
        } else {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if Instant::now() >= deadline {
            bail!("nothing within {:?}; see {}", a.timeout, a.log.display());
        }
    }
    // The catch-up, once a second.
    let (mut samples, follow_from) = (Vec::new(), Instant::now());
    while follow_from.elapsed() < a.follow {
        if let Ok(page) = metrics::fetch(&a.metrics_url).await {
            let v = |n| metrics::sum(&page, n).unwrap_or(0.0) as u64;
            samples.push(Sample {
                at: t0.elapsed().as_secs_f64(),
                evaluated: v(EVALUATED),
                events: v(EVENTS),
                confirmed: v(metrics::CONFIRMED),
                depth: v(metrics::OUTBOX_DEPTH),
                ticks: ticks(pid).unwrap_or(0),
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    tail.abort();

    let mut timeline = seen.lock().unwrap().clone();
    if let Some(at) = first_at {
        timeline.push(("first message", at, first_msg));
    }
    timeline.sort_by(|x, y| x.1.total_cmp(&y.1));
    for (mark, at, line) in &timeline {
        eprintln!("start: +{at:.3} s {mark}: {line}");
    }
    for s in &samples {
        eprintln!(
            "start: +{:.1} s evaluated {}, events {}, publishes confirmed {}, outbox {}",
            s.at, s.evaluated, s.events, s.confirmed, s.depth
        );
    }
    let at = |m: &str| {
        timeline
            .iter()
            .find(|s| s.0 == m)
            .map_or("n/a".to_owned(), |s| format!("{:.3}", s.1))
    };
    println!(
        "start: serving after {} s (merge index rebuilt at {} s, relay starting at {} s, connected to the broker at {} s); first message after {} s",
        at(SERVING),
        at(MARKS[0]),
        at(MARKS[1]),
        at(MARKS[3]),
        at("first message"),
    );
    if let Some(text) = catch_up(&samples) {
        println!("start: catch-up: {text}");
    }
    if a.stop {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let status = tokio::task::spawn_blocking(move || child.wait()).await??;
        eprintln!("start: the gateway stopped ({status})");
    }
    Ok(())
}

/// Reads the log as it grows and notes when each mark first appears.
async fn follow_log(path: PathBuf, t0: Instant, seen: Seen) {
    let Ok(mut file) = std::fs::File::open(&path) else {
        return;
    };
    let (mut pos, mut partial) = (0u64, String::new());
    loop {
        let mut buf = Vec::new();
        if file.seek(SeekFrom::Start(pos)).is_ok() && file.read_to_end(&mut buf).is_ok() {
            pos += buf.len() as u64;
            let at = t0.elapsed().as_secs_f64();
            partial.push_str(&String::from_utf8_lossy(&buf));
            while let Some(i) = partial.find('\n') {
                let line = strip_ansi(&partial[..i]);
                partial.drain(..=i);
                let mut s = seen.lock().unwrap();
                for m in MARKS {
                    if line.contains(m) && !s.iter().any(|x| x.0 == *m) {
                        s.push((m, at, line.clone()));
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The log without terminal colours (tracing colours its text output).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A consumer of one message: prefetch 1 and no ack, so the broker hands over just the first
/// and takes it back when the connection closes.
struct FirstMessage {
    conn: lapin::Connection,
    consumer: lapin::Consumer,
}

impl FirstMessage {
    async fn listen(url: &str, queue: &str) -> Result<Self> {
        let conn = lapin::Connection::connect(url, lapin::ConnectionProperties::default())
            .await
            .context("connecting to RabbitMQ")?;
        let channel = conn.create_channel().await?;
        let q = channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .with_context(|| format!("queue {queue} must exist (the gateway declares it)"))?;
        if q.message_count() > 0 {
            bail!("{queue} holds {} messages already", q.message_count());
        }
        channel.basic_qos(1, BasicQosOptions::default()).await?;
        let consumer = channel
            .basic_consume(
                queue.into(),
                "minhu-clocks-bench".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(Self { conn, consumer })
    }

    /// The first message, described, if it came within `wait`.
    async fn poll(&mut self, wait: Duration) -> Result<Option<String>> {
        let Ok(next) = tokio::time::timeout(wait, self.consumer.next()).await else {
            return Ok(None);
        };
        let d = next.context("the consumer ended")??;
        let what = match minhu::pb::SupervisionEvent::decode(d.data.as_slice()) {
            Ok(e) => format!(
                "{} (case {}, crossed at {}, sent at {})",
                d.routing_key,
                e.case_id,
                e.crossed_at.map_or(String::new(), |t| t.to_string()),
                e.sent_at.map_or(String::new(), |t| t.to_string())
            ),
            Err(_) => format!("{} ({} bytes)", d.routing_key, d.data.len()),
        };
        let _ = self.conn.close(200, "first message seen".into()).await;
        Ok(Some(what))
    }
}

/// One reading of `/metrics` (and of the gateway's CPU) during the catch-up.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    /// Seconds after the exec.
    at: f64,
    evaluated: u64,
    events: u64,
    confirmed: u64,
    depth: u64,
    /// The gateway's CPU so far, in ticks of 10 ms.
    ticks: u64,
}

/// The catch-up's rates: from the exec, and from the first reading, each to the first reading
/// at which the count of units evaluated stopped growing (the last reading if it never did).
fn catch_up(samples: &[Sample]) -> Option<String> {
    let f = *samples.first()?;
    let last = samples[samples.len() - 1];
    let done = samples
        .windows(2)
        .position(|w| w[1].evaluated == w[0].evaluated && w[0].evaluated > 0);
    let l = samples[done.unwrap_or(samples.len() - 1)];
    let mut text = format!(
        "{} units evaluated by +{:.1} s after the exec{} ({:.0}/s with the start-up)",
        l.evaluated,
        l.at,
        if done.is_some() {
            ", all that were due"
        } else {
            ""
        },
        l.evaluated as f64 / l.at
    );
    let secs = l.at - f.at;
    if secs > 0.0 {
        let units = l.evaluated - f.evaluated;
        let peak = samples
            .windows(2)
            .map(|w| (w[1].evaluated - w[0].evaluated) as f64 / (w[1].at - w[0].at))
            .fold(0.0, f64::max);
        text.push_str(&format!(
            "; +{:.1} → +{:.1} s: {units} units ({:.0}/s, best second {peak:.0}/s), {} events \
             written ({:.0}/s), gateway CPU {} ms ({:.0} µs per unit)",
            f.at,
            l.at,
            units as f64 / secs,
            l.events - f.events,
            (l.events - f.events) as f64 / secs,
            (l.ticks - f.ticks) * 10,
            (l.ticks - f.ticks) as f64 * 10_000.0 / units.max(1) as f64,
        ));
    }
    if last.at > f.at {
        text.push_str(&format!(
            "; by +{:.1} s: {} publishes confirmed ({:.0}/s since +{:.1} s), outbox {}",
            last.at,
            last.confirmed,
            (last.confirmed - f.confirmed) as f64 / (last.at - f.at),
            f.at,
            last.depth
        ));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catch_up_ends_where_evaluation_stops() {
        let s = |at: f64, evaluated: u64| Sample {
            at,
            evaluated,
            events: evaluated * 2,
            ticks: evaluated / 100,
            ..Sample::default()
        };
        let text = catch_up(&[s(1.0, 100), s(2.0, 1100), s(3.0, 1500), s(4.0, 1500)]).unwrap();
        let want = "1500 units evaluated by +3.0 s after the exec, all that were due (500/s with \
                    the start-up); +1.0 → +3.0 s: 1400 units (700/s, best second 1000/s), 2800 \
                    events written (1400/s), gateway CPU 140 ms (100 µs per unit); by +4.0 s";
        assert!(text.starts_with(want), "{text}");
        let text = catch_up(&[s(1.0, 0), s(2.0, 1000), s(3.0, 2000)]).unwrap();
        assert!(text.contains("+1.0 → +3.0 s: 2000 units (1000/s"), "{text}");
        // Done before the first reading: only the rate from the exec.
        let text = catch_up(&[s(1.0, 500), s(2.0, 500)]).unwrap();
        assert!(text.starts_with("500 units evaluated by +1.0 s after the exec, all that were due (500/s with the start-up); by +2.0 s"), "{text}");
        assert!(catch_up(&[]).is_none());
    }

    #[test]
    fn colours_are_stripped_from_log_lines() {
        let line = "\u{1b}[32m INFO\u{1b}[0m \u{1b}[2mminhu\u{1b}[0m: minhu serving \u{1b}[3mgrpc\u{1b}[0m\u{1b}[2m=\u{1b}[0m1";
        assert_eq!(strip_ansi(line), " INFO minhu: minhu serving grpc=1");
    }
}
