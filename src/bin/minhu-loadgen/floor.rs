//! `minhu-loadgen grpc-floor`: the cost of a gRPC call on this machine with no Minhu work in
//! it, as a baseline for `bench`. It drives `grpc.health.v1.Health/Check` on the gateway's own
//! port with the same connections and calls in flight as `bench` drives Submit, so the
//! difference between the two is what Minhu itself spends per report.
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::bench::CpuMeter;
use crate::ceiling::per_second;
use crate::demo;

/// What `grpc-floor` is told.
pub struct Settings {
    pub grpc: String,
    pub connections: usize,
    pub in_flight: usize,
    pub duration: Duration,
    /// The service name asked about (the gateway reports `minhu.v1.Gateway`).
    pub service: String,
}

pub async fn run(s: Settings) -> Result<()> {
    if s.connections == 0 || s.in_flight == 0 {
        bail!("--connections and --in-flight must be at least 1");
    }
    let mut clients = Vec::with_capacity(s.connections);
    for _ in 0..s.connections {
        clients.push(HealthClient::new(demo::channel(&s.grpc).await?));
    }
    let service = Arc::new(s.service);
    let meter = CpuMeter::start(&[]);
    let start = Instant::now();
    let mut workers = Vec::with_capacity(s.in_flight);
    for i in 0..s.in_flight {
        let client = clients[i % clients.len()].clone();
        workers.push(tokio::spawn(worker(
            client,
            Arc::clone(&service),
            start,
            s.duration,
        )));
    }
    let mut latency_us = crate::bench::new_histogram()?;
    let (mut ok, mut failed) = (0u64, 0u64);
    for w in workers {
        let (hist, good, bad) = w.await.context("a floor worker panicked")??;
        latency_us.add(&hist).context("merging histograms")?;
        ok += good;
        failed += bad;
    }
    let elapsed = start.elapsed();
    let cpu = meter.own();
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "grpc-floor: {ok} Health/Check calls ({failed} failed) in {:.2} s: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms{}",
        elapsed.as_secs_f64(),
        per_second(ok, elapsed),
        ms(latency_us.value_at_quantile(0.50)),
        ms(latency_us.value_at_quantile(0.99)),
        match cpu {
            Some(ticks) if ok > 0 =>
                format!(", load generator CPU {} µs per call", ticks * 10_000 / ok),
            _ => String::new(),
        }
    );
    if failed > 0 && ok == 0 {
        bail!("every Health/Check call failed");
    }
    Ok(())
}

async fn worker(
    mut client: HealthClient<Channel>,
    service: Arc<String>,
    start: Instant,
    duration: Duration,
) -> Result<(Histogram<u64>, u64, u64)> {
    let mut hist = crate::bench::new_histogram()?;
    let (mut ok, mut failed) = (0, 0);
    while start.elapsed() < duration {
        let t0 = Instant::now();
        let outcome = client
            .check(HealthCheckRequest {
                service: service.as_str().to_owned(),
            })
            .await;
        hist.saturating_record(
            u64::try_from(t0.elapsed().as_micros())
                .unwrap_or(u64::MAX)
                .max(1),
        );
        match outcome {
            Ok(_) => ok += 1,
            Err(_) => failed += 1,
        }
    }
    Ok((hist, ok, failed))
}
