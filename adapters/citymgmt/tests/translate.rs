//! The translator and the Open311 shapes, without a gateway: events, class codes, coordinates,
//! Open311 posts, API keys and the JSON/XML answers.
use minhu_adapter_citymgmt::event::translate_event;
use minhu_adapter_citymgmt::open311::render::{self, Body};
use minhu_adapter_citymgmt::open311::{ApiKeys, Format, Post, translate_post};
use minhu_adapter_citymgmt::taxonomy::Taxonomy;
use minhu_adapter_citymgmt::{ClassTable, Kind, Open311Error, Options, pb, sha256_hex};

fn opts() -> Options {
    let mut classes = ClassTable::default();
    classes.insert(Kind::Component, "01", "0103", "road.manhole");
    classes.insert(Kind::Event, "05", "", "market.street_vendor");
    Options {
        source_system: "citymgmt:test".into(),
        classes,
        ..Options::default()
    }
}

fn taxonomy() -> Taxonomy {
    Taxonomy::from_toml(include_str!("../../../config/taxonomy.toml")).expect("sample taxonomy")
}

const EVENT: &str = r#"{"case_number":"AJ1","kind":"部件","major_code":"01","minor_code":"0103",
 "description":"井盖缺失","grid_id":"G1","lng":108.9,"lat":34.2,"inspector":{"name":"张三","id":"W1"},
 "photos":["https://x.example/a.jpg"],"reported_at":"2026-11-22 09:15:00"}"#;

fn with(key: &str, value: serde_json::Value) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_str(EVENT).expect("json");
    if value.is_null() {
        v.as_object_mut().map(|o| o.remove(key));
    } else {
        v[key] = value;
    }
    v.to_string().into_bytes()
}

#[test]
fn an_event_becomes_a_city_management_request() {
    let r = translate_event(EVENT.as_bytes(), &opts()).expect("translates");
    assert_eq!(r.channel, pb::Channel::CityManagement as i32);
    assert_eq!(
        (r.source_system.as_str(), r.source_id.as_str()),
        ("citymgmt:test", "AJ1")
    );
    assert_eq!(r.category, "road.manhole");
    let l = r.location.expect("location");
    assert_eq!(l.grid_id, "G1");
    assert!(l.has_coordinates);
    assert_eq!((l.lat, l.lng, l.original_lat), (34.2, 108.9, 34.2));
    assert_eq!(l.coordinate_system, pb::CoordinateSystem::Cgcs2000 as i32);
    assert_eq!(r.reporter.expect("reporter").name, "张三");
    assert_eq!(r.attachments[0].media_type, "image/jpeg");
    assert_eq!(r.extra["citymgmt.inspector_id"], "W1");
    assert_eq!(r.reported_at.map(|t| t.seconds), Some(1_795_310_100));
}

#[test]
fn a_major_class_row_covers_its_minor_classes() {
    let body = with("kind", "event".into());
    let body = String::from_utf8(body)
        .expect("utf8")
        .replace("\"01\"", "\"05\"");
    let r = translate_event(body.as_bytes(), &opts()).expect("translates");
    assert_eq!(r.category, "market.street_vendor");
}

#[test]
fn bad_events_name_the_field() {
    let cases = [
        (with("case_number", serde_json::Value::Null), "case_number"),
        (with("minor_code", "0199".into()), "minor_code"),
        (with("major_code", 1.into()), "major_code"),
        (with("kind", "thing".into()), "kind"),
        (with("lat", 134.2.into()), "lat"),
        (with("lng", serde_json::Value::Null), "lng"),
        (
            with("photos", serde_json::json!(["ftp://x/a.jpg"])),
            "photos[0]",
        ),
        (with("reported_at", "yesterday".into()), "reported_at"),
        (b"[1]".to_vec(), "body"),
    ];
    for (body, field) in cases {
        let e = translate_event(&body, &opts()).expect_err(field);
        assert_eq!(e.field, field, "{e}");
    }
    let e = translate_event(&with("minor_code", "0199".into()), &opts()).expect_err("unknown");
    assert!(
        e.message.contains("0199") && e.message.contains("major 01"),
        "{e}"
    );
}

#[test]
fn an_open311_post_becomes_a_web_portal_request_and_replays() {
    let form = b"api_key=k&service_code=road.pothole&lat=34.2&long=108.9&description=%E5%9D%91\
&first_name=%E5%B0%8F%E6%98%8E&last_name=%E7%8E%8B&attribute[depth]=deep&media_url=https://x.example/p.png";
    let p = Post::from_urlencoded(form);
    let r = translate_post(&p, "app", &taxonomy()).expect("translates");
    assert_eq!(r.channel, pb::Channel::WebPortal as i32);
    assert_eq!(r.source_system, "open311:app");
    assert!(r.source_id.starts_with("sha256:"));
    assert_eq!(r.category, "road.pothole");
    assert_eq!(r.reporter.as_ref().map(|x| x.name.as_str()), Some("王小明"));
    assert_eq!(r.extra["open311.attribute.depth"], "deep");
    // Another key, same fields: the same source_id (the hash leaves the key out).
    let again = Post::from_urlencoded(&[b"api_key=other&".as_slice(), &form[10..]].concat());
    assert_eq!(
        translate_post(&again, "app", &taxonomy())
            .map(|x| x.source_id)
            .ok(),
        Some(r.source_id)
    );
    let p =
        Post::from_urlencoded(b"service_code=road.pothole&address_string=a&client_request_id=c-1");
    assert_eq!(
        translate_post(&p, "app", &taxonomy())
            .map(|x| x.source_id)
            .ok()
            .as_deref(),
        Some("client:c-1")
    );
}

#[test]
fn bad_open311_posts_get_the_spec_codes() {
    let cases: [(&[u8], u16); 5] = [
        (b"lat=1&long=2", 400),
        (b"service_code=road.pothole", 400),
        (b"service_code=road.pothole&lat=91&long=2", 400),
        (b"service_code=road.pothole&lat=x&long=2", 400),
        (b"service_code=no.such&lat=1&long=2", 404),
    ];
    for (form, code) in cases {
        let e = translate_post(&Post::from_urlencoded(form), "app", &taxonomy()).expect_err("bad");
        assert_eq!(e.code, code, "{e}");
    }
}

#[test]
fn api_keys_are_checked_by_hash() {
    let mut keys = ApiKeys::default();
    assert!(keys.add("app", &sha256_hex(b"s3cret-key")));
    assert!(!keys.add("bad", "not-hex"));
    assert_eq!(keys.check("s3cret-key"), Some("app"));
    assert_eq!(keys.check("wrong"), None);
    assert_eq!(keys.check(""), None);
}

fn xml_names(b: &Body) -> Vec<String> {
    let mut r = quick_xml::Reader::from_str(&b.text);
    let mut names = Vec::new();
    loop {
        match r.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(s) => names.push(s.name().into_inner().to_owned()),
            quick_xml::events::Event::Eof => return names,
            _ => {}
        }
    }
}

#[test]
fn answers_have_the_spec_shapes_in_json_and_xml() {
    let t = taxonomy();
    let json: serde_json::Value =
        serde_json::from_str(&render::services(&t, Format::Json).text).expect("json");
    assert_eq!(json.as_array().map(Vec::len), Some(t.categories.len()));
    assert_eq!(json[0]["service_code"], "noise.construction");
    assert_eq!(json[0]["group"], "noise");
    let xml = render::services(&t, Format::Xml);
    assert!(xml.text.starts_with("<?xml"));
    let names = xml_names(&xml);
    assert_eq!(names[0], "services");
    assert_eq!(
        names.iter().filter(|n| *n == "service").count(),
        t.categories.len()
    );

    let e = Open311Error::forbidden("api_key is not valid");
    assert_eq!(
        render::error(&e, Format::Json).text,
        r#"[{"code":403,"description":"api_key is not valid"}]"#
    );
    assert_eq!(
        xml_names(&render::error(&e, Format::Xml)),
        ["errors", "error", "code", "description"]
    );
    let posted = render::posted("T1", "", "", Format::Json).text;
    assert_eq!(
        posted,
        r#"[{"account_id":"","service_notice":"","service_request_id":"T1"}]"#
    );

    let ticket = pb::GetTicketResponse {
        ticket_id: "T1".into(),
        department_id: "roads".into(),
        case_status: pb::CaseStatus::Completed as i32,
        request: Some(pb::Request {
            category: "road.pothole".into(),
            description: "<坑> & 水".into(),
            ..Default::default()
        }),
        due_at: Some(prost_types::Timestamp {
            seconds: 1_795_310_100,
            nanos: 0,
        }),
        ..Default::default()
    };
    let j: serde_json::Value = serde_json::from_str(
        &render::service_requests(std::slice::from_ref(&ticket), &t, Format::Json).text,
    )
    .expect("json");
    assert_eq!(j[0]["status"], "closed");
    assert_eq!(j[0]["agency_responsible"], "roads");
    assert_eq!(j[0]["service_name"], "道路坑洼破损");
    assert_eq!(j[0]["expected_datetime"], "2026-11-22T09:15:00+08:00");
    let x = render::service_requests(&[ticket], &t, Format::Xml);
    assert!(x.text.contains("&lt;坑&gt; &amp; 水"), "{}", x.text);
    assert_eq!(xml_names(&x)[..2], ["service_requests", "request"]);
}
