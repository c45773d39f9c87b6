//! The operations files in `deploy/` stay true to the gateway: `promtool` accepts the alert
//! rules and their unit tests, the Grafana dashboard parses and has panels with queries, and
//! every metric either file names is one a running gateway renders at `/metrics`, so renaming
//! a metric breaks this test instead of a city's dashboards.
//!
//! `promtool` comes from Debian's `prometheus` package (`scripts/install-deps.sh`); without it
//! this test fails rather than skips, as every test does in CI.
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
