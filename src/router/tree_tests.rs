//! The rule tree: nested rules fanning out to co-handlers with their own deadlines, several
//! leads going to the coordination centre, emergency linkage, and `explain`'s steps.
use super::tests::{MON_10AM, compile, req};
use crate::pb;

const TREE: &str = r#"
version = "tree"
[fallback]
department = "centre"
level = "D"
deadline_working_days = 3
[[department]]
id = "centre"
name = "协调中心"
[[department]]
id = "eco"
name = "生态环境"
encoding = "json"
[[department]]
id = "urban"
name = "城管"
[[department]]
id = "police"
name = "公安"
calendar = "every-day"

[[rule]]
id = "noise"
categories = ["noise.*"]
  [[rule.rule]]
  id = "noise-night-construction"
  categories = ["noise.construction"]
  time_of_day = "22:00-06:00"
  department = "eco"
  level = "C"
  deadline_hours = 2
  priority = 7
  continue = true
  [[rule.rule]]
  id = "noise-night-police"
  time_of_day = "22:00-06:00"
  department = "police"
  level = "B"
  deadline_working_days = 1
  role = "co-handler"
  [[rule.rule]]
  id = "noise-day"
  department = "urban"
  level = "B"
  deadline_working_days = 3

[[rule]]
id = "fumes-eco"
categories = ["env.fume"]
department = "eco"
level = "B"
deadline_working_days = 5
continue = true
[[rule]]
id = "fumes-urban"
categories = ["env.fume"]
department = "urban"
level = "B"
deadline_working_days = 5

[[emergency_linkage]]
id = "gas"
reason = "燃气泄漏"
line = "119"
keywords = ["燃气", "煤气"]
keywords_all = ["味"]
keywords_none = ["演练"]
"#;

#[test]
fn nested_rules_fan_out_to_co_handlers_with_their_own_deadlines() {
    let r = compile(TREE).unwrap();
    let night = MON_10AM + 13 * 3_600_000; // 23:00
    let routed = r.route(
        &req(pb::Channel::Hotline12345, "noise.construction", ""),
        night,
    );
    assert_eq!(routed.decision.department_id, "eco");
    assert_eq!(routed.decision.rule_id, "noise-night-construction");
    assert_eq!(routed.priority, Some(7));
    assert_eq!(routed.encoding, crate::config::routing::Encoding::Json);
    assert_eq!(routed.co_handlers.len(), 1);
    let co = &routed.co_handlers[0].decision;
    assert_eq!(
        (co.department_id.as_str(), co.rule_id.as_str()),
        ("police", "noise-night-police")
    );
    // The police work every day: one working day is 24 hours.
    assert_eq!(co.due_at_ms, night + 86_400_000);
    // By day the parent's children fall through to the day rule.
    let day = r.route(
        &req(pb::Channel::Hotline12345, "noise.construction", ""),
        MON_10AM,
    );
    assert_eq!(day.decision.department_id, "urban");
    assert!(day.co_handlers.is_empty());
}

#[test]
fn several_leads_are_ambiguous_and_go_to_the_centre_with_the_reason() {
    let r = compile(TREE).unwrap();
    let routed = r.route(&req(pb::Channel::Hotline12345, "env.fume", ""), MON_10AM);
    assert_eq!(routed.decision.department_id, "centre");
    assert_eq!(routed.decision.rule_id, "fallback");
    assert!(routed.reason.contains("ambiguous: several departments claim it (eco by rule fumes-eco, urban by rule fumes-urban)"), "{}", routed.reason);
}

#[test]
fn linkage_rules_flag_emergencies_on_non_emergency_channels() {
    let r = compile(TREE).unwrap();
    let mut q = req(pb::Channel::Wechat, "", "");
    q.description = "楼道里燃气味很重".into();
    let routed = r.route(&q, MON_10AM);
    assert_eq!(routed.linkage.len(), 1);
    assert_eq!(
        (
            routed.linkage[0].line.as_str(),
            routed.linkage[0].reason.as_str()
        ),
        ("119", "燃气泄漏")
    );
    q.description = "燃气泄漏应急演练，有味道".into();
    assert!(r.route(&q, MON_10AM).linkage.is_empty());
    q.description = "楼道里燃气味很重".into();
    q.channel = pb::Channel::Emergency119 as i32;
    assert!(
        r.route(&q, MON_10AM).linkage.is_empty(),
        "119's own transfers are not linked back"
    );
}

#[test]
fn explain_lists_every_rule_tried_with_each_condition() {
    let r = compile(TREE).unwrap();
    let e = r.explain(
        &req(pb::Channel::Hotline12345, "noise.construction", ""),
        MON_10AM,
    );
    let ids: Vec<(&str, bool, usize)> = e
        .steps
        .iter()
        .map(|s| (s.rule_id.as_str(), s.matched, s.depth))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("noise", true, 0),
            ("noise-night-construction", false, 1),
            ("noise-night-police", false, 1),
            ("noise-day", true, 1)
        ]
    );
    let text = super::explain::render(&e, r.version(), MON_10AM);
    assert!(text.contains("✗ time_of_day"), "{text}");
    assert!(text.contains("decision: urban (level B"), "{text}");
}
