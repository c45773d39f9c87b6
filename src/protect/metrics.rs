//! The protection layer's counters, appended to `GET /metrics` ([`render`]). Process-wide
//! statics, like the mailbox's: one gateway per process.
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub static RATE_LIMITED_REPORTER: AtomicU64 = AtomicU64::new(0);
pub static RATE_LIMITED_SYSTEM: AtomicU64 = AtomicU64::new(0);
pub static RATE_LIMITED_CHANNEL: AtomicU64 = AtomicU64::new(0);
/// Checks of new keys that found a keyed limiter full and used the shared overflow bucket.
pub static RATE_LIMIT_OVERFLOW: AtomicU64 = AtomicU64::new(0);
/// Keys tracked after the last sweep.
pub static RATE_LIMIT_KEYS_REPORTER: AtomicU64 = AtomicU64::new(0);
pub static RATE_LIMIT_KEYS_SYSTEM: AtomicU64 = AtomicU64::new(0);
/// Requests refused for missing or wrong credentials (401 / UNAUTHENTICATED).
pub static AUTH_UNAUTHENTICATED: AtomicU64 = AtomicU64::new(0);
/// Requests refused for a channel or source system the caller may not use (403).
pub static AUTH_DENIED: AtomicU64 = AtomicU64::new(0);

/// Prometheus text for the counters above.
pub fn render() -> String {
    let mut out = String::new();
    let name = "minhu_rate_limited_total";
    let _ = writeln!(
        out,
        "# HELP {name} Submits refused by a rate limit, by scope.\n# TYPE {name} counter"
    );
    for (scope, v) in [
        ("reporter", &RATE_LIMITED_REPORTER),
        ("system", &RATE_LIMITED_SYSTEM),
        ("channel", &RATE_LIMITED_CHANNEL),
    ] {
        let _ = writeln!(out, "{name}{{scope=\"{scope}\"}} {}", v.load(Relaxed));
    }
    let name = "minhu_rate_limit_keys";
    let _ = writeln!(
        out,
        "# HELP {name} Keys tracked by a keyed limiter after the last sweep.\n# TYPE {name} gauge"
    );
    for (scope, v) in [
        ("reporter", &RATE_LIMIT_KEYS_REPORTER),
        ("system", &RATE_LIMIT_KEYS_SYSTEM),
    ] {
        let _ = writeln!(out, "{name}{{scope=\"{scope}\"}} {}", v.load(Relaxed));
    }
    for (name, help, v) in [
        (
            "minhu_rate_limit_overflow_total",
            "New keys checked against the shared overflow bucket (limiter full).",
            &RATE_LIMIT_OVERFLOW,
        ),
        (
            "minhu_auth_unauthenticated_total",
            "Requests refused for missing or wrong credentials.",
            &AUTH_UNAUTHENTICATED,
        ),
        (
            "minhu_auth_denied_total",
            "Requests refused: channel or source system not allowed for the caller.",
            &AUTH_DENIED,
        ),
    ] {
        crate::telemetry::metrics::write_scalar(&mut out, "counter", name, help, v.load(Relaxed));
    }
    out
}
