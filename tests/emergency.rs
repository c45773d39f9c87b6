//! Emergency-line transfers: golden fixtures through the translator, then end-to-end with the
//! real `minhu` binary, a real RabbitMQ vhost and the SQLite store on disk — a 119 transfer
//! reaching the fire brigade's queue first, replays, bad input refused with nothing written,
//! per-item batch results, and transfers accepted past a spent outbox budget.
mod common;
#[path = "emergency/golden.rs"]
mod golden;
#[path = "emergency/http.rs"]
mod http;

use std::path::Path;
use std::time::Duration;

use common::broker::{TestVhost, drain, header};
use common::gateway::{Gateway, Options, request, submit};
use http::{TOKEN_110, TOKEN_119, emergency_config, post, post_as};
use minhu::pb;
use prost::Message;
use serde_json::{Value, json};

/// Nothing listens on port 9: every dispatch stays in the outbox.
const UNREACHABLE: &str = "amqp://guest:guest@127.0.0.1:9/none";

#[test]
fn golden_fixtures_translate_to_the_expected_requests() {
    common::golden::check_fixtures(
        &golden::dir(),
        |n| n.ends_with(".transfer.json"),
        |n| n.replace(".transfer.json", ".request.json"),
        4,
        |n| golden::outcome_json(&golden::fixture(n)),
    );
}

async fn start(amqp_url: &str, dir: &Path, outbox_budget: u64) -> Gateway {
    let mut opts = Options::new(amqp_url);
    opts.outbox_budget = outbox_budget;
    opts.extra = emergency_config();
    Gateway::start(dir, &opts).await
}

#[tokio::test]
async fn a_119_transfer_reaches_the_fire_brigade_with_priority_9_once() {
    let vhost = TestVhost::new("emergency-e2e");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost.url, dir.path(), 1_000_000).await;
    let body = golden::fixture("119-fire-lane-bd09.transfer.json");

    let first = post(gw.http, TOKEN_119, &body).await;
    assert_eq!(
        first.status,
        200,
        "{:?}; log:\n{}",
        first.json,
        gw.log_text()
    );
    assert_eq!(first.item(0, "status"), "accepted");
    assert_eq!(first.item(0, "department_id"), "fire-rescue");
    assert_eq!(first.json["results"][0]["index"], 0);

    // The centre sends the same incident again (a timeout on its side): a replay.
    let again = post(gw.http, TOKEN_119, &body).await;
    assert_eq!(again.status, 200, "{:?}", again.json);
    assert_eq!(again.item(0, "status"), "replay");
    assert_eq!(again.item(0, "ticket_id"), first.item(0, "ticket_id"));

    gw.wait_outbox_empty(Duration::from_secs(10)).await;
    let got = drain(
        &vhost.url,
        "minhu.dept.fire-rescue",
        2,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(got.len(), 1, "one dispatch; log:\n{}", gw.log_text());
    let d = &got[0];
    assert_eq!(d.properties.priority(), &Some(9));
    assert_eq!(
        header(d, "x-minhu-channel").as_deref(),
        Some("CHANNEL_EMERGENCY_119")
    );
    let dispatch = pb::Dispatch::decode(d.data.as_slice()).expect("a Dispatch");
    let req = dispatch.tickets[0].request.clone().expect("request");
    assert_eq!(req.source_system, "emergency:119:xian-119");
    assert_eq!(req.source_id, "XA119-20261122-0042");
    assert_eq!(req.urgency, pb::Urgency::Urgent as i32);
    let loc = req.location.expect("location");
    assert_eq!(loc.coordinate_system, pb::CoordinateSystem::Bd09 as i32);
    assert_eq!(
        (loc.original_lat, loc.original_lng),
        (34.273206, 108.953558)
    );
    assert_eq!(gw.count("tickets"), 1);
    let log = gw.log_text();
    assert!(
        !log.contains("13912345678") && !log.contains("王先生"),
        "{log}"
    );
}

/// A valid transfer as JSON, with `line` and `incident_number` set.
fn transfer(line: &str, incident: &str) -> Value {
    json!({
        "line": line,
        "incident_number": incident,
        "received_at": "2026-11-22T14:05:00+08:00",
        "caller": {"name": "王先生", "phone": "13912345678"},
        "content": "小区消防通道被私家车长期占用",
        "reason": "非警情：消防通道占用",
    })
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json")
}

#[tokio::test]
async fn bad_transfers_get_specific_errors_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let gw = start(UNREACHABLE, dir.path(), 1_000_000).await;
    let good = transfer("119", "XA119-1");

    let a = post(gw.http, "", &bytes(&good)).await;
    assert_eq!((a.status, a.str("field")), (401, "authorization"));
    let a = post(gw.http, "not-a-centre-token", &bytes(&good)).await;
    assert_eq!((a.status, a.str("field")), (403, "authorization"));
    // Centre xian-110 may transfer only from 110.
    let a = post(gw.http, TOKEN_110, &bytes(&good)).await;
    assert_eq!(a.status, 403, "{:?}", a.json);
    assert_eq!(
        (a.item(0, "status"), a.item(0, "field")),
        ("rejected", "line")
    );
    let a = post_as(gw.http, TOKEN_119, "text/plain", &bytes(&good)).await;
    assert_eq!(a.status, 415);

    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut t = good.clone();
    t["line"] = json!("112");
    cases.push(("line", t));
    let mut t = good.clone();
    t.as_object_mut().map(|o| o.remove("incident_number"));
    cases.push(("incident_number", t));
    let mut t = good.clone();
    t["received_at"] = json!("2026/11/22 14:05");
    cases.push(("received_at", t));
    let mut t = good.clone();
    t["coordinates"] = json!({"lat": 134.27, "lng": 108.95, "system": "bd09"});
    cases.push(("coordinates.lat", t));
    let mut t = good.clone();
    t["street_code"] = json!("610102001");
    t["district_code"] = json!("610104");
    cases.push(("street_code", t));
    for (field, body) in &cases {
        let a = post(gw.http, TOKEN_119, &bytes(body)).await;
        assert_eq!(a.status, 400, "{field}: {:?}", a.json);
        assert_eq!(a.item(0, "status"), "rejected", "{field}");
        assert_eq!(a.item(0, "field"), *field, "{:?}", a.json);
        assert!(!a.item(0, "error").is_empty());
    }
    let a = post(gw.http, TOKEN_119, b"{\"line\": ").await;
    assert_eq!((a.status, a.str("field")), (400, "body"));
    let six: Vec<Value> = (0..6).map(|i| transfer("119", &format!("B{i}"))).collect();
    let a = post(gw.http, TOKEN_119, &bytes(&json!(six))).await;
    assert_eq!(a.status, 413, "{:?}", a.json);
    assert_eq!(gw.count("tickets"), 0, "nothing half-written");
    assert_eq!(gw.count("outbox"), 0);

    // A batch: each item answered on its own; the good ones are accepted.
    let batch = json!([
        transfer("119", "XA119-2"),
        transfer("911", "XA119-3"),
        transfer("122", "XA122-4")
    ]);
    let a = post(gw.http, TOKEN_119, &bytes(&batch)).await;
    assert_eq!(a.status, 207, "{:?}", a.json);
    let statuses: Vec<_> = (0..3).map(|i| a.item(i, "status")).collect();
    assert_eq!(statuses, ["accepted", "rejected", "accepted"]);
    assert_eq!(a.json["results"][1]["index"], 1);
    assert_eq!(a.item(1, "field"), "line");
    assert_eq!(gw.count("tickets"), 2);
}

#[tokio::test]
async fn a_transfer_is_accepted_when_the_outbox_budget_is_spent() {
    let dir = tempfile::tempdir().unwrap();
    let gw = start(UNREACHABLE, dir.path(), 3).await;
    let mut client = gw.client().await;
    let mut refused = None;
    for i in 0..10 {
        let r = request(pb::Channel::Hotline12345, &format!("GD{i}"), "road.pothole");
        if let Err(status) = submit(&mut client, r).await {
            refused = Some(status);
            break;
        }
    }
    let status = refused.expect("ordinary submits are refused once the budget is spent");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");

    let body = golden::fixture("119-fire-lane-bd09.transfer.json");
    let a = post(gw.http, TOKEN_119, &body).await;
    assert_eq!(a.status, 200, "{:?}; log:\n{}", a.json, gw.log_text());
    assert_eq!(a.item(0, "status"), "accepted");
    // The ordinary channel is still refused: the emergency did not reopen the budget.
    let r = request(pb::Channel::Hotline12345, "GD-after", "road.pothole");
    let after = submit(&mut client, r).await;
    assert_eq!(
        after.map_err(|s| s.code()).err(),
        Some(tonic::Code::ResourceExhausted)
    );
}
