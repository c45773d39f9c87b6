//! `minhu-loadgen bench`: Submit throughput, delivery rate and latency of a running gateway,
//! next to the raw broker ceiling measured in the same run.
//!
//! Accepted/s counts Submit calls that returned OK. Delivered/s counts broker confirms the
//! gateway reports (`minhu_publishes_confirmed_total`, read before and after) from the first
//! Submit until the outbox is empty again (`minhu_outbox_depth` 0), so it includes the time the
//! relay needed to catch up. Other traffic on the same gateway during a run skews it.
use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use minhu::pb::{self, gateway_client::GatewayClient};
use prost::Message;
use rand::Rng;
use tonic::transport::Channel;

pub use crate::cpu_meter::CpuMeter;
use crate::{
    BenchArgs,
    bench_report::{self, GatewayResult},
    ceiling::{self, Limit},
    demo, metrics,
    sample::{location, random_point},
};

/// Reports the bench sends: (channel, share in percent, category, department-ish text).
/// The shares follow one city's figures: most reports come by phone, a few by WeChat.
const MIX: &[(pb::Channel, u32, &str, &str)] = &[
    (
        pb::Channel::Hotline12345,
        30,
        "env.fume",
        "楼下饭店油烟直接往楼上排",
    ),
    (
        pb::Channel::Hotline12345,
        20,
        "noise.construction",
        "工地夜间施工噪音很大",
    ),
    (
        pb::Channel::Hotline12345,
        15,
        "water.sewer",
        "下水道堵塞，污水漫到路上",
    ),
    (
        pb::Channel::Hotline12345,
        15,
        "road.pothole",
        "路面有个大坑，车辆经过很危险",
    ),
    (
        pb::Channel::Hotline12345,
        10,
        "labor.wage",
        "老板拖欠工资两个月",
    ),
    (pb::Channel::Wechat, 7, "", "小区门口路灯不亮好几天了"),
    (
        pb::Channel::CityManagement,
        3,
        "market.street_vendor",
        "流动摊贩占道经营",
    ),
];

const DISTRICTS: &[(&str, &str)] = &[
    ("610102", "新城区"),
    ("610103", "碑林区"),
    ("610104", "莲湖区"),
    ("610113", "雁塔区"),
];

/// A unique, realistic bench report number `seq` of run `run_id`.
pub fn request(run_id: &str, seq: u64, description_chars: usize) -> pb::Request {
    let mut rng = rand::rng();
    let total: u32 = MIX.iter().map(|m| m.1).sum();
    let mut pick = rng.random_range(0..total);
    let mut chosen = MIX[0];
    for m in MIX {
        if pick < m.1 {
            chosen = *m;
            break;
        }
        pick -= m.1;
    }
    let (channel, _, category, what) = chosen;
    let (district_code, district) = DISTRICTS[rng.random_range(0..DISTRICTS.len())];
    let building = seq % 997 + 1;
    let address = format!("{district}测试路{}号院{building}号楼", seq % 211 + 1);
    let mut description = format!("{address}{what}，已经持续好几天，请尽快处理");
    while description.chars().count() < description_chars {
        description.push_str("，影响居民正常生活");
    }
    let description: String = description.chars().take(description_chars.max(8)).collect();
    // The hotline's operators type an address; the other channels give a point.
    let at = (channel != pb::Channel::Hotline12345).then(|| random_point(&mut rng));
    let phone = format!("138{:08}", rng.random_range(0..100_000_000u32));
    pb::Request {
        channel: channel as i32,
        source_system: "minhu-loadgen".into(),
        source_id: format!("bench-{run_id}-{seq}"),
        reported_at: Some(SystemTime::now().into()),
        request_type: pb::RequestType::Complaint as i32,
        category: category.into(),
        title: String::new(),
        description,
        location: Some(location(address, district_code, at)),
        reporter: Some(pb::Reporter {
            phone,
            ..Default::default()
        }),
        attachments: Vec::new(),
        urgency: pb::Urgency::Normal as i32,
        extra: Default::default(),
    }
}

/// The encoded size of a typical `Dispatch` carrying one bench report: what the ceiling sends.
pub fn typical_dispatch_bytes(description_chars: usize) -> usize {
    let now: prost_types::Timestamp = SystemTime::now().into();
    let request = request("20261122", 42, description_chars);
    let dispatch = pb::Dispatch {
        dispatch_id: "D20261122000042-1".into(),
        kind: pb::DispatchKind::NewCase as i32,
        case: Some(pb::Case {
            case_id: "C20261122000042".into(),
            status: pb::CaseStatus::Open as i32,
            category: request.category.clone(),
            opened_at: Some(now),
            report_count: 1,
            urgency: request.urgency,
            version: 0,
        }),
        tickets: vec![pb::Ticket {
            ticket_id: "T20261122000042".into(),
            accepted_at: Some(now),
            request: Some(request),
        }],
        department_id: "urban-mgmt".into(),
        level: pb::Level::BStreet as i32,
        due_at: Some(now),
        created_at: Some(now),
        rule_id: "city-appearance".into(),
        routing_version: "sample-2026-11".into(),
        ..Default::default()
    };
    dispatch.encoded_len()
}

pub async fn run(args: BenchArgs) -> Result<()> {
    if args.connections == 0 || args.in_flight == 0 {
        bail!("--connections and --in-flight must be at least 1");
    }
    let limit = match args.count {
        Some(n) => Limit::Count(n),
        None => Limit::Duration(args.duration),
    };
    let run_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        .to_string();
    let message_bytes = args
        .ceiling
        .message_bytes
        .unwrap_or_else(|| typical_dispatch_bytes(args.description_chars));

    let gateway = if args.ceiling_only {
        None
    } else {
        Some(gateway_phase(&args, &run_id, limit).await?)
    };
    let ceiling = if args.no_ceiling {
        None
    } else {
        eprintln!(
            "ceiling: publishing {message_bytes}-byte messages to quorum queue {} (window {})",
            args.ceiling.ceiling_queue, args.ceiling.confirm_window
        );
        let meter = CpuMeter::start(&args.cpu_of);
        let c = ceiling::run(&args.ceiling, message_bytes, limit).await?;
        // The ceiling's own costs, to set beside the gateway phase's.
        let mut spent = meter.others();
        spent.push(("the ceiling publisher".to_owned(), meter.own()));
        for (name, ticks) in spent {
            if let Some(t) = ticks.filter(|_| c.confirmed > 0) {
                eprintln!(
                    "cpu: {name} spent {} µs per ceiling message",
                    t * 10_000 / c.confirmed
                );
            }
        }
        Some(c)
    };
    bench_report::report(&args, message_bytes, gateway.as_ref(), ceiling.as_ref());
    Ok(())
}

async fn gateway_phase(args: &BenchArgs, run_id: &str, limit: Limit) -> Result<GatewayResult> {
    let mut clients = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        clients.push(demo::connect(&args.gateway.grpc).await?);
    }
    let before = match metrics::fetch(&args.metrics_url).await {
        Ok(page) => metrics::sum(&page, metrics::CONFIRMED),
        Err(e) => {
            eprintln!(
                "warning: cannot read {}: {e:#}; delivered/s will be n/a",
                args.metrics_url
            );
            None
        }
    };
    eprintln!(
        "gateway: {} connections, {} in flight, {}",
        args.connections,
        args.in_flight,
        match limit {
            Limit::Count(n) => format!("{n} requests"),
            Limit::Duration(d) => format!("{:.1} s", d.as_secs_f64()),
        }
    );

    let next = Arc::new(AtomicU64::new(0));
    let meter = CpuMeter::start(&args.cpu_of);
    let start = Instant::now();
    let mut workers = Vec::with_capacity(args.in_flight);
    for i in 0..args.in_flight {
        let client = clients[i % clients.len()].clone();
        let next = Arc::clone(&next);
        let run_id = run_id.to_owned();
        let chars = args.description_chars;
        workers.push(tokio::spawn(worker(
            client, next, run_id, chars, start, limit,
        )));
    }
    let mut latency_us = new_histogram()?;
    let mut errors = BTreeMap::new();
    let mut accepted = 0;
    for w in workers {
        let (hist, errs, ok) = w.await.context("a bench worker panicked")??;
        latency_us
            .add(&hist)
            .context("merging latency histograms")?;
        for (k, v) in errs {
            *errors.entry(k).or_insert(0) += v;
        }
        accepted += ok;
    }
    let submit_elapsed = start.elapsed();
    let cpu_ticks = meter.own();
    let attempted = next.load(Ordering::Relaxed).min(match limit {
        Limit::Count(n) => n,
        Limit::Duration(_) => u64::MAX,
    });
    eprintln!(
        "gateway: {accepted} accepted in {:.1} s; waiting for the outbox to drain",
        submit_elapsed.as_secs_f64()
    );

    let mut delivered = None;
    let mut drained = false;
    if let Some(before) = before {
        let deadline = Instant::now() + args.drain_timeout;
        loop {
            match metrics::fetch(&args.metrics_url).await {
                Ok(page) => {
                    let confirmed = metrics::sum(&page, metrics::CONFIRMED).unwrap_or(before);
                    let depth = metrics::sum(&page, metrics::OUTBOX_DEPTH);
                    let delta = (confirmed - before).max(0.0) as u64;
                    delivered = Some((delta, start.elapsed()));
                    if depth == Some(0.0) {
                        drained = true;
                        break;
                    }
                }
                Err(e) => eprintln!("warning: {e:#}"),
            }
            if Instant::now() >= deadline {
                eprintln!(
                    "warning: the outbox did not drain within {:.0} s",
                    args.drain_timeout.as_secs_f64()
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(GatewayResult {
        attempted,
        accepted,
        errors,
        submit_elapsed,
        latency_us,
        delivered,
        drained,
        cpu_ticks,
        watched: meter.others(),
    })
}

type WorkerResult = Result<(Histogram<u64>, BTreeMap<String, u64>, u64)>;

async fn worker(
    mut client: GatewayClient<Channel>,
    next: Arc<AtomicU64>,
    run_id: String,
    description_chars: usize,
    start: Instant,
    limit: Limit,
) -> WorkerResult {
    let mut hist = new_histogram()?;
    let mut errors = BTreeMap::new();
    let mut ok = 0;
    loop {
        if let Limit::Duration(d) = limit
            && start.elapsed() >= d
        {
            break;
        }
        let seq = next.fetch_add(1, Ordering::Relaxed);
        if let Limit::Count(n) = limit
            && seq >= n
        {
            break;
        }
        let req = pb::SubmitRequest {
            request: Some(request(&run_id, seq, description_chars)),
        };
        let t0 = Instant::now();
        let outcome = client.submit(req).await;
        let us = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX);
        hist.saturating_record(us.max(1));
        match outcome {
            Ok(_) => ok += 1,
            Err(status) => *errors.entry(format!("{:?}", status.code())).or_insert(0) += 1,
        }
    }
    Ok((hist, errors, ok))
}

pub fn new_histogram() -> Result<Histogram<u64>> {
    // 1 µs .. 10 min, 3 significant figures.
    Histogram::new_with_bounds(1, 600_000_000, 3).context("creating a latency histogram")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_requests_are_unique_and_sized() {
        let a = request("r", 1, 60);
        let b = request("r", 2, 60);
        assert_ne!(a.source_id, b.source_id);
        assert_eq!(a.description.chars().count(), 60);
        assert!(typical_dispatch_bytes(60) > 200);
    }
}
