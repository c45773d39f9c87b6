//! The time source of the closed loop's clocks. The scheduler and the store's light decisions
//! read the time from a [`SharedClock`], so tests move time instead of waiting for it. The
//! running gateway uses [`SystemClock`]; integration tests move the whole process's clock with
//! libfaketime (`tests/common/faketime.rs`) instead, which needs no override in the binary.
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Tells the time, ms since the epoch.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_ms(&self) -> i64;
}

/// A clock shared by the scheduler and the store.
pub type SharedClock = Arc<dyn Clock>;

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::time::now_ms()
    }
}

/// A clock that stands still until moved (tests).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(at_ms: i64) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(at_ms)))
    }

    pub fn set(&self, at_ms: i64) {
        self.0.store(at_ms, Ordering::SeqCst);
    }

    pub fn advance(&self, by_ms: i64) {
        self.0.fetch_add(by_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
