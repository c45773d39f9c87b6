//! Rate limits (GCRA, `governor`): per reporter, per calling system and per channel, checked
//! after validation and before the store (so before the idempotency lookup: a replay counts,
//! since a retry storm is a flood too, and the ticket it replays is already safe on disk).
//!
//! Checked most specific first and stopping at the first refusal, so a flooding citizen is
//! refused on their own key and spends nothing of their system's or channel's budget: one
//! reporter's flood cannot crowd out another reporter. Emergency transfers are never limited.
//!
//! Reporter keys are a salted SHA-256 of the identifier (salt drawn at start, never logged),
//! truncated to 128 bits: the limiter's memory holds no phone numbers, and the keys cannot be
//! reversed by hashing every phone number.
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed, StateStore};
use governor::{Quota, RateLimiter};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::metrics as m;
use crate::config::rate_limits::RateLimitsConfig;
use crate::intake::pipeline::is_emergency;
use crate::pb;

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Reporter,
    System,
    Channel,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Reporter => "reporter",
            Scope::System => "system",
            Scope::Channel => "channel",
        }
    }
}

/// A refusal: which limit, and how long until a retry can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub scope: Scope,
    pub retry_after: Duration,
}

/// A keyed state store with a hard cap on keys. Known keys keep their own state; a new key
/// arriving while the map is full shares one overflow state, so a flood of distinct keys
/// costs no memory beyond the cap (and is itself limited, as one key).
pub struct CappedStore<K: Hash + Eq + Clone> {
    map: DashMap<K, InMemoryState>,
    overflow: InMemoryState,
    cap: usize,
}

impl<K: Hash + Eq + Clone> CappedStore<K> {
    fn new(cap: usize) -> Self {
        Self {
            map: DashMap::new(),
            overflow: InMemoryState::default(),
            cap,
        }
    }
}

impl<K: Hash + Eq + Clone> StateStore for CappedStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if self.map.contains_key(key) || self.map.len() < self.cap {
            return self.map.measure_and_replace(key, f);
        }
        m::RATE_LIMIT_OVERFLOW.fetch_add(1, Relaxed);
        self.overflow.measure_and_replace(&NotKeyed::NonKey, f)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for CappedStore<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        ShrinkableKeyedStateStore::retain_recent(&self.map, drop_below);
    }

    fn shrink_to_fit(&self) {
        self.map.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

type Keyed<K> = RateLimiter<K, CappedStore<K>, DefaultClock>;

fn keyed<K: Hash + Eq + Clone>(quota: Quota, cap: usize, clock: &DefaultClock) -> Keyed<K> {
    RateLimiter::new(quota, CappedStore::new(cap), clock.clone())
}

/// The configured limits. Share as `Arc<RateLimits>`.
pub struct RateLimits {
    reporter: Option<Keyed<[u8; 16]>>,
    system: Option<Keyed<String>>,
    channel: Option<Keyed<i32>>,
    salt: [u8; 16],
    clock: DefaultClock,
    sweep_interval: Duration,
}

/// Refusals by scope, for the metrics.
static REFUSED: [&AtomicU64; 3] = [
    &m::RATE_LIMITED_REPORTER,
    &m::RATE_LIMITED_SYSTEM,
    &m::RATE_LIMITED_CHANNEL,
];

impl RateLimits {
    /// None when no rule is configured (nothing to check).
    pub fn new(cfg: &RateLimitsConfig) -> Option<Arc<Self>> {
        let clock = DefaultClock::default();
        let q = |r: &Option<crate::config::rate_limits::Rate>| r.as_ref().and_then(|r| r.quota());
        let limits = Self {
            reporter: q(&cfg.per_reporter).map(|q| keyed(q, cfg.max_keys, &clock)),
            system: q(&cfg.per_system).map(|q| keyed(q, cfg.max_keys, &clock)),
            channel: q(&cfg.per_channel).map(|q| keyed(q, cfg.max_keys, &clock)),
            salt: rand::random(),
            clock,
            sweep_interval: cfg.sweep_interval,
        };
        let any = limits.reporter.is_some() || limits.system.is_some() || limits.channel.is_some();
        any.then(|| Arc::new(limits))
    }

    /// Checks (and on success spends) one request against every limit that applies. `caller` is
    /// the authenticated identity, which, when present, is the system key.
    pub fn check(&self, req: &pb::Request, caller: Option<&str>) -> Result<(), Limited> {
        if is_emergency(req.channel) {
            return Ok(());
        }
        let refused = |scope: Scope, nu: governor::NotUntil<_>| {
            REFUSED[scope as usize].fetch_add(1, Relaxed);
            Limited {
                scope,
                retry_after: nu.wait_time_from(self.clock.now()),
            }
        };
        if let (Some(l), Some(r)) = (&self.reporter, &req.reporter) {
            for (kind, value) in [
                ("phone", r.phone.as_str()),
                ("openid", r.wechat_openid.as_str()),
                ("email", r.email.as_str()),
            ] {
                let value = value.trim();
                if value.is_empty() {
                    continue;
                }
                l.check_key(&self.reporter_key(kind, value))
                    .map_err(|nu| refused(Scope::Reporter, nu))?;
            }
        }
        if let Some(l) = &self.system {
            let key = caller.unwrap_or(&req.source_system).to_owned();
            l.check_key(&key).map_err(|nu| refused(Scope::System, nu))?;
        }
        if let Some(l) = &self.channel {
            l.check_key(&req.channel)
                .map_err(|nu| refused(Scope::Channel, nu))?;
        }
        Ok(())
    }

    fn reporter_key(&self, kind: &str, value: &str) -> [u8; 16] {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(kind.as_bytes());
        h.update([0]);
        // E-mail addresses are case-insensitive in practice; one citizen is one key.
        h.update(value.to_lowercase().as_bytes());
        let d = h.finalize();
        let mut k = [0u8; 16];
        k.copy_from_slice(&d[..16]);
        k
    }

    /// Drops idle keys (those whose bucket has refilled) and records the key counts.
    pub fn sweep(&self) {
        if let Some(l) = &self.reporter {
            l.retain_recent();
            l.shrink_to_fit();
            m::RATE_LIMIT_KEYS_REPORTER.store(l.len() as u64, Relaxed);
        }
        if let Some(l) = &self.system {
            l.retain_recent();
            l.shrink_to_fit();
            m::RATE_LIMIT_KEYS_SYSTEM.store(l.len() as u64, Relaxed);
        }
    }

    /// Keys tracked now: (reporters, systems).
    pub fn key_counts(&self) -> (usize, usize) {
        (
            self.reporter.as_ref().map_or(0, |l| l.len()),
            self.system.as_ref().map_or(0, |l| l.len()),
        )
    }

    /// Sweeps every `sweep_interval` until `stop`.
    pub async fn run_sweeper(self: Arc<Self>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(self.sweep_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => self.sweep(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::rate_limits::Rate;

    fn req(channel: pb::Channel, phone: &str, system: &str) -> pb::Request {
        pb::Request {
            channel: channel as i32,
            source_system: system.into(),
            reporter: Some(pb::Reporter {
                phone: phone.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn rate(requests: u32, burst: u32) -> Option<Rate> {
        Some(Rate {
            requests,
            per: Duration::from_secs(3600),
            burst: Some(burst),
        })
    }

    #[test]
    fn one_reporters_flood_spends_only_their_own_budget() {
        let cfg = RateLimitsConfig {
            per_reporter: rate(3, 3),
            per_system: rate(10, 10),
            ..Default::default()
        };
        let l = RateLimits::new(&cfg).unwrap();
        let flood = req(pb::Channel::Wechat, "13800000001", "sys");
        let ok = (0..100).filter(|_| l.check(&flood, None).is_ok()).count();
        assert_eq!(ok, 3);
        let err = l.check(&flood, None).unwrap_err();
        assert_eq!(err.scope, Scope::Reporter);
        assert!(err.retry_after > Duration::from_secs(60), "{err:?}");
        // The refused flood spent nothing of the system's budget: 7 more from others pass.
        for i in 0..7 {
            let other = req(pb::Channel::Wechat, &format!("1390000000{i}"), "sys");
            assert!(l.check(&other, None).is_ok(), "reporter {i}");
        }
        let eleventh = req(pb::Channel::Wechat, "13700000000", "sys");
        assert_eq!(l.check(&eleventh, None).unwrap_err().scope, Scope::System);
        // The authenticated identity, not the claimed source_system, is the system key.
        assert!(l.check(&eleventh, Some("caller-b")).is_ok());
    }

    #[test]
    fn emergency_transfers_are_never_limited() {
        let cfg = RateLimitsConfig {
            per_reporter: rate(1, 1),
            per_channel: rate(1, 1),
            ..Default::default()
        };
        let l = RateLimits::new(&cfg).unwrap();
        let r = req(pb::Channel::Emergency120, "13800000001", "sys");
        for _ in 0..50 {
            assert!(l.check(&r, None).is_ok());
        }
    }

    #[test]
    fn no_rule_means_no_limiter() {
        assert!(RateLimits::new(&RateLimitsConfig::default()).is_none());
    }

    #[test]
    fn keys_stay_bounded_and_overflow_shares_one_bucket() {
        let cfg = RateLimitsConfig {
            per_reporter: rate(2, 2),
            max_keys: 1000,
            ..Default::default()
        };
        let l = RateLimits::new(&cfg).unwrap();
        let known = req(pb::Channel::Wechat, "13811111111", "sys");
        assert!(l.check(&known, None).is_ok());
        // A key-rotation flood: 100k distinct reporters.
        let mut passed = 0;
        for i in 0..100_000u32 {
            if l.check(&req(pb::Channel::Wechat, &format!("1{i:010}"), "sys"), None)
                .is_ok()
            {
                passed += 1;
            }
        }
        let (reporters, _) = l.key_counts();
        assert!(reporters <= 1000, "{reporters} keys tracked");
        // 999 tracked newcomers got their burst of 2; the rest shared one bucket of 2.
        assert_eq!(passed, 999 + 2);
        // A reporter known before the flood keeps their own budget.
        assert!(l.check(&known, None).is_ok());
        assert_eq!(l.check(&known, None).unwrap_err().scope, Scope::Reporter);
    }

    #[test]
    fn sweeping_drops_idle_keys() {
        let cfg = RateLimitsConfig {
            per_reporter: Some(Rate {
                requests: 1000,
                per: Duration::from_millis(100),
                burst: Some(1),
            }),
            ..Default::default()
        };
        let l = RateLimits::new(&cfg).unwrap();
        for i in 0..500u32 {
            let _ = l.check(&req(pb::Channel::Wechat, &format!("1{i:010}"), "s"), None);
        }
        assert_eq!(l.key_counts().0, 500);
        std::thread::sleep(Duration::from_millis(20));
        l.sweep();
        assert_eq!(l.key_counts().0, 0);
    }

    #[test]
    fn reporter_keys_are_salted_hashes() {
        let l = RateLimits::new(&RateLimitsConfig {
            per_reporter: rate(1, 1),
            ..Default::default()
        })
        .unwrap();
        let k = l.reporter_key("phone", "13812345678");
        let plain = Sha256::digest(b"13812345678");
        assert_ne!(&k[..], &plain[..16]);
        assert_eq!(
            l.reporter_key("email", "A@x.cn"),
            l.reporter_key("email", "a@x.cn")
        );
    }
}
