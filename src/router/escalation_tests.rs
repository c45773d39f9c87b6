//! Escalation chains in the routing file (`[[escalation]]`, rules' and `[clocks]`'s
//! `escalation`): what compiles, what each unit gets, and every refusal with its key.
// `compile` compiles at Monday 23 November 2026, 10:00 in Shanghai, inside the shipped
// calendar's years.
use super::tests::compile;
use crate::clocks::escalation::{Policy, Step, Target, Trigger};
use crate::pb;

const HOUR: i64 = 3_600_000;

/// Problems as `key: message` lines.
fn problems(text: &str) -> Vec<String> {
    match compile(text) {
        Ok(_) => panic!("compiled:\n{text}"),
        Err(e) => e
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.key, p.message))
            .collect(),
    }
}

const FILE: &str = r#"
[clocks]
escalation = "standard"
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
[[department]]
id = "water"
name = "水务"
[[rule]]
id = "roads"
categories = ["road."]
department = "roads"
level = "C"
deadline_working_days = 2
escalation = "urgent"
[[rule]]
id = "water"
categories = ["water."]
department = "water"
level = "C"
deadline_working_days = 2
escalation = ""
  [[rule.rule]]
  id = "water-outage"
  categories = ["water.outage"]
  department = "water"
  level = "C"
  deadline_working_days = 1

[[escalation]]
id = "standard"
description = "the usual chain"
  [[escalation.step]]
  trigger = "unsigned"
  after_working_hours = 2
  target = "leader"
  repeat_working_hours = 4
  [[escalation.step]]
  trigger = "red"
  target = "district"
  [[escalation.step]]
  trigger = "red"
  after_working_days = 2
  target = "city"
  [[escalation.step]]
  trigger = "returned"
  times = 2
  target = "city"

[[escalation]]
id = "urgent"
  [[escalation.step]]
  trigger = "unsigned"
  after_working_hours = 1
  target = "district"
  repeat_working_hours = 1
  max_sends = 5
"#;

fn request(category: &str) -> pb::Request {
    pb::Request {
        category: category.into(),
        description: "x".into(),
        ..Default::default()
    }
}

#[test]
fn chains_compile_into_steps_in_working_time() {
    let r = compile(FILE).unwrap();
    let standard = r.escalation("standard").expect("declared");
    assert_eq!(
        *standard,
        Policy {
            id: "standard".into(),
            steps: vec![
                Step {
                    trigger: Trigger::Unsigned { after_ms: 2 * HOUR },
                    target: Target::Leader,
                    repeat_ms: Some(4 * HOUR),
                    max_sends: 3,
                },
                Step {
                    trigger: Trigger::Red { after_days: 0 },
                    target: Target::District,
                    repeat_ms: None,
                    max_sends: 1,
                },
                Step {
                    trigger: Trigger::Red { after_days: 2 },
                    target: Target::City,
                    repeat_ms: None,
                    max_sends: 1,
                },
                Step {
                    trigger: Trigger::Returned { times: 2 },
                    target: Target::City,
                    repeat_ms: None,
                    max_sends: 1,
                },
            ],
        }
    );
    let urgent = r.escalation("urgent").unwrap();
    assert_eq!(urgent.steps[0].repeat_ms, Some(HOUR));
    assert_eq!(urgent.steps[0].max_sends, 5);
    assert!(r.escalation("nope").is_none());
}

#[test]
fn each_unit_gets_its_rules_chain_else_the_default() {
    let r = compile(FILE).unwrap();
    let chain = |category: &str| r.route(&request(category), 0).decision.escalation;
    // The rule's own chain.
    assert_eq!(chain("road.pothole").as_deref(), Some("urgent"));
    // `""` turns the default off; a child rule has only its own, like sign_for_working_hours.
    assert_eq!(chain("water.sewer"), None);
    assert_eq!(chain("water.outage").as_deref(), Some("standard"));
    // The fallback has none of its own: `[clocks] escalation`.
    assert_eq!(chain("noise.x").as_deref(), Some("standard"));
    // Reassigning to a department no matching rule leads to takes the fallback's.
    let (d, _) = r.route_to(&request("noise.x"), 0, "roads").unwrap();
    assert_eq!(d.escalation.as_deref(), Some("standard"));
    // The unit's clocks say when its chain can first fire: urgent's unsigned step, one
    // working hour after Monday 23 November 2026 09:00, so the scheduler need not look sooner.
    let monday_9 = 1_795_395_600_000;
    let d = r.route(&request("road.pothole"), monday_9).decision;
    let first = d.clocks.and_then(|c| c.first_escalation_at);
    assert_eq!(first, Some(monday_9 + 3_600_000));
    let d = r.route(&request("water.sewer"), monday_9).decision;
    assert_eq!(d.clocks.and_then(|c| c.first_escalation_at), None);
    // Without a default, a rule without a chain has none.
    let r = compile(&FILE.replace("escalation = \"standard\"\n[fallback]", "[fallback]")).unwrap();
    assert_eq!(r.route(&request("noise.x"), 0).decision.escalation, None);
}

#[test]
fn every_mistake_in_a_chain_is_reported_with_its_key() {
    // "urgent" becomes a second "standard" full of mistakes, an unnamed chain without steps,
    // and "x", which gets urgent's (good) steps.
    let bad = FILE.replace(
        "id = \"urgent\"",
        r#"id = "standard"
  [[escalation.step]]
  trigger = "unsigend"
  target = "mayor"
  [[escalation.step]]
  trigger = "unsigned"
  target = "leader"
  times = 2
  after_working_days = 1
  [[escalation.step]]
  trigger = "returned"
  target = "city"
  times = 0
  repeat_working_hours = 2
  after_working_hours = 3
  [[escalation.step]]
  trigger = "red"
  target = "city"
  max_sends = 2
  after_working_hours = 1
  [[escalation.step]]
  trigger = "red"
  target = "city"
  repeat_working_hours = 0
  max_sends = 0
  [[escalation.step]]
  target = "district"
  [[escalation.step]]
  trigger = "unsigned"
  after_working_hours = 0
  [[escalation.step]]
  trigger = "red"
  target = "district"
  [[escalation.step]]
  trigger = "red"
  target = "district"

[[escalation]]
id = ""

[[escalation]]
id = "x""#,
    );
    let got = problems(&bad);
    let want = [
        "escalation[1].id: escalation \"standard\" is declared twice",
        "escalation[1].step[0].target: \"mayor\" is not a target: use leader, district or city",
        "escalation[1].step[0].trigger: \"unsigend\" is not a trigger: use unsigned, red or returned",
        "escalation[1].step[1].after_working_days: not for a \"unsigned\" step",
        "escalation[1].step[1].times: not for a \"unsigned\" step",
        "escalation[1].step[1].after_working_hours: missing: working hours after the dispatch without a sign-for",
        "escalation[1].step[2].after_working_hours: not for a \"returned\" step",
        "escalation[1].step[2].repeat_working_hours: not for a \"returned\" step: a return is an event, sent once",
        "escalation[1].step[2].times: must be at least 1",
        "escalation[1].step[3].after_working_hours: not for a \"red\" step",
        "escalation[1].step[3].max_sends: 2 sends need repeat_working_hours: without a repeat a step is sent once",
        "escalation[1].step[4].repeat_working_hours: must be at least 1 (leave it out to send once)",
        "escalation[1].step[4].max_sends: must be at least 1",
        "escalation[1].step[5].trigger: missing: use unsigned, red or returned",
        "escalation[1].step[6].target: missing: use leader, district or city",
        "escalation[1].step[6].after_working_hours: must be at least 1",
        "escalation[1].step[8]: the same trigger and target as step[7]: merge the two steps",
        "escalation[2].id: must not be empty",
        "escalation[2].step: no steps: give the chain at least one [[escalation.step]]",
        // The rule still names "urgent", which is gone.
        "rule[0].escalation: unknown escalation \"urgent\": declare it in an [[escalation]] (declared: standard, x), or use \"\" for none",
    ];
    for w in want {
        assert!(got.iter().any(|g| g == w), "missing {w:?} in:\n{got:#?}");
    }
    assert_eq!(got.len(), want.len(), "{got:#?}");
}

#[test]
fn rules_and_the_default_must_name_a_declared_chain() {
    let bad = FILE
        .replace("escalation = \"standard\"\n[fallback]", "escalation = \"standrad\"\n[fallback]")
        .replace("escalation = \"urgent\"", "escalation = \"urgnet\"")
        .replace(
            "deadline_working_days = 1\n[[department]]",
            "deadline_working_days = 1\nescalation = \"gone\"\n[[department]]",
        )
        .replace(
            "  deadline_working_days = 1\n",
            "  deadline_working_days = 1\n\n  [[rule.rule]]\n  id = \"orphan\"\n  categories = [\"water.x\"]\n  escalation = \"standard\"\n",
        );
    let got = problems(&bad);
    let want = [
        "clocks.escalation: unknown escalation \"standrad\": declare it in an [[escalation]] (declared: standard, urgent), or use \"\" for none",
        "fallback.escalation: unknown escalation \"gone\": declare it in an [[escalation]] (declared: standard, urgent), or use \"\" for none",
        "rule[0].escalation: unknown escalation \"urgnet\": declare it in an [[escalation]] (declared: standard, urgent), or use \"\" for none",
        "rule[1].rule[1].department: missing: a rule with a level, deadline or escalation needs a department",
    ];
    for w in want {
        assert!(got.iter().any(|g| g == w), "missing {w:?} in:\n{got:#?}");
    }
    assert_eq!(got.len(), want.len(), "{got:#?}");
}
