//! The follow-up task names the order the call-centre's way; results read through the mapping.
use std::collections::BTreeMap;

use super::*;
use crate::SourceMapping;

fn mapping(followup: FollowupMapping) -> Mapping {
    let fields: BTreeMap<String, String> = [
        ("gdbh", "source_id"),
        ("sqnr", "description"),
        ("caller.phone", "reporter_phone"),
        ("caller.name", "reporter_name"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    SourceMapping {
        fields,
        followup,
        ..SourceMapping::default()
    }
    .compile()
    .unwrap()
}

fn call_back() -> FollowupMapping {
    FollowupMapping {
        call_back: true,
        fields: [
            ("gdbh", "source_id"),
            ("myd", "satisfaction"),
            ("sfjj", "solved"),
            ("hfnr", "comment"),
            ("hfbh", "rating_id"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect(),
        satisfaction: [("非常满意".to_owned(), "satisfied".to_owned())].into(),
        solved: BTreeMap::new(),
    }
}

#[test]
fn the_task_names_the_order_and_the_caller_in_the_sources_own_fields() {
    let m = mapping(call_back());
    let got = task(
        &m,
        &Task {
            task_id: "C1/3/result/0",
            ticket_id: "T1",
            case_id: "C1",
            source_id: "GD20261206001",
            reporter_name: "王先生",
            reporter_phone: "13800001111",
            department_id: "roads",
            result: "已修复",
            completed_at: "2026-12-06T10:00:00+08:00",
        },
    );
    assert_eq!(
        got,
        json!({
            "schema": "minhu.hotline_followup.v1",
            "task_id": "C1/3/result/0",
            "ticket_id": "T1",
            "case_id": "C1",
            "department_id": "roads",
            "result": "已修复",
            "completed_at": "2026-12-06T10:00:00+08:00",
            "order": {"gdbh": "GD20261206001",
                      "caller": {"phone": "13800001111", "name": "王先生"}},
        })
    );
}

#[test]
fn a_result_reads_through_the_mapping_and_its_value_tables() {
    let m = mapping(call_back());
    let order = |v: Value| Order::from_json(&v).unwrap();
    let r = read_result(
        &m.followup,
        &order(json!({"gdbh": "GD1", "myd": "非常满意", "sfjj": "是", "hfbh": "HF9"})),
    )
    .unwrap();
    assert_eq!(r.source_id, "GD1");
    assert_eq!(r.satisfaction, pb::Satisfaction::Satisfied);
    assert_eq!(r.solved, pb::Solved::Yes);
    assert_eq!(r.rating_id.as_deref(), Some("HF9"));

    let r = read_result(
        &m.followup,
        &order(json!({"gdbh": "GD1", "myd": "不满意", "sfjj": "未解决", "hfnr": "还在漏水"})),
    )
    .unwrap();
    assert_eq!(r.satisfaction, pb::Satisfaction::Dissatisfied);
    assert_eq!(r.solved, pb::Solved::No);
    assert_eq!(r.comment, "还在漏水");
    assert_eq!(r.rating_id, None);

    let e = read_result(&m.followup, &order(json!({"gdbh": "GD1", "myd": "还行"}))).unwrap_err();
    assert_eq!(e.field, "myd");
    assert!(e.message.contains("还行"), "{e}");
    let e = read_result(&m.followup, &order(json!({"myd": "满意"}))).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.message.as_str()),
        ("gdbh", "is required")
    );
    let e = read_result(
        &m.followup,
        &order(json!({"gdbh": "GD1", "myd": "满意", "sfjj": "也许"})),
    )
    .unwrap_err();
    assert_eq!(e.field, "sfjj");
}

#[test]
fn a_call_back_without_the_required_fields_or_with_bad_values_is_refused_with_every_key() {
    let bad = FollowupMapping {
        call_back: true,
        fields: [("a".to_owned(), "mood".to_owned())].into(),
        satisfaction: [("ok".to_owned(), "fine".to_owned())].into(),
        solved: [("maybe".to_owned(), "perhaps".to_owned())].into(),
    };
    let problems = SourceMapping {
        fields: [
            ("gdbh".to_owned(), "source_id".to_owned()),
            ("sqnr".to_owned(), "description".to_owned()),
        ]
        .into(),
        followup: bad,
        ..SourceMapping::default()
    }
    .compile()
    .unwrap_err();
    let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "followup.fields.a",
            "followup.fields",
            "followup.fields",
            "followup.satisfaction.ok",
            "followup.solved.maybe"
        ]
    );
}
