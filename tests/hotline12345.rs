//! The 12345 hotline channel: golden fixtures through the sample mappings, then end-to-end with
//! the real `minhu` binary, a real RabbitMQ vhost and the SQLite store on disk — batches over
//! HTTP (one bad order does not sink the others), batch and body limits, and
//! `minhu import hotline` on a GBK CSV export (per-row report, resume, replays).
mod common;
#[path = "hotline12345/golden.rs"]
mod golden;
#[path = "hotline12345/http.rs"]
mod http;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::broker::{TestVhost, drain};
use common::gateway::{Gateway, Options};
use http::post;
use minhu::pb;
use minhu_adapter_hotline12345::{Order, translate};
use prost::Message;

#[test]
fn golden_fixtures_translate_to_the_expected_requests() {
    let mappings = golden::sample_config().mappings();
    assert_eq!(mappings.len(), 2, "both sample sources compile");
    common::golden::check_fixtures(
        &golden::dir(),
        |n| n.ends_with(".json") && !n.ends_with(".expected.json"),
        |n| n.replace(".json", ".expected.json"),
        4,
        |name| {
            let source = name.split('.').next().unwrap_or_default();
            let mapping = &mappings[source];
            let text = std::fs::read_to_string(golden::dir().join(name)).expect("fixture");
            let input: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
            let order = Order::from_json(&input).expect("an object");
            match translate(&order, source, mapping) {
                Ok(r) => golden::request_json(&r),
                Err(e) => serde_json::json!({ "error": e.message, "field": e.field }),
            }
        },
    );
}

async fn start(vhost: &TestVhost, dir: &Path) -> Gateway {
    let mut opts = Options::new(&vhost.url);
    opts.extra = golden::sample_sources();
    Gateway::start(dir, &opts).await
}

fn order(no: &str, sqlx: &str, ssqx: &str) -> serde_json::Value {
    serde_json::json!({"gdbh": no, "sqnr": "大兴东路路面塌陷，有一个大坑", "ldhm": "13912345678",
        "ldsj": "2026-11-22 09:30:15", "sqlx": sqlx, "wtfl": "道路破损", "ssqx": ssqx})
}

#[tokio::test]
async fn a_batch_with_one_bad_order_delivers_the_good_ones_and_names_the_bad_field() {
    let vhost = TestVhost::new("hotline-batch");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost, dir.path()).await;
    let batch = serde_json::json!([
        order("GD-1", "投诉", "610104"),
        order("GD-2", "咨讯", "610104"),
        order("GD-3", "举报", "6101"),
        order("GD-4", "求助", "610104"),
    ]);
    let body = serde_json::to_vec(&batch).unwrap();
    let a = post(gw.http, "/v1/hotline/xian-12345/orders", "", &body).await;
    assert_eq!(a.status, 207, "{:#}; log:\n{}", a.json, gw.log_text());
    assert_eq!(a.item(0)["status"], "accepted");
    assert_eq!(a.item(0)["index"], 0);
    assert!(a.item(0)["ticket_id"].as_str().unwrap().starts_with('T'));
    assert_eq!(a.item(1)["status"], "rejected");
    assert_eq!(a.item(1)["field"], "sqlx");
    assert!(
        a.item(1)["error"]
            .as_str()
            .unwrap()
            .contains("unknown request type")
    );
    assert_eq!(a.item(2)["field"], "ssqx");
    assert_eq!(a.item(3)["status"], "accepted");
    assert_eq!(gw.count("tickets"), 2, "nothing written for the bad orders");
    assert!(
        !gw.log_text().contains("13912345678"),
        "phone logged unmasked"
    );

    // The same batch again through the header form: replays for the good ones.
    let b = post(
        gw.http,
        "/v1/hotline/orders",
        "X-Minhu-Source: xian-12345\r\n",
        &body,
    )
    .await;
    assert_eq!(b.status, 207);
    assert_eq!(b.item(0)["status"], "replay");
    assert_eq!(b.item(0)["ticket_id"], a.item(0)["ticket_id"]);
    // Only good orders, all replayed: 200. Only bad ones: 422.
    let good = serde_json::to_vec(&order("GD-1", "投诉", "610104")).unwrap();
    let c = post(gw.http, "/v1/hotline/xian-12345/orders", "", &good).await;
    assert_eq!(
        (c.status, c.item(0)["status"].as_str()),
        (200, Some("replay"))
    );
    let bad = serde_json::to_vec(&serde_json::json!([{"gdbh": "GD-9"}])).unwrap();
    let d = post(gw.http, "/v1/hotline/xian-12345/orders", "", &bad).await;
    assert_eq!(d.status, 422, "{:#}", d.json);
    assert_eq!(d.item(0)["field"], "sqnr");

    gw.wait_outbox_empty(Duration::from_secs(10)).await;
    let got = drain(&vhost.url, "minhu.dept.roads", 3, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 2, "the two good orders; log:\n{}", gw.log_text());
    let mut ids: Vec<String> = got
        .iter()
        .map(|d| {
            let dispatch = pb::Dispatch::decode(d.data.as_slice()).expect("a Dispatch");
            let req = dispatch.tickets[0].request.clone().expect("request");
            assert_eq!(req.channel, pb::Channel::Hotline12345 as i32);
            assert_eq!(req.source_system, "xian-12345");
            req.source_id
        })
        .collect();
    ids.sort();
    assert_eq!(ids, ["GD-1", "GD-4"]);
}

#[tokio::test]
async fn oversized_batches_bodies_and_unknown_sources_are_refused_whole() {
    let vhost = TestVhost::new("hotline-limits");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost, dir.path()).await;
    let many: Vec<_> = (0..501)
        .map(|i| order(&format!("B-{i}"), "投诉", "610104"))
        .collect();
    let a = post(
        gw.http,
        "/v1/hotline/xian-12345/orders",
        "",
        &serde_json::to_vec(&many).unwrap(),
    )
    .await;
    assert_eq!(a.status, 413, "{:#}", a.json);
    assert!(a.json["error"].as_str().unwrap().contains("max_batch"));
    let huge = vec![b' '; 4 * 1024 * 1024 + 10];
    let b = post(gw.http, "/v1/hotline/xian-12345/orders", "", &huge).await;
    assert_eq!(b.status, 413);
    let c = post(gw.http, "/v1/hotline/nowhere/orders", "", b"{}").await;
    assert_eq!((c.status, c.json["field"].as_str()), (404, Some("source")));
    let d = post(gw.http, "/v1/hotline/xian-12345/orders", "", b"{not json").await;
    assert_eq!(d.status, 400);
    let e = post(gw.http, "/v1/hotline/orders", "", b"{}").await;
    assert_eq!(
        (e.status, e.json["field"].as_str()),
        (400, Some("x-minhu-source"))
    );
    assert_eq!(gw.count("tickets"), 0);
}

fn import(gw: &Gateway, file: &Path, more: &[&str]) -> (i32, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_minhu"))
        .args([
            "--config",
            &gw.config.to_string_lossy(),
            "import",
            "hotline",
        ])
        .args(["--source", "xian-12345", &file.to_string_lossy()])
        .args(["--grpc", &format!("http://{}", gw.grpc)])
        .args(more)
        .env_remove("MINHU_AMQP__URL")
        .output()
        .expect("run minhu import hotline");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test]
async fn a_gbk_csv_import_reaches_the_queues_and_resumes_with_replays() {
    let vhost = TestVhost::new("hotline-import");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost, dir.path()).await;
    let file = dir.path().join("export.csv");
    std::fs::copy(golden::dir().join("import-gbk.csv"), &file).unwrap();

    let (code, out) = import(&gw, &file, &[]);
    assert_eq!(code, 2, "finished with bad rows:\n{out}");
    assert_eq!(out.matches(": accepted T").count(), 20, "{out}");
    assert!(
        out.contains("row 8: malformed: 2 fields, the header has 10"),
        "{out}"
    );
    assert!(
        out.contains("row 16: rejected: sqlx: unknown request type \"咨讯\""),
        "{out}"
    );
    assert!(
        out.contains("20 accepted, 0 replay, 1 rejected, 1 malformed"),
        "{out}"
    );
    assert!(!out.contains("13900000001"), "phone printed:\n{out}");
    gw.wait_outbox_empty(Duration::from_secs(15)).await;
    assert_eq!(
        drain(&vhost.url, "minhu.dept.roads", 14, Duration::from_secs(5))
            .await
            .len(),
        14
    );
    assert_eq!(
        drain(&vhost.url, "minhu.dept.water", 6, Duration::from_secs(5))
            .await
            .len(),
        6
    );

    // Rerun: everything was answered, nothing is sent again.
    let (code, out) = import(&gw, &file, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("resuming after row 23"), "{out}");
    assert!(
        out.contains("0 accepted, 0 replay, 0 rejected, 0 malformed, 22 skipped"),
        "{out}"
    );

    // Interrupted after row 12: the rest is sent, and what got through before is a replay.
    let size = std::fs::metadata(&file).unwrap().len();
    let progress = minhu::intake::channels::hotline12345::import::progress_path(&file);
    std::fs::write(&progress, format!("file_bytes={size}\nlast_row=12\n")).unwrap();
    let (code, out) = import(&gw, &file, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("resuming after row 12"), "{out}");
    assert!(
        out.contains("0 accepted, 10 replay, 1 rejected, 0 malformed, 11 skipped"),
        "{out}"
    );
    assert!(!out.contains("row 12:"), "{out}");

    // --restart sends every row again: all replays, no new tickets, nothing new published.
    let (_, out) = import(&gw, &file, &["--restart"]);
    assert!(out.contains("0 accepted, 20 replay"), "{out}");
    assert_eq!(gw.count("tickets"), 20);
}

#[tokio::test]
async fn a_csv_in_neither_utf8_nor_gbk_is_refused_before_anything_is_sent() {
    let vhost = TestVhost::new("hotline-encoding");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost, dir.path()).await;
    let (code, out) = import(&gw, &golden::dir().join("import-bad-encoding.csv"), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not UTF-8 and not GBK"), "{out}");
    assert_eq!(gw.count("tickets"), 0);
}
