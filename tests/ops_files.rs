//! The operations files in `deploy/` stay true to the gateway: `promtool` accepts the alert
//! rules and their unit tests, the Grafana dashboard parses and has panels with queries, and
//! every metric either file names is one a running gateway renders at `/metrics`, so renaming
//! a metric breaks this test instead of a city's dashboards.
//!
//! The systemd units in `deploy/systemd` pass `systemd-analyze verify` without a word about
//! them, and stop later than the gateway's own shutdown can take. (The guides' TOML examples,
//! `docs/deployment.md`'s among them, are checked by `tests/docs.rs`.)
//!
//! `promtool` comes from Debian's `prometheus` package (`scripts/install-deps.sh`),
//! `systemd-analyze` from `systemd` (on the machine image); without them these tests fail
//! rather than skip, as every test does in CI.
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::broker::TestVhost;
use common::gateway::{Gateway, Options};

/// Metrics the files may use that come from other exporters, with where they come from.
const EXTERNAL: [(&str, &str); 1] = [(
    "rabbitmq_queue_messages",
    "RabbitMQ's rabbitmq_prometheus plugin (per-object metrics)",
)];

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Runs `promtool` with `args` in `deploy/prometheus`, failing the test with its output.
fn promtool(args: &[&str]) {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(deploy("prometheus"))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run promtool ({e}): install Debian's `prometheus` package \
                 (scripts/install-deps.sh does)"
            )
        });
    assert!(
        out.status.success(),
        "promtool {} failed:\n{}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every `minhu_…` and `rabbitmq_…` identifier in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut names = BTreeSet::new();
    for prefix in ["minhu_", "rabbitmq_"] {
        for (at, _) in text.match_indices(prefix) {
            if text[..at].chars().next_back().is_some_and(word) {
                continue;
            }
            let name: String = text[at..].chars().take_while(|c| word(*c)).collect();
            names.insert(name);
        }
    }
    names
}

/// The metric families a `/metrics` body declares (`# TYPE name kind`), whether or not a
/// sample is present right now (labelled families may have none yet).
fn rendered(body: &str) -> BTreeSet<String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn alert_rules_and_dashboard_check_and_name_only_rendered_metrics() {
    promtool(&["check", "rules", "alerts.yml"]);
    promtool(&["test", "rules", "alerts_test.yml"]);

    let alerts = read(&deploy("prometheus/alerts.yml"));
    // Comments may name other things (the `rabbitmq_prometheus` plugin); rules and
    // annotations may not name a metric that does not exist.
    let uncommented: String = alerts
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let dashboard_text = read(&deploy("grafana/minhu.json"));
    let dashboard: serde_json::Value =
        serde_json::from_str(&dashboard_text).expect("deploy/grafana/minhu.json is JSON");
    let panels = dashboard["panels"].as_array().expect("a panels array");
    let queries: Vec<String> = panels
        .iter()
        .filter(|p| p["type"] != "row")
        .map(|p| {
            let exprs: Vec<&str> = p["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["expr"].as_str())
                .collect();
            assert!(!exprs.is_empty(), "panel {} has no query", p["title"]);
            exprs.join("\n")
        })
        .collect();
    assert!(queries.len() >= 10, "only {} panels", queries.len());

    let vhost = TestVhost::new("opsfiles");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let known = rendered(&gw.http_get("/metrics").await.expect("/metrics answers"));
    assert!(known.contains("minhu_relay_last_confirm_age_seconds"));

    for (file, names) in [
        ("deploy/prometheus/alerts.yml", metric_names(&uncommented)),
        (
            "deploy/grafana/minhu.json",
            metric_names(&queries.join("\n")),
        ),
    ] {
        assert!(!names.is_empty(), "{file} names no metric");
        let unknown: Vec<_> = names
            .iter()
            .filter(|n| !known.contains(*n) && !EXTERNAL.iter().any(|(e, _)| e == n))
            .collect();
        assert!(
            unknown.is_empty(),
            "{file} uses metrics the gateway does not render: {unknown:?}"
        );
    }
}

/// Where the units expect the binary (`install -m 0755 target/release/minhu /usr/local/bin/`).
const INSTALLED_BIN: &str = "/usr/local/bin/minhu";

/// Every `*.service` file in `deploy/systemd`, sorted.
fn unit_files() -> Vec<PathBuf> {
    let dir = deploy("systemd");
    let mut units: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "service"))
        .collect();
    units.sort();
    units
}

/// The value of `key=` in `unit` (the last one wins, as in systemd).
fn directive<'a>(unit: &'a str, key: &str) -> Option<&'a str> {
    unit.lines()
        .filter_map(|l| l.trim().strip_prefix(key)?.strip_prefix('='))
        .next_back()
        .map(str::trim)
}

/// `systemd-analyze verify` on each unit, copied into a temporary folder with the installed
/// binary's path replaced by the one Cargo built (verify checks that every Exec command
/// exists and is executable). systemd only warns about an unknown directive or a value it
/// cannot parse, and still exits 0, so anything it says about the unit fails the test too.
#[test]
fn systemd_units_verify() {
    let units = unit_files();
    assert!(!units.is_empty(), "no unit in deploy/systemd");
    for unit in units {
        let name = unit
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        let text = read(&unit);
        assert!(
            text.contains(INSTALLED_BIN),
            "{name}: the units run {INSTALLED_BIN}"
        );
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join(&name);
        std::fs::write(
            &copy,
            text.replace(INSTALLED_BIN, env!("CARGO_BIN_EXE_minhu")),
        )
        .unwrap();
        // --man=no: no man pages are looked up for Documentation=; --recursive-errors=no: units
        // this one is ordered after (the machine's own) are not ours to judge.
        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no", "--recursive-errors=no"])
            .arg(&copy)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run systemd-analyze ({e}): install Debian's `systemd` package \
                     (apt-get install systemd; the project's machine image has it, so \
                     scripts/install-deps.sh does not install it)"
                )
            });
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let about_unit: Vec<&str> = said.lines().filter(|l| l.contains(&name)).collect();
        assert!(
            out.status.success() && about_unit.is_empty(),
            "systemd-analyze verify deploy/systemd/{name} ({}):\n{said}",
            out.status
        );
    }
}

/// systemd must not SIGKILL a gateway that is still shutting down the way `src/server.rs`
/// does with the default timeouts: gRPC and HTTP drained one after the other, notices under
/// way, the outbox flush, the confirms in flight.
#[test]
fn systemd_units_wait_for_the_graceful_stop() {
    let shutdown = minhu::config::service::ShutdownConfig::default();
    let amqp = minhu::config::service::AmqpConfig::default();
    let longest = shutdown.drain_timeout * 3 + shutdown.flush_timeout + amqp.confirm_timeout;
    for unit in unit_files() {
        let text = read(&unit);
        let name = unit.display();
        assert_eq!(directive(&text, "KillSignal"), Some("SIGTERM"), "{name}");
        let stop = directive(&text, "TimeoutStopSec")
            .unwrap_or_else(|| panic!("{name} sets no TimeoutStopSec"));
        let secs: u64 = stop
            .strip_suffix('s')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{name}: write TimeoutStopSec in seconds, e.g. 90s"));
        assert!(
            std::time::Duration::from_secs(secs) > longest,
            "{name}: TimeoutStopSec={stop} is not longer than the graceful stop ({longest:?})"
        );
    }
}
