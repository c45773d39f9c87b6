//! The command line as operators use it: `check-config`, `routes test`, environment overrides
//! and `--help`. Runs the real binary.
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

fn minhu(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = common::gateway::minhu_command();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .expect("run minhu")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Writes `routing` as `dir/routing.toml` with the files the sample refers to beside it.
fn write_routing(dir: &Path, routing: &str) {
    common::routing::copy_companions(dir);
    std::fs::write(dir.join("routing.toml"), routing).unwrap();
}

#[test]
fn the_shipped_config_checks_clean() {
    let o = minhu(&["check-config"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("routing version sample-2026-11"));
}

#[test]
fn the_shipped_routing_tests_pass() {
    let o = minhu(&["routes", "test", "config/routing.test.toml"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(" passed, 0 failed"), "{}", text(&o));
}

#[test]
fn a_failing_routing_case_shows_a_diff_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.toml");
    std::fs::write(
        &cases,
        "[[case]]\nname = \"pothole\"\nrequest = { channel = \"HOTLINE_12345\", category = \"road.pothole\", description = \"坑\" }\nexpect = { department = \"water\", level = \"C\" }\n",
    )
    .unwrap();
    let o = minhu(&["routes", "test", &cases.to_string_lossy()], &[]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("FAIL  pothole")
            && t.contains("department         want water")
            && t.contains("got  roads"),
        "{t}"
    );
    assert!(t.contains("0 passed, 1 failed"), "{t}");
}

#[test]
fn every_problem_is_reported_with_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let routing = std::fs::read_to_string(repo("config/routing.toml"))
        .unwrap()
        .replace(
            "department = \"roads\"\nlevel = \"C\"\ndeadline_working_days = 5",
            "department = \"road\"\nlevel = \"X\"\ndeadline_working_days = 5",
        );
    write_routing(dir.path(), &routing);
    let service = "[amqp]\nurl = \"http://broker\"\nconfirm_window = 0\n[store]\nmax_batch = 0\n";
    std::fs::write(dir.path().join("minhu.toml"), service).unwrap();
    let o = minhu(
        &[
            "--config",
            &dir.path().join("minhu.toml").to_string_lossy(),
            "check-config",
        ],
        &[],
    );
    assert!(!o.status.success());
    let t = text(&o);
    for want in [
        "minhu.toml:2: amqp.url: must start with amqp://",
        "minhu.toml:3: amqp.confirm_window: must be at least 1",
        "minhu.toml:5: store.max_batch: must be at least 1",
        "routing.toml:",
        ": rule[",
        "].department: unknown department \"road\"",
        "].level: \"X\" is not a level",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
}

#[test]
fn unknown_keys_are_errors() {
    refused_naming("[amqp]\nurll = \"amqp://x\"\n", "urll");
}

#[test]
fn environment_overrides_reach_the_config() {
    // A bad value through the environment is caught by the same validation.
    let o = minhu(&["check-config"], &[("MINHU_AMQP__URL", "ftp://nowhere")]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("amqp.url: must start with amqp://"),
        "{}",
        text(&o)
    );
    let o = minhu(
        &["check-config"],
        &[("MINHU_GRPC__LISTEN", "not-an-address")],
    );
    assert!(!o.status.success(), "{}", text(&o));
    let o = minhu(
        &["check-config"],
        &[
            ("MINHU_AMQP__URL", "amqp://u:p@10.0.0.1:5672/city"),
            ("MINHU_GRPC__LISTEN", "127.0.0.1:60051"),
            ("MINHU_HTTP__LISTEN", "127.0.0.1:60080"),
            ("MINHU_STORE__PATH", "/tmp/minhu-env-test.db"),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    // An unknown MINHU_ variable is an unknown key, not silently ignored.
    let o = minhu(&["check-config"], &[("MINHU_AMQP__URLL", "amqp://x")]);
    assert!(!o.status.success(), "{}", text(&o));
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["check-config", "--help"],
        vec!["routes", "test", "--help"],
        vec!["calendar", "show", "--help"],
        vec!["calendar", "import", "--help"],
    ] {
        let o = minhu(&args, &[]);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("Usage"), "{args:?}");
    }
}

/// `check-config` on a service file with `service` as its content and the sample routing.
fn check_config(service: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    write_routing(
        dir.path(),
        &std::fs::read_to_string(repo("config/routing.toml")).unwrap(),
    );
    std::fs::write(dir.path().join("minhu.toml"), service).unwrap();
    minhu(
        &[
            "--config",
            &dir.path().join("minhu.toml").to_string_lossy(),
            "check-config",
        ],
        &[],
    )
}

/// Asserts that `check-config` refuses `service` and names `want`.
fn refused_naming(service: &str, want: &str) {
    let o = check_config(service);
    assert!(!o.status.success(), "accepted:\n{service}\n{}", text(&o));
    assert!(text(&o).contains(want), "{want:?} not named:\n{}", text(&o));
}

#[test]
fn bad_adapter_sections_fail_check_config() {
    refused_naming(
        "[adapters.wechat]\nenabled = true\ntoken = \"t\"\nencoding_aes_key = \"too-short\"\napp_id = \"wx1\"\n",
        "adapters.wechat.encoding_aes_key",
    );
    refused_naming(
        &format!(
            "[adapters.citymgmt]\nenabled = true\ntaxonomy = {:?}\n[[adapters.citymgmt.class_codes]]\nkind = \"event\"\nmajor = \"01\"\ncategory = \"no.such.category\"\n",
            repo("config/taxonomy.toml").display().to_string()
        ),
        "no.such.category",
    );
    refused_naming(
        "[adapters.hotline12345]\nenabled = true\n[adapters.hotline12345.sources.xian]\nfields = { gdbh = \"no_such_canonical_field\" }\n",
        "adapters.hotline12345",
    );
    refused_naming(
        "[adapters.emergency]\nenabled = true\n[[adapters.emergency.centres]]\nid = \"xian-119\"\ntoken_sha256 = \"not-a-digest\"\nlines = [\"119\"]\n",
        "adapters.emergency",
    );
    // Disabled sections are not checked, and an empty file is the defaults.
    assert!(
        check_config("[adapters.emergency]\nenabled = false\n")
            .status
            .success()
    );
    assert!(check_config("").status.success());
}
