//! What `minhu-loadgen bench` measured of the gateway, and the Markdown table it prints beside
//! the broker ceiling's rate.
use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime},
};

use hdrhistogram::Histogram;

use crate::{
    BenchArgs,
    ceiling::{CeilingResult, per_second},
};

/// What the gateway phase measured.
pub struct GatewayResult {
    pub attempted: u64,
    pub accepted: u64,
    pub errors: BTreeMap<String, u64>,
    pub submit_elapsed: Duration,
    pub latency_us: Histogram<u64>,
    /// (confirms counted, time from first Submit until the outbox was empty); None when
    /// /metrics could not be read.
    pub delivered: Option<(u64, Duration)>,
    pub drained: bool,
    /// This process's CPU ticks (1/100 s) spent while submitting; None off Linux.
    pub cpu_ticks: Option<u64>,
    /// CPU ticks of each `--cpu-of` process from the first Submit until the outbox drained.
    pub watched: Vec<(String, Option<u64>)>,
}

pub fn report(
    args: &BenchArgs,
    message_bytes: usize,
    gateway: Option<&GatewayResult>,
    ceiling: Option<&CeilingResult>,
) {
    let ms = |us: u64| format!("{:.1}", us as f64 / 1000.0);
    let na = || "n/a".to_owned();
    let when = prost_types::Timestamp::from(SystemTime::now()).to_string();
    let when = when.get(..19).unwrap_or(&when).replace('T', " ");

    let (accepted_s, delivered_s, p50, p99, max, requests) = match gateway {
        Some(g) => (
            format!("{:.0}", per_second(g.accepted, g.submit_elapsed)),
            g.delivered
                .filter(|_| g.drained)
                .map_or_else(na, |(n, d)| format!("{:.0}", per_second(n, d))),
            ms(g.latency_us.value_at_quantile(0.50)),
            ms(g.latency_us.value_at_quantile(0.99)),
            ms(g.latency_us.max()),
            g.accepted.to_string(),
        ),
        None => (na(), na(), na(), na(), na(), na()),
    };
    let ceiling_s = ceiling.map_or_else(na, |c| format!("{:.0}", c.rate()));
    let ratio = match (
        gateway.and_then(|g| g.delivered.filter(|_| g.drained)),
        ceiling,
    ) {
        (Some((n, d)), Some(c)) if c.rate() > 0.0 => {
            format!("{:.0} %", 100.0 * per_second(n, d) / c.rate())
        }
        _ => na(),
    };

    println!();
    if let Some(g) = gateway {
        println!(
            "gateway: {} submitted, {} accepted in {:.2} s",
            g.attempted,
            g.accepted,
            g.submit_elapsed.as_secs_f64()
        );
        for (code, n) in &g.errors {
            println!("gateway: {n} refused with {code}");
        }
        match g.delivered {
            Some((n, d)) => println!(
                "gateway: {n} publishes confirmed in {:.2} s{}",
                d.as_secs_f64(),
                if g.drained {
                    ""
                } else {
                    " (outbox NOT drained: delivered/s is n/a)"
                }
            ),
            None => println!("gateway: delivered unknown (/metrics unreadable)"),
        }
        let confirmed = g.delivered.map_or(0, |(n, _)| n);
        for (name, ticks) in &g.watched {
            match ticks {
                Some(t) if confirmed > 0 => println!(
                    "cpu: {name} spent {} µs per delivered ticket, {} µs per accepted ticket",
                    t * 10_000 / confirmed,
                    t * 10_000 / g.accepted.max(1)
                ),
                _ => println!("cpu: {name}: unknown"),
            }
        }
        if let Some(ticks) = g.cpu_ticks.filter(|_| g.attempted > 0) {
            println!(
                "cpu: the load generator spent {} µs per Submit",
                ticks * 10_000 / g.attempted
            );
        }
    }
    if let Some(c) = ceiling {
        println!(
            "ceiling: {} published, {} confirmed, {} nacked, {} returned, {} failed in {:.2} s",
            c.published,
            c.confirmed,
            c.nacked,
            c.returned,
            c.failed,
            c.elapsed.as_secs_f64()
        );
    }
    println!();
    println!(
        "| when (UTC) | connections | in flight | msg bytes | accepted | accepted/s | delivered/s | p50 ms | p99 ms | max ms | ceiling/s | delivered/ceiling |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {when} | {} | {} | {message_bytes} | {requests} | {accepted_s} | {delivered_s} | {p50} | {p99} | {max} | {ceiling_s} | {ratio} |",
        args.connections, args.in_flight
    );
}
