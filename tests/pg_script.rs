//! `scripts/pg.sh` (issue 17): Debian's PostgreSQL started like the broker, on data folders
//! under `target/`, a hot standby streaming from the primary, and a failover by promotion
//! that a client with the multi-host URL (`target_session_attrs=read-write`) follows. Real
//! servers, driven with the script and `psql`; the test's own folder and ports, so a
//! developer's instance is left alone.
//!
//! Never skipped: without PostgreSQL the script fails and says to run
//! `scripts/install-deps.sh`.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const PRIMARY: &str = "55442";
const STANDBY: &str = "55443";

fn data_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("pg-script-test")
}

fn pg(args: &[&str]) -> Output {
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg.sh"))
        .args(args)
        .env("MINHU_PG_DIR", data_dir())
        .env("MINHU_PG_PORT", PRIMARY)
        .env("MINHU_PG_STANDBY_PORT", STANDBY)
        .output()
        .expect("run scripts/pg.sh");
    assert!(
        out.status.success(),
        "scripts/pg.sh {} failed ({}):\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One statement through `psql` on `conninfo` (a URL); its single value.
fn sql(conninfo: &str, statement: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            conninfo,
            "-c",
            statement,
        ])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "{what} within 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Stops both servers and removes the folder, also when an assertion failed half-way.
struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg.sh"))
            .arg("destroy")
            .env("MINHU_PG_DIR", data_dir())
            .env("MINHU_PG_PORT", PRIMARY)
            .env("MINHU_PG_STANDBY_PORT", STANDBY)
            .output();
    }
}

#[test]
fn a_standby_follows_the_primary_and_takes_over_when_promoted() {
    pg(&["destroy"]);
    let _cleanup = Cleanup;
    pg(&["start"]);
    pg(&["start"]); // idempotent
    let primary = format!("postgres://minhu@127.0.0.1:{PRIMARY}/minhu");
    let standby = format!("postgres://minhu@127.0.0.1:{STANDBY}/minhu");
    assert_eq!(
        sql(&primary, "SHOW synchronous_commit").as_deref(),
        Ok("on")
    );
    sql(&primary, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)").expect("write");

    pg(&["standby"]);
    until("the standby has the primary's row", || {
        sql(&standby, "SELECT count(*) FROM t").as_deref() == Ok("1")
    });
    assert_eq!(
        sql(&standby, "SELECT pg_is_in_recovery()").as_deref(),
        Ok("t")
    );
    assert!(
        sql(&standby, "INSERT INTO t VALUES (2)").is_err(),
        "a standby refuses writes"
    );
    sql(&primary, "INSERT INTO t VALUES (2)").expect("write");
    until("the standby streams the next row", || {
        sql(&standby, "SELECT count(*) FROM t").as_deref() == Ok("2")
    });

    // The primary dies; the standby is promoted; the multi-host URL finds the writable one.
    pg(&["kill", "primary"]);
    pg(&["promote"]);
    let url = String::from_utf8_lossy(&pg(&["url"]).stdout)
        .trim()
        .to_owned();
    assert!(url.contains("target_session_attrs=read-write"), "{url}");
    until("the promoted standby takes writes through the URL", || {
        sql(&url, "INSERT INTO t VALUES (3)").is_ok()
    });
    assert_eq!(
        sql(
            &url,
            "SELECT count(*) || ' on ' || inet_server_port() FROM t"
        )
        .as_deref(),
        Ok(format!("3 on {STANDBY}").as_str())
    );
}
