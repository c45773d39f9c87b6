//! The clocks routing gives a unit (`[clocks]` and `sign_for_working_hours`), and their checks.
use super::calendar::days_from_civil;
use super::tests::compile_at as compile;
use crate::pb;

const HOUR: i64 = 3_600_000;

/// Local (Shanghai) time as ms since the epoch.
fn at(y: i64, m: u32, d: u32, hour: i64, min: i64) -> i64 {
    (days_from_civil(y, m, d) * 24 * 60 + hour * 60 + min) * 60_000 - 8 * HOUR
}

const FILE: &str = r#"
[clocks]
working_hours = "09:00-17:00"
sign_for_working_hours = 2
[fallback]
department = "centre"
level = "D"
deadline_working_days = 1
[[department]]
id = "centre"
name = "协调中心"
[[department]]
id = "roads"
name = "道路"
[[rule]]
id = "roads"
categories = ["road."]
department = "roads"
level = "C"
deadline_working_days = 2
sign_for_working_hours = 4
"#;

fn request(category: &str) -> pb::Request {
    pb::Request {
        category: category.into(),
        description: "x".into(),
        ..Default::default()
    }
}

#[test]
fn a_unit_gets_a_sign_for_and_a_completion_clock_in_working_hours() {
    // Friday 20 November 2026, 15:00.
    let now = at(2026, 11, 20, 15, 0);
    let r = compile(FILE, now).unwrap();
    let d = r.route(&request("road.pothole"), now).decision;
    let c = d.clocks.expect("clocks are counted");
    // The rule's 4 working hours: 2 on Friday, 2 on Monday; yellow after 2, at Friday's close.
    let sign = c.sign_for.expect("a sign-for clock");
    assert_eq!(sign.red_at, at(2026, 11, 23, 11, 0));
    assert_eq!(sign.yellow_at, at(2026, 11, 20, 17, 0));
    // Completion: 2 working days, Tuesday 15:00; 16 working hours, yellow after 8 (Mon 15:00).
    assert_eq!(c.complete.red_at, at(2026, 11, 24, 15, 0));
    assert_eq!(c.complete.yellow_at, at(2026, 11, 23, 15, 0));
    assert!(!c.around_the_clock);
    // The fallback takes [clocks]' default of 2 working hours: Friday 15:00 to its close.
    let d = r.route(&request("water.leak"), now).decision;
    let sign = d.clocks.and_then(|c| c.sign_for).unwrap();
    assert_eq!(sign.red_at, at(2026, 11, 20, 17, 0));
}

#[test]
fn bad_clock_settings_are_reported_with_their_keys() {
    let bad = FILE.replace("\"09:00-17:00\"", "\"17:00-09:00\"").replace(
        "sign_for_working_hours = 2",
        "sign_for_working_hours = 2\nyellow_share = 1.5",
    );
    let text = compile(&bad, 0).unwrap_err().to_string();
    for want in [
        "clocks.working_hours: expected HH:MM-HH:MM",
        "clocks.yellow_share: 1.5 is not a share",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    let off = FILE.replace("sign_for_working_hours = 4", "sign_for_working_hours = 0");
    let now = at(2026, 11, 20, 15, 0);
    let r = compile(&off, now).unwrap();
    let d = r.route(&request("road.x"), now).decision;
    assert_eq!(d.clocks.map(|c| c.sign_for), Some(None));
}
