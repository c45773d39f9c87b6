//! `minhu-loadgen notify`: notices sent per second to stand-ins of the SMS gateway and the
//! WeChat API, against Submit's rate in the same run (issue 15).
//!
//! The stand-ins run in this process ([`crate::notify_standins`]); the gateway must run on the
//! service file `notify-config` writes, which points its senders at them. One run:
//!
//! 1. **Submit** (the baseline): `--reports` bench reports, `--wechat-percent` of them through
//!    WeChat (an openid of their own; answered by a customer-service message), the rest by the
//!    12345 hotline (a mobile number of their own; answered by SMS).
//! 2. **SignFor** every new case (`minhu.v1.Handling`), so each can be completed.
//! 3. **Live**: `Complete` half the cases, `--in-flight` at once (and at most `--live-rate` a
//!    second), with the stand-ins answering; each notice's latency runs from its case's
//!    `Complete` answer to its arrival.
//! 4. **Backlog**: the stand-ins hold every send; `Complete` the other half; then let the
//!    notices through and time the drain: the notifier's own rate and CPU per notice, with
//!    nothing else going on.
//!
//! CPU (`--cpu-of`, from `/proc`) runs from each phase's first call until the outbox is empty
//! and every expected notice has arrived and been counted sent by the gateway
//! (`minhu_notices_sent_total`). A merged report's notice comes with its case's completion.
use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Result, bail};
use minhu::pb::{self, handling_client::HandlingClient};
use tonic::transport::Channel;

use crate::{
    bench, demo, metrics,
    notify_measure::{Meter, RETRIES, Started, last_arrival, measured, wait_for, wait_for_sent},
    notify_report::{self, Drain, Phase},
    notify_standins::{APP_ID, StandIns},
    updates::{self, Case, Step},
    updates_report::Outcome,
};

/// A bench report whose reporter is reached at `address` (a phone or an openid of its own).
fn report(run_id: &str, seq: usize, chars: usize, wechat: bool) -> (pb::Request, String) {
    let mut r = bench::request(run_id, seq as u64, chars);
    let address = if wechat {
        let openid = format!("oBench-{run_id}-{seq:07}");
        r.channel = pb::Channel::Wechat as i32;
        r.source_system = format!("wechat:{APP_ID}");
        r.reporter = Some(pb::Reporter {
            wechat_openid: openid.clone(),
            ..Default::default()
        });
        r.extra.insert("wechat.msg_type".into(), "text".into());
        openid
    } else {
        // Unique within the run (the store is fresh): no two reporters fold into one notice.
        let phone = format!("138{:08}", seq % 100_000_000);
        r.channel = pb::Channel::Hotline12345 as i32;
        r.reporter = Some(pb::Reporter {
            phone: phone.clone(),
            ..Default::default()
        });
        phone
    };
    (r, address)
}

/// `minhu-loadgen notify`'s command line.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub gateway: crate::GatewayArgs,
    #[command(flatten)]
    pub stand_ins: crate::notify_config::StandInArgs,
    /// URL of the gateway's Prometheus page.
    #[arg(
        long,
        env = "LOADGEN_METRICS_URL",
        default_value = "http://127.0.0.1:8080/metrics"
    )]
    pub metrics_url: String,
    /// gRPC connections (HTTP/2) to spread Submits and updates over.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Submits in flight at once; in the update phases, cases being updated at once.
    #[arg(long, default_value_t = 128)]
    pub in_flight: usize,
    /// Reports to submit; half their cases are completed live, half with sends held.
    #[arg(long, default_value_t = 10_000)]
    pub reports: usize,
    /// Share of reports through WeChat (answered by customer-service message); the rest come
    /// by the 12345 hotline and are answered by SMS.
    #[arg(long, default_value_t = 50)]
    pub wechat_percent: usize,
    /// Length of each report's description, in characters (Chinese text).
    #[arg(long, default_value_t = 60)]
    pub description_chars: usize,
    /// Completions a second in the live phase (0: as fast as `--in-flight` allows). Below the
    /// notifier's capacity the latency is the notifier's own, not a queue's.
    #[arg(long, default_value_t = 0.0)]
    pub live_rate: f64,
    /// How long to wait after each phase for the outbox to drain and the notices to arrive.
    #[arg(long, default_value = "120s", value_parser = crate::parse_duration)]
    pub drain_timeout: Duration,
    /// Also report the CPU a local process spent per operation, as NAME=PID (e.g.
    /// `gateway=1234`); may be repeated. Linux only.
    #[arg(long = "cpu-of", value_parser = crate::parse_named_pid)]
    pub cpu_of: Vec<(String, u32)>,
}

pub async fn run(args: Args) -> Result<()> {
    if args.connections == 0 || args.in_flight == 0 || args.reports < 2 {
        bail!("--connections and --in-flight must be at least 1, --reports at least 2");
    }
    if args.wechat_percent > 100 {
        bail!("--wechat-percent is at most 100");
    }
    if !(args.live_rate.is_finite() && args.live_rate >= 0.0) {
        bail!("--live-rate is a number of completions a second, 0 for unpaced");
    }
    let stand_ins =
        StandIns::start(args.stand_ins.sms_listen, args.stand_ins.wechat_listen).await?;
    let run_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        .to_string();
    let mut channels = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        channels.push(demo::channel(&args.gateway.grpc).await?);
    }

    eprintln!(
        "Submit: {} reports, {} in flight",
        args.reports, args.in_flight
    );
    let (submit, case_of) = submit_phase(&args, &stand_ins, &channels, &run_id).await?;
    let answers: Vec<pb::SubmitResponse> = case_of.values().cloned().collect();
    let cases = updates::versions(&channels, answers).await?;
    eprintln!(
        "Submit: {} reports accepted, {} new cases",
        submit.ok,
        cases.len()
    );

    eprintln!("SignFor: {} cases", cases.len());
    let (sign, after) = update_phase(&args, &channels, &run_id, Step::SignFor, cases, 0.0).await?;
    let signed = measured(&args, &stand_ins, sign, Vec::new()).await?;
    let mut cases: Vec<Case> = after.into_iter().map(|c| c.case).collect();

    let backlog_cases = cases.split_off(cases.len() / 2);
    let expect = |cases: &[Case]| -> Vec<String> {
        let ids: HashSet<&str> = cases.iter().map(|c| c.case_id.as_str()).collect();
        case_of
            .iter()
            .filter(|(_, a)| ids.contains(a.case_id.as_str()))
            .map(|(address, _)| address.clone())
            .collect()
    };
    let live_expected = expect(&cases);
    eprintln!(
        "live: Complete {} cases, {} notices expected",
        cases.len(),
        live_expected.len()
    );
    let started = Instant::now();
    let (done, completed) = update_phase(
        &args,
        &channels,
        &run_id,
        Step::Complete,
        cases,
        args.live_rate,
    )
    .await?;
    let answered_at: HashMap<String, Instant> = completed
        .into_iter()
        .map(|c| (c.case.case_id, c.answered_at))
        .collect();
    let live = measured(&args, &stand_ins, done, live_expected.clone()).await?;
    let latency = notify_report::latencies(&stand_ins, &case_of, &live_expected, &answered_at)?;
    let live_last = stand_ins.with(|r| last_arrival(r, &live_expected));

    let backlog_expected = expect(&backlog_cases);
    eprintln!(
        "backlog: sends held; Complete {} cases, {} notices expected",
        backlog_cases.len(),
        backlog_expected.len()
    );
    stand_ins.set_open(false);
    let (done, _) = update_phase(
        &args,
        &channels,
        &run_id,
        Step::Complete,
        backlog_cases,
        0.0,
    )
    .await?;
    let held = measured(&args, &stand_ins, done, Vec::new()).await?;
    eprintln!(
        "backlog: letting {} notices through",
        backlog_expected.len()
    );
    let drain = drain_phase(&args, &stand_ins, &backlog_expected).await?;

    let notices_live = Drain {
        notices: live_expected.len() as u64,
        elapsed: live_last.map_or(Duration::ZERO, |t| t.saturating_duration_since(started)),
    };
    let summary = stand_ins.with(|r| (r.repeats, r.refused, r.token_fetches));
    let retries = metrics::read(&args.metrics_url, RETRIES).await;
    notify_report::print(&notify_report::Run {
        args: &args,
        submit,
        signed,
        live,
        notices_live,
        latency,
        held,
        drain,
        repeats: summary.0,
        refused: summary.1,
        token_fetches: summary.2,
        retries,
    });
    Ok(())
}

/// Opens the gate and times the drain of the held notices.
async fn drain_phase(args: &Args, stand_ins: &StandIns, expected: &[String]) -> Result<Phase> {
    let meter = Meter::start(args).await;
    let start = Instant::now();
    stand_ins.set_open(true);
    let deadline = start + args.drain_timeout;
    let arrived = wait_for(stand_ins, expected, deadline).await;
    let last = stand_ins.with(|r| last_arrival(r, expected));
    let counted = wait_for_sent(args, meter.sent, expected.len(), deadline).await;
    if !(arrived && counted) {
        eprintln!("warning: the backlog did not drain (arrived {arrived}, counted sent {counted})");
    }
    let got = stand_ins.with(|r| expected.iter().filter(|a| r.first.contains_key(*a)).count());
    let outcome = Outcome {
        ok: got as u64,
        elapsed: last.map_or(start.elapsed(), |t| t.saturating_duration_since(start)),
        ..Outcome::default()
    };
    Ok(meter.phase(args, outcome).await)
}

/// Submits the reports; each accepted report's address with its answer.
async fn submit_phase(
    args: &Args,
    stand_ins: &StandIns,
    channels: &[Channel],
    run_id: &str,
) -> Result<(Phase, HashMap<String, pb::SubmitResponse>)> {
    let (chars, percent) = (args.description_chars, args.wechat_percent);
    let run = Arc::new(run_id.to_owned());
    let meter = Meter::start(args).await;
    let start = Instant::now();
    let results = updates::drive(
        channels,
        args.in_flight,
        args.reports,
        move |channel, seq| {
            let run = Arc::clone(&run);
            async move {
                let wechat = seq % 100 < percent;
                let (request, address) = report(&run, seq, chars, wechat);
                let mut client = pb::gateway_client::GatewayClient::new(channel);
                let answer = client
                    .submit(pb::SubmitRequest {
                        request: Some(request),
                    })
                    .await;
                (address, answer.map(tonic::Response::into_inner))
            }
        },
    )
    .await?;
    let mut outcome = Outcome {
        elapsed: start.elapsed(),
        ..Outcome::default()
    };
    let mut case_of = HashMap::with_capacity(results.len());
    for (address, answer) in results {
        match answer {
            Ok(a) => {
                outcome.ok += 1;
                case_of.insert(address, a);
            }
            Err(s) => outcome.fail(format!("{:?}", s.code())),
        }
    }
    let started = Started { outcome, meter };
    Ok((
        measured(args, stand_ins, started, Vec::new()).await?,
        case_of,
    ))
}

/// A case after an update: with its new version, and when the update was answered.
struct CaseAfter {
    case: Case,
    answered_at: Instant,
}

/// `step` on every case, `--in-flight` at once and at most `rate` a second (0: unpaced); the
/// calls made (meter running) and the cases that took it, with their new versions.
async fn update_phase(
    args: &Args,
    channels: &[Channel],
    run_id: &str,
    step: Step,
    cases: Vec<Case>,
    rate: f64,
) -> Result<(Started, Vec<CaseAfter>)> {
    let meter = Meter::start(args).await;
    let start = Instant::now();
    let paced = tokio::time::Instant::from_std(start);
    let n = cases.len();
    let cases = Arc::new(cases);
    let run = Arc::new(run_id.to_owned());
    let results = updates::drive(channels, args.in_flight, n, move |channel, i| {
        let (cases, run) = (Arc::clone(&cases), Arc::clone(&run));
        async move {
            if rate > 0.0 {
                // Open loop: call i is made at its slot, whatever the answers before it took.
                tokio::time::sleep_until(paced + Duration::from_secs_f64(i as f64 / rate)).await;
            }
            let mut client = HandlingClient::new(channel);
            let case = &cases[i];
            let answer = updates::send(
                &mut client,
                updates::case_update(step, &run, case, case.version),
            )
            .await;
            (case.clone(), answer, Instant::now())
        }
    })
    .await?;
    let mut outcome = Outcome {
        elapsed: start.elapsed(),
        ..Outcome::default()
    };
    let mut after = Vec::with_capacity(results.len());
    for (mut case, answer, at) in results {
        match answer {
            Ok(o) => {
                outcome.ok += 1;
                case.version = o.case_version;
                after.push(CaseAfter {
                    case,
                    answered_at: at,
                });
            }
            Err(s) => outcome.fail(format!("{:?}", s.code())),
        }
    }
    Ok((Started { outcome, meter }, after))
}
