//! `minhu check-config`, `routes test` and `routes explain` on routing files with mistakes,
//! as operators run them. Runs the real binary.
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

fn minhu(config: &Path, args: &[&str]) -> Output {
    let mut cmd = common::gateway::minhu_command();
    cmd.arg("--config")
        .arg(config)
        .args(args)
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

/// A config folder with the sample routing edited by `edit`; returns the service file.
fn setup(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    common::routing::copy_companions(dir);
    let routing = edit(common::routing::sample_text());
    std::fs::write(dir.join("routing.toml"), routing).unwrap();
    std::fs::write(dir.join("minhu.toml"), "").unwrap();
    dir.join("minhu.toml")
}

/// The 1-based line of the first occurrence of `needle` in `dir/routing.toml`.
fn line_of(dir: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(dir.join("routing.toml")).unwrap();
    text[..text.find(needle).expect("needle in file")]
        .matches('\n')
        .count()
        + 1
}

#[test]
fn check_config_names_file_line_and_key_of_every_routing_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let config = setup(dir.path(), |t| {
        t.replace(
            "id = \"fallen-trees\"\ncategories = [\"tree.\"]",
            "id = \"fallen-trees\"\ncategories = [\"tree.[\"]",
        )
        .replace(
            "id = \"fire-lane-parking\"\ncategories = [\"traffic.\"]",
            "id = \"roads\"\ncategories = [\"traffic.\"]",
        )
        .replace("  id = \"water-sewer\"\n  department = \"water\"\n  level = \"C\"\n  deadline_working_days = 3\n",
                 "  id = \"water-sewer\"\n  department = \"water\"\n  level = \"C\"\n  deadline_working_days = 3\n\n  [[rule.rule]]\n  id = \"never\"\n  categories = [\"water.x\"]\n  text_regex = \"(\"\n  department = \"water\"\n  level = \"C\"\n")
        .replace("id = \"greening\"\nname = \"园林绿化局\"", "id = \"greening\"\nname = \"园林绿化局\"\n\n[[department]]\nid = \"nobody-routes-here\"\nname = \"无人派单\"")
    });
    let o = minhu(&config, &["check-config"]);
    assert!(!o.status.success());
    let t = text(&o);
    let file = dir.path().join("routing.toml").display().to_string();
    for want in [
        "rule[9].categories[0]: \"tree.[\" is not a valid glob",
        "rule[8].id: rule id \"roads\" is used twice",
        "rule[1].rule[3]: rule \"never\" can never match: rule \"water-sewer\" before it matches everything",
        "rule[1].rule[3].text_regex: not a valid regular expression",
        "rule[1].rule[3]: missing deadline",
        "department \"nobody-routes-here\" is unreachable",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
    assert!(t.starts_with("6 configuration problems"), "{t}");
    // Lines: the regex problem is reported on the regex's own line.
    let line = line_of(dir.path(), "  text_regex = \"(\"");
    assert!(
        t.contains(&format!("{file}:{line}: rule[1].rule[3].text_regex")),
        "line {line} not named:\n{t}"
    );
    let line = line_of(dir.path(), "\"tree.[\"");
    assert!(
        t.contains(&format!("{file}:{line}: rule[9].categories[0]")),
        "{t}"
    );
}

#[test]
fn a_missing_calendar_year_is_a_warning_and_a_malformed_file_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = setup(dir.path(), |t| t);
    // Only a file for 2025: whatever today is (the clock is not moved here), its year has no
    // official file, so deadlines are provisional and the config passes with a warning.
    std::fs::remove_file(dir.path().join("calendar/2026.toml")).unwrap();
    std::fs::write(dir.path().join("calendar/2025.toml"), "year = 2025\n").unwrap();
    let o = minhu(&config, &["check-config"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("warning: rule["), "{t}");
    assert!(t.contains("which has no official calendar yet"), "{t}");
    // A malformed calendar file is named with its own path and key.
    std::fs::write(
        dir.path().join("calendar/2026.toml"),
        "year = 2026\nmake_up_workdays = [{ name = \"x\", date = 2026-11-25 }]\n",
    )
    .unwrap();
    let o = minhu(&config, &["check-config"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("2026.toml:2: make_up_workdays[0].date: 2026-11-25 is a weekday already"),
        "{t}"
    );
}

#[test]
fn routes_test_shows_every_mismatched_flag_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let config = setup(dir.path(), |t| t);
    let cases = dir.path().join("cases.toml");
    std::fs::write(
        &cases,
        "at = 2026-11-23T10:00:00+08:00\n[[case]]\nname = \"barbecue\"\nrequest = { channel = \"WECHAT\", description = \"楼下烧烤摊油烟太大，有人烫伤受伤\" }\n\
         expect = { department = \"eco-env\", co_handlers = [], linkage = [\"119\"], inferred_category = \"noise.commercial\", due = 2026-11-24T10:00:00+08:00 }\n",
    )
    .unwrap();
    let o = minhu(&config, &["routes", "test", &cases.to_string_lossy()]);
    assert!(!o.status.success());
    let t = text(&o);
    for want in [
        "FAIL  barbecue",
        "co_handlers        want []",
        "got  [urban-mgmt]",
        "linkage            want [119]",
        "got  [120]",
        "inferred_category  want noise.commercial",
        "got  env.fume",
        "due                want 2026-11-24T10:00:00+08:00",
        "got  2026-12-10T10:00:00+08:00",
        "0 passed, 1 failed",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
}

#[test]
fn routes_explain_shows_each_rule_and_condition() {
    let dir = tempfile::tempdir().unwrap();
    let config = setup(dir.path(), |t| t);
    let req = dir.path().join("request.json");
    std::fs::write(
        &req,
        r#"{"channel":"CHANNEL_HOTLINE_12345","category":"noise.construction","description":"工地夜间打桩，燃气管道附近有很浓的燃气味","location":{"districtCode":"610104"}}"#,
    )
    .unwrap();
    let o = minhu(
        &config,
        &[
            "routes",
            "explain",
            &req.to_string_lossy(),
            "--at",
            "2026-11-23T23:30:00+08:00",
        ],
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for want in [
        "routing version sample-2026-11, accepted at 2026-11-23T23:30:00+08:00",
        "no    emergency-lines",
        "✗ channels       CHANNEL_HOTLINE_12345 in",
        "MATCH noise",
        "MATCH construction-noise-night",
        "✓ time_of_day    23:30 in 22:00-06:00",
        "MATCH construction-noise-night-patrol",
        "decision: eco-env (level C, due 2026-11-24T11:30:00+08:00) by construction-noise-night",
        "co-handler: urban-mgmt",
        // The lead's chain, step by step; the co-handler's by id.
        "reason:   rule construction-noise-night\nescalation standard:\n  1. unsigned for 2 working hours → leader",
        "  2. red → district\n",
        "by construction-noise-night-patrol, escalation standard\n",
        "EMERGENCY LINKAGE: line 119 — 燃气泄漏 (rule linkage-gas-leak)",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
    // By day the night rules say why they did not match.
    let t = text(&minhu(
        &config,
        &[
            "routes",
            "explain",
            &req.to_string_lossy(),
            "--at",
            "2026-11-23T10:00:00+08:00",
        ],
    ));
    assert!(t.contains("✗ time_of_day    10:00 in 22:00-06:00"), "{t}");
    assert!(
        t.contains(
            "decision: eco-env (level C, due 2026-11-26T10:00:00+08:00) by construction-noise"
        ),
        "{t}"
    );
    // A bad request file is a clear error with a distinct exit code.
    std::fs::write(&req, r#"{"channel":"CHANNEL_NOPE"}"#).unwrap();
    let o = minhu(&config, &["routes", "explain", &req.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("CHANNEL_NOPE"), "{}", text(&o));
}

#[test]
fn routes_test_checks_each_cases_escalation_chain_and_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    // The roads rule opts out of the default chain.
    let config = setup(dir.path(), |t| {
        t.replace(
            "id = \"roads\"\ncategories = [\"road.*\"]\ndepartment = \"roads\"\nlevel = \"C\"\ndeadline_working_days = 5\n",
            "id = \"roads\"\ncategories = [\"road.*\"]\ndepartment = \"roads\"\nlevel = \"C\"\ndeadline_working_days = 5\nescalation = \"\"\n",
        )
    });
    let cases = dir.path().join("cases.toml");
    let write = |cases_text: &str| {
        std::fs::write(
            &cases,
            format!("at = 2026-11-23T10:00:00+08:00\n{cases_text}"),
        )
        .unwrap()
    };
    let pothole = "request = { channel = \"CITY_MANAGEMENT\", category = \"road.pothole\", description = \"路面塌陷\" }\n";
    let outage = "request = { channel = \"HOTLINE_12345\", category = \"water.outage\", urgency = \"CRITICAL\", description = \"医院停水\" }\n";
    let vendor = "request = { channel = \"HOTLINE_12345\", category = \"market.street_vendor\", description = \"占道经营\" }\n";
    let right = format!(
        "[[case]]\nname = \"pothole\"\n{pothole}expect = {{ escalation = \"\" }}\n\
         [[case]]\nname = \"outage\"\n{outage}expect = {{ escalation = \"urgent\" }}\n\
         [[case]]\nname = \"vendor\"\n{vendor}expect = {{ escalation = \"standard\" }}\n"
    );
    write(&right);
    let o = minhu(&config, &["routes", "test", &cases.to_string_lossy()]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for want in [
        "ok    outage\n        escalation urgent:\n          1. unsigned for 1 working hour → district, again every 1 working hour while it holds, at most 3 sends\n          2. red → city\n",
        "ok    vendor\n        escalation standard:\n          1. unsigned for 2 working hours → leader",
        "          4. returned 2 times → city\n",
        // No chain, nothing to print.
        "ok    pothole\nok    outage",
        "3 passed, 0 failed",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }

    // Each wrong expectation is a want/got row, and the decided chain is shown.
    let wrong = format!(
        "[[case]]\nname = \"pothole\"\n{pothole}expect = {{ escalation = \"standard\" }}\n\
         [[case]]\nname = \"outage\"\n{outage}expect = {{ escalation = \"standard\" }}\n\
         [[case]]\nname = \"vendor\"\n{vendor}expect = {{ escalation = \"\" }}\n"
    );
    write(&wrong);
    let o = minhu(&config, &["routes", "test", &cases.to_string_lossy()]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    for want in [
        "FAIL  pothole\n        escalation         want standard\n                           got  \n",
        "FAIL  outage\n        escalation         want standard\n                           got  urgent\n        escalation urgent:\n",
        "FAIL  vendor\n        escalation         want \n                           got  standard\n",
        "0 passed, 3 failed",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
}
