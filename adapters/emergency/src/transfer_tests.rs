//! Tests of [`super`]: each bad input gets its own error naming its field.
use serde_json::json;

use super::*;
use crate::translate;

fn good() -> Value {
    json!({
        "line": "119",
        "incident_number": "XA119-20261122-0042",
        "received_at": "2026-11-22T14:05:00+08:00",
        "caller": {"name": "王先生", "phone": "13912345678"},
        "content": "小区消防通道被私家车长期占用",
        "address": "莲湖区北大街 12 号",
        "district_code": "610104",
        "coordinates": {"lat": 34.2656, "lng": 108.9536, "system": "bd09"},
        "reason": "非警情：消防通道占用",
    })
}

fn err(mutate: impl Fn(&mut Map<String, Value>)) -> TransferError {
    let mut v = good();
    if let Value::Object(o) = &mut v {
        mutate(o);
    }
    parse_transfer(&v).unwrap_err()
}

#[test]
fn a_good_transfer_translates() {
    let t = parse_transfer(&good()).unwrap();
    assert_eq!(t.line, Line::L119);
    let r = translate(&t, "xian-119");
    assert_eq!(r.channel, pb::Channel::Emergency119 as i32);
    assert_eq!(r.source_system, "emergency:119:xian-119");
    assert_eq!(r.source_id, "XA119-20261122-0042");
    assert_eq!(r.urgency, pb::Urgency::Urgent as i32);
    assert_eq!(r.reported_at.map(|t| t.seconds), Some(1_795_327_500));
    let loc = r.location.unwrap();
    assert_eq!(loc.coordinate_system, pb::CoordinateSystem::Bd09 as i32);
    assert_eq!((loc.original_lat, loc.original_lng), (34.2656, 108.9536));
    assert!((loc.lat - 34.2656).abs() > 1e-3, "converted to WGS-84");
    assert_eq!(r.reporter.unwrap().phone, "13912345678");
}

#[test]
fn numbers_and_critical_are_accepted() {
    let mut v = good();
    v["line"] = json!(120);
    v["critical"] = json!(true);
    let r = translate(&parse_transfer(&v).unwrap(), "c");
    assert_eq!(r.channel, pb::Channel::Emergency120 as i32);
    assert_eq!(r.urgency, pb::Urgency::Critical as i32);
}

#[test]
fn each_bad_input_names_its_field() {
    type Mutate = Box<dyn Fn(&mut Map<String, Value>)>;
    let cases: Vec<(&str, Mutate)> = vec![
        (
            "line",
            Box::new(|o| drop(o.insert("line".into(), json!("999")))),
        ),
        ("line", Box::new(|o| drop(o.remove("line")))),
        (
            "incident_number",
            Box::new(|o| drop(o.remove("incident_number"))),
        ),
        (
            "incident_number",
            Box::new(|o| drop(o.insert("incident_number".into(), json!("  ")))),
        ),
        (
            "incident_number",
            Box::new(|o| drop(o.insert("incident_number".into(), json!(42)))),
        ),
        (
            "incident_number",
            Box::new(|o| drop(o.insert("incident_number".into(), json!("a\u{7}b")))),
        ),
        (
            "received_at",
            Box::new(|o| drop(o.insert("received_at".into(), json!("2026/11/22 14:05")))),
        ),
        ("content", Box::new(|o| drop(o.remove("content")))),
        (
            "content",
            Box::new(|o| drop(o.insert("content".into(), json!("长".repeat(10_001))))),
        ),
        ("reason", Box::new(|o| drop(o.remove("reason")))),
        (
            "caller.phone",
            Box::new(|o| drop(o.insert("caller".into(), json!({"phone": 139})))),
        ),
        (
            "caller.email",
            Box::new(|o| drop(o.insert("caller".into(), json!({"email": "x"})))),
        ),
        (
            "coordinates.lat",
            Box::new(|o| {
                drop(o.insert(
                    "coordinates".into(),
                    json!({"lat": 91.0, "lng": 108.9, "system": "wgs84"}),
                ))
            }),
        ),
        (
            "coordinates.lng",
            Box::new(|o| {
                drop(o.insert(
                    "coordinates".into(),
                    json!({"lat": 34.0, "lng": -181, "system": "gcj02"}),
                ))
            }),
        ),
        (
            "coordinates.system",
            Box::new(|o| drop(o.insert("coordinates".into(), json!({"lat": 34.0, "lng": 108.9})))),
        ),
        (
            "coordinates.system",
            Box::new(|o| {
                drop(o.insert(
                    "coordinates".into(),
                    json!({"lat": 34.0, "lng": 108.9, "system": "utm"}),
                ))
            }),
        ),
        (
            "district_code",
            Box::new(|o| drop(o.insert("district_code".into(), json!("61010")))),
        ),
        (
            "street_code",
            Box::new(|o| drop(o.insert("street_code".into(), json!("610102001")))),
        ),
        (
            "critical",
            Box::new(|o| drop(o.insert("critical".into(), json!("yes")))),
        ),
        (
            "incident_no",
            Box::new(|o| drop(o.insert("incident_no".into(), json!("x")))),
        ),
    ];
    for (want, mutate) in cases {
        let e = err(mutate);
        assert_eq!(e.field(), want, "{e}");
    }
    assert_eq!(
        err(|o| drop(o.insert("line".into(), json!("999")))),
        TransferError::UnknownLine
    );
    assert_eq!(
        err(|o| drop(o.insert("received_at".into(), json!("yesterday")))),
        TransferError::BadTime
    );
}

#[test]
fn batches() {
    let one = serde_json::to_vec(&good()).unwrap();
    assert_eq!(parse_transfers(&one, 10).unwrap().len(), 1);
    let mut bad = good();
    bad["line"] = json!("112");
    let two = serde_json::to_vec(&json!([good(), bad])).unwrap();
    let got = parse_transfers(&two, 10).unwrap();
    assert!(got[0].is_ok());
    assert_eq!(got[1], Err(TransferError::UnknownLine));
    assert!(matches!(
        parse_transfers(&two, 1),
        Err(TransferError::BatchTooLarge { got: 2, max: 1 })
    ));
    assert_eq!(parse_transfers(b"[]", 10), Err(TransferError::EmptyBatch));
    assert!(matches!(
        parse_transfers(b"{", 10),
        Err(TransferError::Malformed(_))
    ));
    assert!(matches!(
        parse_transfers(b"\"x\"", 10),
        Err(TransferError::Malformed(_))
    ));
    let e = parse_transfers(b"[1]", 10).unwrap();
    assert_eq!(e[0].as_ref().unwrap_err().field(), "body");
}
