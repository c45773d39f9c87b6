//! A moved wall clock for child processes (the gateway, `check-config`, the load generator),
//! with libfaketime, so tests about dates (calendar years, deadlines) never depend on today.
//!
//! The library is preloaded directly rather than through the `faketime` command: that command
//! forks and waits, so a SIGTERM or SIGKILL meant for the gateway would reach only the wrapper
//! and leave the gateway running on its ports (seen with libfaketime 0.9.10).
//!
//! Tests that need it never skip: without libfaketime they fail and say how to install it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

const HOW_TO_INSTALL: &str = "scripts/install-deps.sh installs it (Debian package `faketime`); \
    tests that move the clock never skip";

/// Where Debian-like systems and a source install put the library.
fn library() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("faketime/libfaketime.so.1"))
        .collect();
    candidates.extend(
        [
            "/usr/lib/faketime/libfaketime.so.1",
            "/usr/lib64/faketime/libfaketime.so.1",
            "/usr/local/lib/faketime/libfaketime.so.1",
        ]
        .map(PathBuf::from),
    );
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("libfaketime (libfaketime.so.1) is not installed; {HOW_TO_INSTALL}")
        })
}

/// Seconds since the epoch of `at`, read as the `faketime` command reads its argument (GNU
/// `date -d`), e.g. `2026-12-28 10:00 +08:00`.
fn epoch_of(at: &str) -> f64 {
    let out = Command::new("date")
        .args(["-d", at, "+%s.%N"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run `date` to read the fake time {at:?}: {e}"));
    assert!(
        out.status.success(),
        "`date -d {at:?}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("`date -d {at:?}` printed {text:?}: {e}"))
}

fn real_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

/// A wall clock that started at a given instant and runs at normal speed. It is kept as an
/// offset from the real clock, so every process given it (a gateway and its restarts, a
/// client) reads the same time, and a restarted gateway finds its clock where it left it.
#[derive(Debug, Clone)]
pub struct FakeClock {
    library: PathBuf,
    /// Seconds added to the real clock (libfaketime's relative `FAKETIME` form).
    offset: f64,
}

impl FakeClock {
    /// A clock that reads `at` now (any form `faketime` accepts; give the offset, e.g.
    /// `2027-12-20 10:00 +08:00`, since the machine's time zone is not the city's).
    pub fn starting_at(at: &str) -> FakeClock {
        let clock = FakeClock {
            library: library(),
            offset: epoch_of(at) - real_now(),
        };
        clock.check(at);
        clock
    }

    /// Runs `cmd` on this clock. The monotonic clock stays real: tokio's timers (timeouts,
    /// debouncing, heartbeats) must not jump.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env("LD_PRELOAD", &self.library)
            .env("FAKETIME", format!("{:+.3}", self.offset))
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    }

    /// A preload that fails is only a warning of the dynamic loader, and the child would run on
    /// the real clock: check once that `date` reads the fake time.
    fn check(&self, at: &str) {
        let mut date = Command::new("date");
        date.arg("+%s");
        self.apply(&mut date);
        let out = date.output().expect("run date under libfaketime");
        let seen: f64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0.0);
        let wanted = real_now() + self.offset;
        assert!(
            (seen - wanted).abs() < 60.0,
            "libfaketime ({}) does not move the clock: `date` under it read {seen}, wanted about \
             {wanted} ({at}); stderr: {}; {HOW_TO_INSTALL}",
            self.library.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
