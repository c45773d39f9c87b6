//! PostgreSQL for integration tests, started with `scripts/pg.sh` (Debian's package on a data
//! folder under `target/`): the shared instance `scripts/test.sh` starts (primary on 55432),
//! with a fresh database per test, or a primary and standby pair of a test's own (a failover
//! test must not stop the instance other tests use). Never skipped: without PostgreSQL the
//! script fails and says to run `scripts/install-deps.sh`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// One `scripts/pg.sh` instance: its data folder and ports.
pub struct Pg {
    dir: Option<PathBuf>,
    pub primary: u16,
    pub standby: u16,
}

impl Pg {
    /// The instance `scripts/test.sh` starts (started here if it is not running).
    pub fn shared() -> Pg {
        let pg = Pg {
            dir: None,
            primary: 55432,
            standby: 55433,
        };
        pg.run(&["start"]);
        pg
    }

    /// An instance of the test's own under `target/pg-<name>`, from scratch.
    pub fn own(name: &str, primary: u16, standby: u16) -> Pg {
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
            .join(format!("pg-{name}"));
        let pg = Pg {
            dir: Some(dir),
            primary,
            standby,
        };
        pg.run(&["destroy"]);
        pg.run(&["start"]);
        pg
    }

    /// Runs `scripts/pg.sh` with `args` on this instance; its output. Panics when it fails.
    pub fn run(&self, args: &[&str]) -> String {
        self.try_run(args).unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_run(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg.sh"));
        cmd.args(args)
            .env("MINHU_PG_PORT", self.primary.to_string())
            .env("MINHU_PG_STANDBY_PORT", self.standby.to_string());
        if let Some(d) = &self.dir {
            cmd.env("MINHU_PG_DIR", d);
        }
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run scripts/pg.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "scripts/pg.sh {} failed ({}):\n{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// An empty database `name` on the primary; its URL (primary only).
    pub fn fresh_db(&self, name: &str) -> String {
        self.run(&["fresh-db", name])
    }

    /// The URL of database `name` on both hosts, following the primary across a failover.
    pub fn failover_url(&self, name: &str) -> String {
        format!(
            "postgres://minhu@127.0.0.1:{},127.0.0.1:{}/{name}?target_session_attrs=read-write&connect_timeout=2",
            self.primary, self.standby
        )
    }

    /// A row count on the primary (`sql` returns one integer).
    pub fn count(&self, url: &str, sql: &str) -> i64 {
        let out = Command::new("psql")
            .args(["-X", "-q", "-A", "-t", "-d", url, "-c", sql])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("not a count: {}", String::from_utf8_lossy(&out.stdout)))
    }
}

impl Drop for Pg {
    /// An instance of the test's own is removed; the shared one keeps running.
    fn drop(&mut self) {
        if self.dir.is_some() {
            let _ = self.try_run(&["destroy"]);
        }
    }
}
