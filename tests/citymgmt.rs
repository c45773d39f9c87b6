//! Digital city management and Open311: golden fixtures through the translator, then
//! end-to-end with the real `minhu` binary, a real RabbitMQ vhost and the SQLite store — a
//! 数字城管 event reaching the department's queue, bad input refused with nothing written, and
//! an Open311 client's post-then-read round trip in JSON and XML.
mod common;
#[path = "citymgmt/golden.rs"]
mod golden;
#[path = "citymgmt/http.rs"]
mod http;

use std::path::Path;
use std::time::Duration;

use common::broker::{TestVhost, drain};
use common::gateway::{Gateway, Options};
use http::{get, post_event, post_form, xml_elements};
use minhu::pb;
use prost::Message;

#[test]
fn golden_fixtures_translate_to_the_expected_requests() {
    common::golden::check_fixtures(
        &golden::dir(),
        |n| n.ends_with(".event.json") || n.ends_with(".form"),
        |n| {
            let stem = n.trim_end_matches(".event.json").trim_end_matches(".form");
            format!("{stem}.expected.json")
        },
        5,
        golden::outcome_json,
    );
}

#[test]
fn the_test_config_passes_check_config() {
    let mut p = minhu::config::problem::Problems::new("minhu.toml");
    golden::config().check(&mut p);
    assert!(p.list.is_empty(), "{:?}", p.list);
}

async fn start(vhost: &TestVhost, dir: &Path) -> Gateway {
    let mut opts = Options::new(&vhost.url);
    opts.extra = golden::config_section();
    Gateway::start(dir, &opts).await
}

#[tokio::test]
async fn an_event_reaches_the_departments_queue_once() {
    let vhost = TestVhost::new("citymgmt-event");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost, dir.path()).await;
    let raw = golden::fixture("component-manhole.event.json");

    let first = post_event(gw.http, &raw).await;
    assert_eq!(first.status, 200, "{}; log:\n{}", first.body, gw.log_text());
    let a = first.json();
    assert_eq!(a["status"], "accepted");
    assert_eq!(a["disposition"], "DISPOSITION_NEW_CASE");
    // 部件 01/0103 → road.manhole → the roads rule.
    assert_eq!(a["department_id"], "roads");

    // The platform re-sends the same 案卷号: the same ticket, nothing new.
    let again = post_event(gw.http, &raw).await.json();
    assert_eq!(again["disposition"], "DISPOSITION_REPLAY");
    assert_eq!(again["ticket_id"], a["ticket_id"]);

    gw.wait_outbox_empty(Duration::from_secs(10)).await;
    let got = drain(&vhost.url, "minhu.dept.roads", 2, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1, "one dispatch; log:\n{}", gw.log_text());
    let dispatch = pb::Dispatch::decode(got[0].data.as_slice()).expect("a Dispatch");
    let req = dispatch.tickets[0].request.clone().expect("request");
    assert_eq!(req.channel, pb::Channel::CityManagement as i32);
    assert_eq!(req.source_system, "citymgmt:test");
    assert_eq!(req.source_id, "AJ20261122000017");
    assert_eq!(req.category, "road.manhole");
    let loc = req.location.expect("location");
    assert_eq!(loc.grid_id, "6101130020050");
    assert_eq!(loc.coordinate_system, pb::CoordinateSystem::Cgcs2000 as i32);
    assert_eq!((loc.lat, loc.original_lat), (34.2251, 34.2251));
    assert_eq!(req.attachments.len(), 2);
    assert_eq!(gw.count("tickets"), 1);
    let log = gw.log_text();
    assert!(log.contains("citymgmt: event accepted"), "{log}");
    assert!(
        !log.contains("张建国") && !log.contains("13700001111"),
        "inspector masked:\n{log}"
    );
}

/// The fixture event with `key` set to `value` (Null: removed).
fn event_with(key: &str, value: serde_json::Value) -> Vec<u8> {
    let raw = golden::fixture("component-manhole.event.json");
    let mut v: serde_json::Value = serde_json::from_slice(&raw).expect("fixture JSON");
    match value {
        serde_json::Value::Null => {
            v.as_object_mut().map(|o| o.remove(key));
        }
        value => v[key] = value,
    }
    v.to_string().into_bytes()
}

#[tokio::test]
async fn bad_input_is_refused_with_a_specific_error_and_nothing_is_written() {
    let vhost = TestVhost::new("citymgmt-bad");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost, dir.path()).await;

    let cases = [
        (
            event_with("case_number", serde_json::Value::Null),
            "case_number",
            "案卷号",
        ),
        (
            event_with("minor_code", "0199".into()),
            "minor_code",
            "0199",
        ),
        (event_with("lat", 95.5.into()), "lat", "±90"),
        (event_with("lng", "east".into()), "lng", "degrees"),
    ];
    for (body, field, words) in cases {
        let a = post_event(gw.http, &body).await;
        let j = a.json();
        assert_eq!(
            (a.status, j["field"].as_str()),
            (400, Some(field)),
            "{}",
            a.body
        );
        assert!(
            j["error"].as_str().unwrap_or_default().contains(words),
            "{}",
            a.body
        );
    }
    let a = http::send(gw.http, "POST", "/v1/citymgmt/events", "text/plain", b"{}").await;
    assert_eq!(a.status, 415);

    let form = golden::fixture("open311-pothole.form");
    let text = String::from_utf8(form).expect("utf8");
    let wrong_key = text.replace("api_key=test-app-key", "api_key=guessed");
    let a = post_form(gw.http, "/open311/v2/requests.json", wrong_key.as_bytes()).await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert_eq!(a.json()[0]["code"], 403);
    assert!(
        a.json()[0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("api_key"))
    );
    let no_key = text.replace("api_key=test-app-key&", "");
    let a = post_form(gw.http, "/open311/v2/requests.xml", no_key.as_bytes()).await;
    assert_eq!(a.status, 403);
    assert_eq!(
        xml_elements(&a.body),
        ["errors", "error", "code", "description"]
    );

    let unknown = text.replace("service_code=road.pothole", "service_code=road.flying_car");
    let a = post_form(gw.http, "/open311/v2/requests.json", unknown.as_bytes()).await;
    assert_eq!(
        (a.status, &a.json()[0]["code"]),
        (404, &serde_json::json!(404)),
        "{}",
        a.body
    );
    let nowhere = "api_key=test-app-key&service_code=road.pothole&description=x";
    let a = post_form(gw.http, "/open311/v2/requests.json", nowhere.as_bytes()).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("location"), "{}", a.body);
    let a = get(gw.http, "/open311/v2/services/road.flying_car.json").await;
    assert_eq!(a.status, 404);
    let a = get(gw.http, "/open311/v2/requests/T20990101000001.json").await;
    assert_eq!(
        (a.status, &a.json()[0]["code"]),
        (404, &serde_json::json!(404))
    );
    let a = get(
        gw.http,
        "/open311/v2/services.json?jurisdiction_id=elsewhere.gov",
    )
    .await;
    assert_eq!(a.status, 404);

    assert_eq!(gw.count("tickets"), 0, "nothing half-written");
}

#[tokio::test]
async fn an_open311_client_posts_then_reads_its_request_back() {
    let vhost = TestVhost::new("citymgmt-open311");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost, dir.path()).await;

    let services = get(gw.http, "/open311/v2/services.xml").await;
    assert_eq!(services.status, 200);
    assert!(
        services.content_type.starts_with("text/xml"),
        "{}",
        services.content_type
    );
    let names = xml_elements(&services.body);
    assert_eq!(names[0], "services");
    assert_eq!(names.iter().filter(|n| *n == "service").count(), 14);
    let j = get(gw.http, "/open311/v2/services.json").await.json();
    assert!(
        j.as_array()
            .is_some_and(|s| s.iter().any(|s| s["service_code"] == "road.pothole"))
    );
    let def = get(gw.http, "/open311/v2/services/road.pothole.json")
        .await
        .json();
    assert_eq!(def["service_code"], "road.pothole");

    let form = golden::fixture("open311-pothole.form");
    let posted = post_form(gw.http, "/open311/v2/requests.json", &form).await;
    assert_eq!(
        posted.status,
        201,
        "{}; log:\n{}",
        posted.body,
        gw.log_text()
    );
    let id = posted.json()[0]["service_request_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(id.starts_with('T'), "{}", posted.body);
    assert_eq!(posted.json()[0]["account_id"], "u-88");
    // The app posts twice (a retry): the same ticket.
    let again = post_form(gw.http, "/open311/v2/requests.json", &form).await;
    assert_eq!(
        (again.status, again.json()[0]["service_request_id"].as_str()),
        (200, Some(id.as_str()))
    );

    let one = get(gw.http, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(one.status, 200, "{}", one.body);
    let r = &one.json()[0];
    assert_eq!(r["service_request_id"], id.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["agency_responsible"], "roads");
    assert_eq!(r["service_code"], "road.pothole");
    assert_eq!(r["service_name"], "道路坑洼破损");
    assert_eq!(r["lat"], 34.2251);
    assert_eq!(r["media_url"], "https://app.example.org/media/p1.jpg");
    assert!(
        r["expected_datetime"]
            .as_str()
            .is_some_and(|d| d.ends_with("+08:00")),
        "{r}"
    );
    let xml = get(gw.http, &format!("/open311/v2/requests/{id}.xml")).await;
    let names = xml_elements(&xml.body);
    assert_eq!(names[..2], ["service_requests", "request"]);
    assert!(names.contains(&"agency_responsible".to_owned()));
    let list = get(
        gw.http,
        &format!("/open311/v2/requests.json?service_request_id={id},T20990101000001"),
    )
    .await;
    assert_eq!(
        list.json().as_array().map(Vec::len),
        Some(1),
        "{}",
        list.body
    );

    gw.wait_outbox_empty(Duration::from_secs(10)).await;
    let got = drain(&vhost.url, "minhu.dept.roads", 2, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    let req = pb::Dispatch::decode(got[0].data.as_slice())
        .expect("a Dispatch")
        .tickets[0]
        .request
        .clone()
        .expect("request");
    assert_eq!(req.channel, pb::Channel::WebPortal as i32);
    assert_eq!(req.source_system, "open311:test-app");
    let log = gw.log_text();
    assert!(
        !log.contains("13912345678") && !log.contains("wang@example.cn"),
        "{log}"
    );

    // The department completes it: every GeoReport client sees the answer.
    let case_id = got[0]
        .properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get("x-minhu-case-id"))
        .and_then(|v| v.as_long_string())
        .map(|s| s.to_string())
        .expect("x-minhu-case-id");
    let mut h = common::handling::handling(&gw).await;
    h.sign_for(pb::SignForRequest {
        header: common::handling::header(&case_id, "roads", 0, "s-1"),
        note: String::new(),
    })
    .await
    .unwrap();
    h.complete(pb::CompleteRequest {
        header: common::handling::header(&case_id, "roads", 1, "c-1"),
        result: "坑洼已填平".into(),
        handling_type: pb::HandlingType::Promised as i32,
        ..Default::default()
    })
    .await
    .unwrap();
    let done = get(gw.http, &format!("/open311/v2/requests/{id}.json")).await;
    let r = &done.json()[0];
    assert_eq!(r["status"], "closed", "{r}");
    assert!(
        r["status_notes"]
            .as_str()
            .is_some_and(|n| n.contains("坑洼已填平")),
        "{r}"
    );
    assert_ne!(r["updated_datetime"], r["requested_datetime"], "{r}");
}

#[tokio::test]
async fn an_open311_client_lists_requests_by_service_status_and_date() {
    let vhost = TestVhost::new("citymgmt-open311-list");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost, dir.path()).await;
    for fixture in ["open311-pothole.form", "open311-streetlight-address.form"] {
        let posted = post_form(
            gw.http,
            "/open311/v2/requests.json",
            &golden::fixture(fixture),
        )
        .await;
        assert_eq!(posted.status, 201, "{fixture}: {}", posted.body);
    }
    let event = post_event(gw.http, &golden::fixture("event-street-vendor.event.json")).await;
    assert!(event.status < 300, "{}", event.body);
    let count = |body: &str| -> usize {
        serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.as_array().map(Vec::len))
            .unwrap_or(usize::MAX)
    };

    let all = get(gw.http, "/open311/v2/requests.json").await;
    assert_eq!((all.status, count(&all.body)), (200, 3), "{}", all.body);
    let potholes = get(
        gw.http,
        "/open311/v2/requests.json?service_code=road.pothole",
    )
    .await;
    assert_eq!(count(&potholes.body), 1, "{}", potholes.body);
    assert_eq!(potholes.json()[0]["service_code"], "road.pothole");
    let open = get(gw.http, "/open311/v2/requests.json?status=open").await;
    assert_eq!(count(&open.body), 3, "{}", open.body);
    let closed = get(gw.http, "/open311/v2/requests.json?status=closed").await;
    assert_eq!(count(&closed.body), 0, "{}", closed.body);
    let future = get(
        gw.http,
        "/open311/v2/requests.json?start_date=2099-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(
        future.status, 400,
        "start after the default end: {}",
        future.body
    );
    let past = get(
        gw.http,
        "/open311/v2/requests.json?start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z",
    )
    .await;
    assert_eq!((past.status, count(&past.body)), (200, 0), "{}", past.body);
    let xml = get(gw.http, "/open311/v2/requests.xml?status=open").await;
    assert_eq!(
        xml_elements(&xml.body)
            .iter()
            .filter(|n| *n == "request")
            .count(),
        3
    );
    for (query, status) in [
        ("status=pending", 400),
        ("start_date=yesterday", 400),
        ("service_code=no.such", 404),
    ] {
        let a = get(gw.http, &format!("/open311/v2/requests.json?{query}")).await;
        assert_eq!(a.status, status, "{query}: {}", a.body);
        assert!(
            a.json()[0]["description"].is_string(),
            "{query}: {}",
            a.body
        );
    }
}
