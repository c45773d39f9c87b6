//! `[rate_limits]`: how often a calling system, a reporter and a channel may submit. Emergency
//! transfers are never limited. Each rule is off when absent:
//!
//! ```toml
//! [rate_limits]
//! per_reporter = { requests = 20, per = "1h", burst = 5 }
//! per_system = { requests = 6000, per = "1m", burst = 1000 }
//! per_channel = { requests = 60000, per = "1m", burst = 10000 }
//! max_keys = 1000000
//! sweep_interval = "1m"
//! ```
use std::num::NonZeroU32;
use std::time::Duration;

use serde::Deserialize;

use super::problem::Problems;

/// Rate limit settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitsConfig {
    /// One citizen (keyed by a salted hash of the phone number, WeChat openid or e-mail
    /// address; each present identifier is limited on its own). Off when absent.
    pub per_reporter: Option<Rate>,
    /// One calling system: the authenticated caller when `[auth]` is on, else the request's
    /// `source_system`. Off when absent.
    pub per_system: Option<Rate>,
    /// One channel (WeChat, 12345, mailbox, ...), all callers together. Off when absent.
    pub per_channel: Option<Rate>,
    /// Most keys one limiter tracks (reporters or systems). Keys idle for longer than their
    /// burst takes to refill are swept every `sweep_interval`; if the cap is still reached,
    /// every further new key shares ONE overflow bucket with the same rate until a sweep frees
    /// room (known keys keep their own), so memory stays bounded under key-rotation floods.
    pub max_keys: usize,
    /// How often idle keys are swept from the keyed limiters.
    #[serde(with = "humantime_serde")]
    pub sweep_interval: Duration,
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        Self {
            per_reporter: None,
            per_system: None,
            per_channel: None,
            max_keys: 1_000_000,
            sweep_interval: Duration::from_secs(60),
        }
    }
}

/// A rate: `requests` per `per` on average, with up to `burst` at once.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Requests allowed per `per` on average.
    pub requests: u32,
    /// The period, e.g. `"1m"` or `"1h"`.
    #[serde(with = "humantime_serde")]
    pub per: Duration,
    /// Requests allowed back to back before the average applies; defaults to `requests`.
    #[serde(default)]
    pub burst: Option<u32>,
}

impl Rate {
    /// The `governor` quota; None when the rate is unusable (see [`RateLimitsConfig::check`]).
    pub fn quota(&self) -> Option<governor::Quota> {
        let requests = NonZeroU32::new(self.requests)?;
        let burst = NonZeroU32::new(self.burst.unwrap_or(self.requests))?;
        let interval = self.per.checked_div(requests.get())?;
        governor::Quota::with_period(interval).map(|q| q.allow_burst(burst))
    }
}

impl RateLimitsConfig {
    /// Records every problem under `rate_limits.*`.
    pub fn check(&self, p: &mut Problems) {
        for (key, rate) in [
            ("rate_limits.per_reporter", &self.per_reporter),
            ("rate_limits.per_system", &self.per_system),
            ("rate_limits.per_channel", &self.per_channel),
        ] {
            let Some(r) = rate else { continue };
            if r.requests == 0 {
                p.add(format!("{key}.requests"), "must be at least 1");
            }
            if r.burst == Some(0) {
                p.add(format!("{key}.burst"), "must be at least 1");
            }
            if r.per.is_zero() {
                p.add(format!("{key}.per"), "must be longer than 0s");
            } else if r.requests > 0 && r.quota().is_none() {
                p.add(
                    format!("{key}.per"),
                    "too short for that many requests (under 1ns each)",
                );
            }
        }
        if self.max_keys == 0 {
            p.add("rate_limits.max_keys", "must be at least 1");
        }
        if self.sweep_interval.is_zero() {
            p.add("rate_limits.sweep_interval", "must be longer than 0s");
        }
    }
}
