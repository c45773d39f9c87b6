//! What `minhu-loadgen notify` measured, and its Markdown table: each phase's count, rate, ratio
//! to Submit's rate and CPU per operation, then the live notices' latency and what the CPU per
//! notice comes to once the completions' own cost is taken out.
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::Result;
use hdrhistogram::Histogram;
use minhu::pb;

pub use crate::updates_report::Phase;
use crate::{bench, ceiling::per_second, notify::Args, notify_standins::StandIns};

/// Microseconds of CPU per `n` operations, from ticks of 10 ms.
fn us_per(ticks: Option<u64>, n: u64) -> Option<f64> {
    ticks
        .filter(|_| n > 0)
        .map(|t| t as f64 * 10_000.0 / n as f64)
}

/// Notices that arrived while cases were being completed: how many, and from the first
/// `Complete` until the last of them arrived.
pub struct Drain {
    pub notices: u64,
    pub elapsed: Duration,
}

/// From a case's `Complete` answer to its notices' arrival at the stand-ins.
pub struct Latency {
    pub us: Histogram<u64>,
    /// Notices that arrived before their case's `Complete` answer reached the load generator
    /// (counted as 1 µs): the notifier wakes on the commit, before the answer is sent.
    pub early: u64,
    /// Expected notices that never arrived.
    pub missing: u64,
}

/// The latency of each notice in `expected` (addresses), from its case's `Complete` answer.
pub fn latencies(
    stand_ins: &StandIns,
    case_of: &HashMap<String, pb::SubmitResponse>,
    expected: &[String],
    answered_at: &HashMap<String, Instant>,
) -> Result<Latency> {
    let mut l = Latency {
        us: bench::new_histogram()?,
        early: 0,
        missing: 0,
    };
    stand_ins.with(|r| {
        for address in expected {
            let done = case_of
                .get(address)
                .and_then(|a| answered_at.get(&a.case_id));
            let (Some(arrived), Some(done)) = (r.first.get(address), done) else {
                l.missing += 1;
                continue;
            };
            match arrived.checked_duration_since(*done) {
                Some(d) => {
                    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
                    l.us.saturating_record(us.max(1));
                }
                None => {
                    l.early += 1;
                    l.us.saturating_record(1);
                }
            }
        }
    });
    Ok(l)
}

/// Everything one run measured.
pub struct Run<'a> {
    pub args: &'a Args,
    pub submit: Phase,
    pub signed: Phase,
    /// `Complete` with the stand-ins answering (CPU includes sending the notices).
    pub live: Phase,
    pub notices_live: Drain,
    pub latency: Latency,
    /// `Complete` with every send held (CPU: the completions and the planned notices only).
    pub held: Phase,
    /// The held notices let through.
    pub drain: Phase,
    pub repeats: u64,
    pub refused: u64,
    pub token_fetches: u64,
    pub retries: Option<f64>,
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.digits$}"))
}

pub fn print(run: &Run<'_>) {
    let args = run.args;
    let when = prost_types::Timestamp::from(std::time::SystemTime::now()).to_string();
    let when = when.get(..16).unwrap_or(&when).replace('T', " ");
    let submit_rate = per_second(run.submit.ok, run.submit.elapsed);
    let names: Vec<&str> = run.submit.watched.iter().map(|(n, _)| n.as_str()).collect();

    println!();
    let pace = if args.live_rate > 0.0 {
        format!("live completions paced at {}/s", args.live_rate)
    } else {
        "live completions unpaced".to_owned()
    };
    println!(
        "notify: {} reports ({} % WeChat, the rest SMS), {} in flight over {} connections, {pace}; finished {when} UTC",
        args.reports, args.wechat_percent, args.in_flight, args.connections
    );
    for (name, p) in [
        ("Submit", &run.submit),
        ("SignFor", &run.signed),
        ("Complete (live)", &run.live),
        ("Complete (held)", &run.held),
    ] {
        for (code, n) in &p.failed {
            println!("{name}: {n} refused with {code}");
        }
    }
    let mut head = "| phase | counted | count | per second | ÷ Submit/s |".to_owned();
    for n in &names {
        head.push_str(&format!(" {n} CPU µs each |"));
    }
    head.push_str(" load generator CPU µs each | store commits each |");
    println!();
    println!("{head}");
    println!(
        "|---|---|---|---|---|{}---|---|",
        "---|".repeat(names.len())
    );
    // (phase, what one operation is, count, span for the rate, CPU phase)
    let rows: [(&str, &str, u64, Duration, &Phase); 6] = [
        (
            "Submit",
            "accepted report",
            run.submit.ok,
            run.submit.elapsed,
            &run.submit,
        ),
        (
            "SignFor",
            "update",
            run.signed.ok,
            run.signed.elapsed,
            &run.signed,
        ),
        (
            "Complete, senders answering",
            "case",
            run.live.ok,
            run.live.elapsed,
            &run.live,
        ),
        (
            "— its notices",
            "notice arrived",
            run.notices_live.notices,
            run.notices_live.elapsed,
            &run.live,
        ),
        (
            "Complete, sends held",
            "case",
            run.held.ok,
            run.held.elapsed,
            &run.held,
        ),
        (
            "held notices let through",
            "notice arrived",
            run.drain.ok,
            run.drain.elapsed,
            &run.drain,
        ),
    ];
    for (phase, counted, n, span, cpu) in rows {
        let rate = per_second(n, span);
        let mut row = format!(
            "| {phase} | {counted} | {n} | {rate:.0} | {} |",
            fmt((submit_rate > 0.0).then(|| rate / submit_rate), 2)
        );
        for (_, ticks) in &cpu.watched {
            row.push_str(&format!(" {} |", fmt(us_per(*ticks, n), 0)));
        }
        row.push_str(&format!(" {} |", fmt(us_per(cpu.own, n), 0)));
        let commits = cpu.commits.filter(|_| n > 0).map(|c| c / n as f64);
        row.push_str(&format!(" {} |", fmt(commits, 3)));
        println!("{row}");
    }

    println!();
    let ms = |us: u64| us as f64 / 1000.0;
    let l = &run.latency;
    println!(
        "latency, Complete answered → notice at the stand-in (live): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} notices ({} arrived before the answer, {} missing)",
        ms(l.us.value_at_quantile(0.50)),
        ms(l.us.value_at_quantile(0.99)),
        ms(l.us.max()),
        l.us.len(),
        l.early,
        l.missing
    );
    // The live phase's CPU less what the same number of completions cost with sends held: a
    // difference of two noisy figures, so only for the gateway (the others spend ~0 on either).
    for (i, name) in names.iter().enumerate().filter(|(_, n)| **n == "gateway") {
        let live = run.live.watched.get(i).and_then(|w| w.1);
        let held = us_per(run.held.watched.get(i).and_then(|w| w.1), run.held.ok);
        if let (Some(live), Some(per_case)) = (live, held) {
            let notices = run.notices_live.notices.max(1) as f64;
            let extra = (live as f64 * 10_000.0 - per_case * run.live.ok as f64) / notices;
            println!(
                "cpu: {name} spent {extra:.0} µs per live notice beyond its completion ({per_case:.0} µs per completion with sends held)"
            );
        }
    }
    println!(
        "stand-ins: {} repeated notices, {} refused requests, {} WeChat token fetches; minhu_notices_retries_total {}",
        run.repeats,
        run.refused,
        run.token_fetches,
        fmt(run.retries, 0)
    );
}
