//! Routing decisions and config checks on small inline files and on the shipped sample.
use std::path::Path;

use super::Router;
use crate::config::routing::RoutingConfig;
use crate::pb;

fn compile(text: &str) -> Result<Router, crate::config::ConfigError> {
    let cfg: RoutingConfig = toml::from_str(text).expect("test routing parses");
    Router::compile(&cfg, Path::new("routing.toml"), text)
}

const BASE: &str = r#"
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

fn req(channel: pb::Channel, category: &str, district: &str) -> pb::Request {
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
    let d = r.route(&req(pb::Channel::Hotline12345, "road.pothole", "610104"), 0);
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
    let d = r.route(&req(pb::Channel::Emergency119, "road.pothole", "610104"), 0);
    assert_eq!(d.department_id, "fire");
    assert_eq!(d.due_at_ms, 4 * 3_600_000);
    let d = r.route(&req(pb::Channel::Hotline12345, "road.pothole", "610102"), 0);
    assert_eq!(
        (
            d.department_id.as_str(),
            d.rule_id.as_str(),
            d.routing_key.as_str()
        ),
        ("centre", "fallback", "dept.centre")
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let bad = BASE
        .replace(
            "department = \"roads\"\nlevel = \"C\"",
            "department = \"nowhere\"\nlevel = \"Z\"",
        )
        .replace(
            "channels = [\"EMERGENCY_119\"]",
            "channels = [\"EMERGENCY_999\"]",
        )
        .replace("districts = [\"610104\"]", "districts = [\"6101\"]")
        + "\n[[rule]]\nid = \"fire-line\"\ndepartment = \"centre\"\nlevel = \"A\"\n";
    let err = compile(&bad).unwrap_err();
    let text = err.to_string();
    for want in [
        "rule[0].channels[0]: unknown channel \"EMERGENCY_999\"",
        "rule[1].districts[0]: \"6101\" is not a 6-digit district code",
        "rule[1].department: unknown department \"nowhere\"",
        "rule[1].level: \"Z\" is not a level",
        "rule[2].id: rule id \"fire-line\" is used twice",
        "rule[2]: missing deadline",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(text.starts_with("6 configuration problems"), "{text}");
}

#[test]
fn rules_after_a_catch_all_are_flagged() {
    let text = BASE.replace("channels = [\"EMERGENCY_119\"]\n", "");
    let err = compile(&text).unwrap_err().to_string();
    assert!(
        err.contains(
            "rule \"roads\" can never match: rule \"fire-line\" before it matches everything"
        ),
        "{err}"
    );
}

#[test]
fn the_shipped_sample_compiles_and_routes_by_category() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/routing.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cfg: RoutingConfig = toml::from_str(&text).unwrap();
    let r = Router::compile(&cfg, &path, &text).unwrap();
    let d = r.route(&req(pb::Channel::Hotline12345, "env.fume", "610104"), 0);
    assert_eq!(d.department_id, "eco-env");
    let mut wechat = req(pb::Channel::Wechat, "", "610104");
    wechat.description = "路口井盖不见了".into();
    assert_eq!(r.route(&wechat, 0).department_id, "roads");
}
