//! Routing decisions and config checks on small inline files and on the shipped sample.
//! Its helpers and `BASE` file serve `tree_tests.rs` and `coverage_tests.rs` too.
use std::path::{Path, PathBuf};

use super::Router;
use super::calendar::days_from_civil;
use crate::config::routing::RoutingConfig;
use crate::pb;

/// Monday 2026-11-23, 10:00 in Shanghai (02:00 UTC), in ms.
pub(super) const MON_10AM: i64 = 1_795_399_200_000;

#[test]
fn mon_10am_is_what_it_says() {
    assert_eq!(
        MON_10AM,
        (days_from_civil(2026, 11, 23) * 24 + 2) * 3_600_000
    );
}

pub(super) fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

pub(super) fn compile_at(text: &str, now: i64) -> Result<Router, crate::config::ConfigError> {
    let cfg: RoutingConfig = toml::from_str(text).expect("test routing parses");
    Router::compile_at(&cfg, &config_dir().join("routing.toml"), text, now)
}

pub(super) fn compile(text: &str) -> Result<Router, crate::config::ConfigError> {
    compile_at(text, MON_10AM)
}

pub(super) const BASE: &str = r#"
version = "t1"
[fallback]
department = "centre"
level = "D"
deadline_working_days = 3
[[department]]
id = "centre"
name = "协调中心"
[[department]]
id = "roads"
name = "道路"
routing_key = "custom.roads"
[[department]]
id = "fire"
name = "消防"
[[rule]]
id = "fire-line"
channels = ["EMERGENCY_119"]
department = "fire"
level = "C"
deadline_hours = 4
[[rule]]
id = "roads"
categories = ["road."]
districts = ["610104"]
department = "roads"
level = "C"
deadline_working_days = 5
"#;

pub(super) fn req(channel: pb::Channel, category: &str, district: &str) -> pb::Request {
    pb::Request {
        channel: channel as i32,
        category: category.into(),
        description: "x".into(),
        location: Some(pb::Location {
            district_code: district.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn first_matching_rule_decides_else_fallback() {
    let r = compile(BASE).unwrap();
    let d = r
        .route(
            &req(pb::Channel::Hotline12345, "road.pothole", "610104"),
            MON_10AM,
        )
        .decision;
    assert_eq!(
        (
            d.department_id.as_str(),
            d.routing_key.as_str(),
            d.rule_id.as_str()
        ),
        ("roads", "custom.roads", "roads")
    );
    assert_eq!(d.level, pb::Level::CDistrict);
    assert_eq!(d.routing_version, "t1");
    // Five working days from Monday 10:00 is the next Monday 10:00.
    assert_eq!(d.due_at_ms, MON_10AM + 7 * 86_400_000);
    let d = r
        .route(
            &req(pb::Channel::Emergency119, "road.pothole", "610104"),
            MON_10AM,
        )
        .decision;
    assert_eq!(d.department_id, "fire");
    assert_eq!(d.due_at_ms, MON_10AM + 4 * 3_600_000);
    let routed = r.route(
        &req(pb::Channel::Hotline12345, "road.pothole", "610102"),
        MON_10AM,
    );
    assert_eq!(
        (
            routed.decision.department_id.as_str(),
            routed.decision.rule_id.as_str()
        ),
        ("centre", "fallback")
    );
    assert_eq!(routed.reason, "no rule matched");
}

#[test]
fn every_problem_is_reported_at_once() {
    let bad = BASE
        .replace("department = \"roads\"\nlevel = \"C\"", "department = \"nowhere\"\nlevel = \"Z\"")
        .replace("channels = [\"EMERGENCY_119\"]", "channels = [\"EMERGENCY_999\"]")
        .replace("categories = [\"road.\"]", "categories = [\"road.[\"]")
        .replace("districts = [\"610104\"]", "districts = [\"6101\"]\nstreets = [\"61010400\"]\ntext_regex = \"(\"\ntime_of_day = \"25:00-01:00\"")
        + "\n[[rule]]\nid = \"fire-line\"\ndepartment = \"centre\"\nlevel = \"A\"\n";
    let err = compile(&bad).unwrap_err();
    let text = err.to_string();
    for want in [
        "rule[0].channels[0]: unknown channel \"EMERGENCY_999\"",
        "rule[1].districts[0]: \"6101\" is not a 6-digit district",
        "rule[1].streets[0]: \"61010400\" is not a 9-digit street",
        "rule[1].categories[0]: \"road.[\" is not a valid glob",
        "rule[1].text_regex: not a valid regular expression",
        "rule[1].time_of_day: \"25:00-01:00\" is not a time range",
        "rule[1].department: unknown department \"nowhere\"",
        "rule[1].level: \"Z\" is not a level",
        "rule[2].id: rule id \"fire-line\" is used twice",
        "rule[2]: missing deadline",
        "department[1]: department \"roads\" is unreachable",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

#[test]
fn rules_after_a_catch_all_are_flagged_within_the_tree() {
    let text = BASE.replace("channels = [\"EMERGENCY_119\"]\n", "");
    let err = compile(&text).unwrap_err().to_string();
    assert!(
        err.contains(
            "rule \"roads\" can never match: rule \"fire-line\" before it matches everything"
        ),
        "{err}"
    );
    let nested = BASE.to_owned()
        + "[[rule.rule]]\nid = \"all-roads\"\ndepartment = \"roads\"\nlevel = \"B\"\ndeadline_hours = 1\n\
           [[rule.rule]]\nid = \"never\"\nkeywords = [\"x\"]\ndepartment = \"roads\"\nlevel = \"B\"\ndeadline_hours = 1\n";
    let err = compile(&nested).unwrap_err().to_string();
    assert!(
        err.contains("rule[1].rule[1]: rule \"never\" can never match: rule \"all-roads\""),
        "{err}"
    );
}

#[test]
fn the_shipped_sample_compiles_and_routes_by_category() {
    let path = config_dir().join("routing.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cfg: RoutingConfig = toml::from_str(&text).unwrap();
    let r = Router::compile_at(&cfg, &path, &text, MON_10AM).unwrap();
    let d = r.route(
        &req(pb::Channel::Hotline12345, "env.fume", "610104"),
        MON_10AM,
    );
    assert_eq!(d.decision.department_id, "eco-env");
    let mut wechat = req(pb::Channel::Wechat, "", "610104");
    wechat.description = "路口井盖不见了".into();
    let routed = r.route(&wechat, MON_10AM);
    assert_eq!(routed.decision.department_id, "roads");
    assert!(
        routed.inferred.is_some(),
        "WeChat gives no category: it is inferred"
    );
}

#[test]
fn a_case_time_that_is_no_real_date_is_refused() {
    // The toml parser refuses 30 February itself; a Datetime built in code does not.
    let feb30 = toml::value::Datetime {
        date: Some(toml::value::Date {
            year: 2026,
            month: 2,
            day: 30,
        }),
        time: Some(toml::value::Time {
            hour: 10,
            minute: 0,
            second: 0,
            nanosecond: 0,
        }),
        offset: Some(toml::value::Offset::Custom { minutes: 480 }),
    };
    let e = super::cases::datetime_ms(&feb30).unwrap_err();
    assert!(e.contains("is not a real date"), "{e}");
    let monday: toml::value::Datetime = "2026-11-23T10:00:00+08:00".parse().unwrap();
    assert_eq!(super::cases::datetime_ms(&monday), Ok(MON_10AM));
}

#[test]
fn a_returned_case_goes_to_the_next_rule_and_a_reassigned_one_where_it_is_sent() {
    // Two rules claim road reports in 610104; the second is a catch-all for the category.
    let text = format!(
        "{BASE}\n[[department]]\nid = \"urban\"\nname = \"城管\"\n[[rule]]\nid = \"urban-roads\"\ncategories = [\"road.\"]\ndepartment = \"urban\"\nlevel = \"B\"\ndeadline_working_days = 2\n[handling]\nmax_returns = 3\n"
    );
    let r = compile(&text).unwrap();
    assert_eq!(r.handling().max_returns, 3);
    assert_eq!(r.coordination_centre(), "centre");
    let q = req(pb::Channel::Hotline12345, "road.pothole", "610104");
    assert_eq!(r.route(&q, MON_10AM).decision.department_id, "roads");
    let next = r.route_excluding(&q, MON_10AM, &["roads".into()]);
    assert_eq!(next.decision.department_id, "urban");
    assert_eq!(next.reason, "rule urban-roads");
    // Nobody left: the coordination centre.
    let last = r.route_excluding(&q, MON_10AM, &["roads".into(), "urban".into()]);
    assert_eq!(last.decision.department_id, "centre");
    assert_eq!(last.reason, "no rule matched");
    // Reassigning to a department whose rule matches takes that rule's level and deadline;
    // to one no rule sends this report to, the fallback's, on its own routing key.
    let (to_urban, _) = r.route_to(&q, MON_10AM, "urban").unwrap();
    assert_eq!(
        (to_urban.level, to_urban.rule_id.as_str()),
        (pb::Level::BStreet, "urban-roads")
    );
    let (to_fire, _) = r.route_to(&q, MON_10AM, "fire").unwrap();
    assert_eq!(
        (
            to_fire.level,
            to_fire.routing_key.as_str(),
            to_fire.due_at_ms
        ),
        (pb::Level::DCity, "dept.fire", MON_10AM + 3 * 86_400_000)
    );
    assert!(r.route_to(&q, MON_10AM, "nobody").is_none());
    // [handling] is checked with the rest of the file.
    let bad = compile(&format!("{BASE}\n[handling]\nmax_returns = 0\n")).unwrap_err();
    assert!(bad.to_string().contains("handling.max_returns"), "{bad}");
}
