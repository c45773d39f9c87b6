//! A moved wall clock for child processes (the gateway, `check-config`, the load generator),
//! with libfaketime, so tests about dates (calendar years, deadlines) never depend on today.
//!
//! The `faketime` command only works out the environment (which library to preload, the
//! offset from the real clock); the children are started with that environment directly. Run
//! through the command, they would be its children, not ours: it forks and waits, so a SIGTERM
//! or SIGKILL meant for the gateway would reach only the wrapper and leave the gateway running
//! on its ports (seen with libfaketime 0.9.10).
//!
//! libfaketime 0.9.10 gives every process it runs in a semaphore and a shared-memory object in
//! `/dev/shm` named after its pid, removed when the process exits, but not when it is killed;
//! and the `faketime` command refuses to run (`sem_open: File exists`) when its own pid's are
//! left over. So a gateway killed with SIGKILL has its objects removed ([`forget_killed`]), and
//! the command is asked again when it met another's leftovers.
//!
//! Tests that need it never skip: without libfaketime they fail and say how to install it.
#![allow(dead_code)]

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

const HOW_TO_INSTALL: &str = "scripts/install-deps.sh installs it (Debian package `faketime`); \
    tests that move the clock never skip";

fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A wall clock that started at a given instant and runs at normal speed. libfaketime keeps it
/// as an offset from the real clock, so every process given it (a gateway and its restarts, a
/// client) reads the same time, and a restarted gateway finds its clock where it left it.
#[derive(Debug, Clone)]
pub struct FakeClock {
    /// `LD_PRELOAD` and `FAKETIME` as the `faketime` command sets them.
    env: Vec<(String, String)>,
}

impl FakeClock {
    /// A clock that reads `at` now: any form the `faketime` command takes. Give the offset,
    /// e.g. `2027-12-20 10:00 +08:00`, since the machine's time zone is not the city's.
    pub fn starting_at(at: &str) -> FakeClock {
        let mut attempts = 0;
        let out = loop {
            let out = Command::new("faketime")
                .args([at, "env"])
                .output()
                .unwrap_or_else(|e| panic!("cannot run `faketime` ({e}); {HOW_TO_INSTALL}"));
            let stderr = String::from_utf8_lossy(&out.stderr);
            attempts += 1;
            // Leftovers of a killed process that had this pid: the next try gets another pid.
            let leftovers = stderr.contains("sem_open") || stderr.contains("shm_open");
            if out.status.success() || !leftovers || attempts == 20 {
                assert!(
                    out.status.success(),
                    "`faketime {at:?} env` failed ({}): {stderr}",
                    out.status
                );
                break out;
            }
        };
        let env: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| matches!(*k, "LD_PRELOAD" | "FAKETIME"))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(
            env.len(),
            2,
            "`faketime {at:?} env` set no LD_PRELOAD or FAKETIME: {env:?}"
        );
        let clock = FakeClock { env };
        clock.check(at);
        clock
    }

    /// A clock the test moves while the processes run ([`FakeClock::move_to`]): libfaketime
    /// reads its offset from the real clock out of a file, again every second. Starts at `at`
    /// (seconds since the epoch).
    pub fn movable(file: &std::path::Path, at: i64) -> FakeClock {
        let started = FakeClock::starting_at(&format!("@{at}"));
        let preload = started
            .env
            .iter()
            .find(|(k, _)| k == "LD_PRELOAD")
            .map(|(_, v)| v.clone())
            .expect("LD_PRELOAD");
        let clock = FakeClock {
            env: vec![
                ("LD_PRELOAD".into(), preload),
                ("FAKETIME_TIMESTAMP_FILE".into(), file.display().to_string()),
                ("FAKETIME_CACHE_DURATION".into(), "1".into()),
            ],
        };
        clock.move_to(at);
        clock
    }

    /// Moves a [`FakeClock::movable`] clock to `at` (seconds since the epoch); processes on it
    /// see the new time within a second or two.
    pub fn move_to(&self, at: i64) {
        let file = self
            .env
            .iter()
            .find(|(k, _)| k == "FAKETIME_TIMESTAMP_FILE")
            .map(|(_, v)| v.clone())
            .expect("move_to needs a movable clock");
        let offset = at - real_now();
        let text = if offset >= 0 {
            format!("+{offset}\n")
        } else {
            format!("{offset}\n")
        };
        // Written whole and renamed, so libfaketime never reads half a line.
        let tmp = format!("{file}.tmp");
        std::fs::write(&tmp, text).expect("write the faketime file");
        std::fs::rename(&tmp, &file).expect("move the faketime file");
    }

    /// Runs `cmd` on this clock. The monotonic clock stays real: tokio's timers (timeouts,
    /// debouncing, heartbeats) must not jump.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    }

    /// A library that cannot be preloaded is only a warning of the dynamic loader, and the
    /// child would run on the real clock: check once that `date` reads the fake time.
    fn check(&self, at: &str) {
        let wanted = Command::new("date")
            .args(["-d", at, "+%s"])
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<i64>()
                    .ok()
            })
            .unwrap_or_else(|| panic!("`date -d {at:?}` cannot read the fake time"));
        let mut date = Command::new("date");
        date.arg("+%s");
        self.apply(&mut date);
        let out = date.output().expect("run date under libfaketime");
        let seen: i64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        // A minute's slack: the clock runs on between the two readings.
        assert!(
            (seen - wanted).abs() < 60,
            "libfaketime does not move the clock ({:?}): `date` under it read {seen}, wanted \
             about {wanted} ({at}), real {}; stderr: {}; {HOW_TO_INSTALL}",
            self.env,
            real_now(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Removes what libfaketime left in `/dev/shm` for process `pid`, which was killed with SIGKILL
/// and not yet reaped (so that no new process can have its pid yet).
pub fn forget_killed(pid: u32) {
    for name in [
        format!("/dev/shm/faketime_shm_{pid}"),
        format!("/dev/shm/sem.faketime_sem_{pid}"),
    ] {
        let _ = std::fs::remove_file(name);
    }
}
