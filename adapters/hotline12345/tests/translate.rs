//! The translator on its own: both mapping shapes, every kind of bad input with its specific
//! error, CSV decoding (UTF-8, BOM, GBK, neither) and malformed rows.
use minhu_adapter_hotline12345::csv::{Rows, decode};
use minhu_adapter_hotline12345::{CsvError, Mapping, Order, SourceMapping, pb, translate};

/// A pinyin-initial call-centre, as in config/hotline-sources.example.toml.
fn pinyin() -> Mapping {
    let m: SourceMapping = serde_json::from_value(serde_json::json!({
        "fields": {"gdbh": "source_id", "sqnr": "description", "ldhm": "reporter_phone",
                   "ldrxm": "reporter_name", "ldsj": "reported_at", "sqlx": "request_type",
                   "ssqx": "district_code", "xxdz": "address", "jjcd": "urgency",
                   "wtfl": "category", "jdbm": "street_code", "bt": "title"},
        "required": ["reported_at", "request_type"],
        "categories": {"道路破损": "road.pothole"},
        "districts": {"莲湖区": "610104"},
    }))
    .unwrap();
    m.compile().unwrap()
}

fn order(pairs: &[(&str, &str)]) -> Order {
    Order::from_pairs(pairs.iter().copied())
}

fn good() -> Vec<(&'static str, &'static str)> {
    vec![
        ("gdbh", "GD2026112200001"),
        ("sqnr", "大兴东路路面塌陷"),
        ("ldhm", "13912345678"),
        ("ldsj", "2026-11-22 10:00:00"),
        ("sqlx", "投诉"),
        ("ssqx", "610104"),
        ("xxdz", "莲湖区大兴东路"),
        ("wtfl", "道路破损"),
    ]
}

fn with(k: &'static str, v: &'static str) -> Order {
    let mut p = good();
    p.retain(|(x, _)| *x != k);
    if !v.is_empty() {
        p.push((k, v));
    }
    order(&p)
}

#[test]
fn a_good_order_translates() {
    let r = translate(&order(&good()), "xian-12345", &pinyin()).unwrap();
    assert_eq!(r.channel, pb::Channel::Hotline12345 as i32);
    assert_eq!(r.source_system, "xian-12345");
    assert_eq!(r.source_id, "GD2026112200001");
    assert_eq!(r.request_type, pb::RequestType::Complaint as i32);
    assert_eq!(r.category, "road.pothole");
    assert_eq!(r.reported_at.unwrap().seconds, 1_795_312_800);
    let loc = r.location.unwrap();
    assert_eq!(loc.district_code, "610104");
    assert_eq!(r.reporter.unwrap().phone, "13912345678");
}

fn err(o: Order) -> (String, String) {
    let e = translate(&o, "xian-12345", &pinyin()).unwrap_err();
    (e.field, e.message)
}

#[test]
fn bad_orders_name_the_field() {
    let (f, m) = err(with("gdbh", ""));
    assert_eq!((f.as_str(), m.contains("required")), ("gdbh", true), "{m}");
    let (f, m) = err(with("sqnr", "  "));
    assert_eq!((f.as_str(), m.contains("required")), ("sqnr", true), "{m}");
    let (f, m) = err(with("sqlx", "咨讯"));
    assert_eq!(f, "sqlx");
    assert!(m.contains("unknown request type \"咨讯\""), "{m}");
    let (f, m) = err(with("ldsj", "2026/11/22 10:00"));
    assert_eq!(f, "ldsj");
    assert!(
        m.contains("does not match the format %Y-%m-%d %H:%M:%S"),
        "{m}"
    );
    let (f, m) = err(with("ssqx", "6101"));
    assert_eq!(f, "ssqx");
    assert!(m.contains("6-digit"), "{m}");
    let (f, m) = err(with("jjcd", "很急"));
    assert_eq!(f, "jjcd");
    assert!(m.contains("unknown urgency"), "{m}");
    let (f, m) = err(with("jdbm", "610113001"));
    assert_eq!(f, "jdbm");
    assert!(m.contains("does not start with the district code"), "{m}");
    // The phone number is never quoted in an error.
    let (_, m) = err(with("ldsj", "x"));
    assert!(!m.contains("13912345678"));
}

#[test]
fn district_names_and_unknown_categories() {
    let r = translate(&with("ssqx", "莲湖区"), "s", &pinyin()).unwrap();
    assert_eq!(r.location.unwrap().district_code, "610104");
    let r = translate(&with("wtfl", "其他"), "s", &pinyin()).unwrap();
    assert_eq!(r.category, "");
    assert_eq!(r.extra["hotline12345.source_category"], "其他");
}

#[test]
fn nested_json_and_another_date_format() {
    let m: SourceMapping = serde_json::from_value(serde_json::json!({
        "fields": {"orderNo": "source_id", "content.text": "description",
                   "caller.phone": "reporter_phone", "createdAt": "reported_at",
                   "type": "request_type", "area.code": "district_code", "channelNo": "extra.channel_no"},
        "request_types": {"1": "consult", "3": "complaint"},
        "date_formats": ["%Y/%m/%d %H:%M", "unix_ms"],
    }))
    .unwrap();
    let m = m.compile().unwrap();
    let j = serde_json::json!({"orderNo": "A-1", "content": {"text": "路灯不亮"},
        "caller": {"phone": "13800000000"}, "createdAt": "2026/11/22 10:00", "type": 3,
        "area": {"code": "610113"}, "channelNo": 7, "ignored": null});
    let r = translate(&Order::from_json(&j).unwrap(), "b", &m).unwrap();
    assert_eq!(r.request_type, pb::RequestType::Complaint as i32);
    assert_eq!(r.reported_at.unwrap().seconds, 1_795_312_800);
    assert_eq!(r.extra["hotline12345.channel_no"], "7");
    let j2 = serde_json::json!({"orderNo": "A-2", "content": {"text": "x"}, "createdAt": 1795312800000u64});
    let r = translate(&Order::from_json(&j2).unwrap(), "b", &m).unwrap();
    assert_eq!(r.reported_at.unwrap().seconds, 1_795_312_800);
    assert!(Order::from_json(&serde_json::json!([1])).is_err());
}

#[test]
fn bad_mappings_are_reported_with_their_keys() {
    let m: SourceMapping = serde_json::from_value(serde_json::json!({
        "fields": {"a": "sourceid", "b": "description"},
        "request_types": {"x": "complain"},
        "date_formats": ["%Y-%m"],
        "utc_offset": "8",
    }))
    .unwrap();
    let keys: Vec<String> = m
        .compile()
        .unwrap_err()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    for k in [
        "fields.a",
        "fields",
        "request_types.x",
        "date_formats[0]",
        "utc_offset",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k} missing in {keys:?}");
    }
    assert!(serde_json::from_value::<SourceMapping>(serde_json::json!({"feilds": {}})).is_err());
}

#[test]
fn csv_in_utf8_bom_and_gbk_with_a_malformed_row() {
    let text = "gdbh,sqnr,ldsj\nA1,井盖缺失,2026-11-22 10:00:00\nA2,\"路灯\nA3,x\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    for bytes in [text.as_bytes().to_vec(), bom, gbk.into_owned()] {
        let t = decode(&bytes).unwrap();
        let rows: Vec<_> = Rows::new(&t).unwrap().collect();
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.as_ref().unwrap().get("sqnr"), Some("井盖缺失"));
        assert!(rows[1].1.is_err(), "{:?}", rows[1]);
    }
    let short = "gdbh,sqnr\nA1\nA2,ok\n";
    let rows: Vec<_> = Rows::new(short).unwrap().collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows[0]
            .1
            .as_ref()
            .unwrap_err()
            .message
            .contains("1 fields, the header has 2")
    );
    assert!(rows[1].1.is_ok());
    // Neither UTF-8 nor GBK.
    assert!(matches!(
        decode(b"gdbh\n\xff\xfe\xfd\n"),
        Err(CsvError::Encoding { .. })
    ));
}
