//! The keyed limiters stay bounded under a key-rotation flood: millions of distinct reporters.
//! Ignored by default (it takes a few seconds of CPU); run with
//! `cargo test --release --test ratelimit_memory -- --ignored --nocapture`.
use std::time::Duration;

use minhu::config::rate_limits::{Rate, RateLimitsConfig};
use minhu::pb;
use minhu::protect::RateLimits;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[test]
#[ignore]
fn three_million_distinct_reporters_stay_within_the_cap() {
    let cap = 1_000_000;
    let limits = RateLimits::new(&RateLimitsConfig {
        per_reporter: Some(Rate {
            requests: 20,
            per: Duration::from_secs(3600),
            burst: Some(5),
        }),
        max_keys: cap,
        ..Default::default()
    })
    .unwrap();
    let before = rss_kib();
    let mut req = pb::Request {
        channel: pb::Channel::Wechat as i32,
        reporter: Some(pb::Reporter::default()),
        ..Default::default()
    };
    let mut refused = 0u64;
    for i in 0..3_000_000u64 {
        if let Some(r) = req.reporter.as_mut() {
            r.phone = format!("1{i:010}");
        }
        if limits.check(&req, None).is_err() {
            refused += 1;
        }
    }
    let (keys, _) = limits.key_counts();
    let after = rss_kib();
    println!(
        "3,000,000 distinct reporters: {keys} keys tracked (cap {cap}), {refused} refused \
         (overflow bucket), RSS {before} KiB -> {after} KiB"
    );
    assert!(keys <= cap);
    // Beyond the cap all newcomers share one bucket of 5.
    assert!(refused >= 2_000_000 - 5, "{refused}");
}
