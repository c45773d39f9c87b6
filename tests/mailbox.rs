//! The mayor's mailbox channel: golden fixtures through the translator, then end-to-end with
//! the real `minhu` binary, a real RabbitMQ vhost and the SQLite store on disk — raw mail over
//! HTTP, the web form, machine-generated mail, bad input, and `minhu ingest mail` as an MTA
//! pipe runs it.
mod common;
#[path = "mailbox/golden.rs"]
mod golden;
#[path = "mailbox/http.rs"]
mod http;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::broker::{TestVhost, drain, message_count};
use common::gateway::{Gateway, Options};
use http::{mailbox_config, post, post_mail};
use minhu::pb;
use prost::Message;

#[test]
fn golden_fixtures_translate_to_the_expected_requests() {
    common::golden::check_fixtures(
        &golden::dir(),
        |n| n.ends_with(".eml"),
        |n| n.replace(".eml", ".json"),
        8,
        |n| golden::outcome_json(&golden::fixture(n)),
    );
}

/// Files in the attachment store.
fn stored_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(top) = std::fs::read_dir(dir.join("attachments")) else {
        return Vec::new();
    };
    top.filter_map(Result::ok)
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten())
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect()
}

async fn start(vhost: &TestVhost, dir: &Path, token: &str) -> Gateway {
    let mut opts = Options::new(&vhost.url);
    opts.extra = mailbox_config(dir, token);
    Gateway::start(dir, &opts).await
}

#[tokio::test]
async fn a_mailed_photo_report_reaches_the_department_once_with_its_photo_stored() {
    let vhost = TestVhost::new("mailbox-e2e");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost, dir.path(), "").await;
    let raw = golden::fixture("photo-attachment.eml");

    let first = post_mail(gw.http, "", &raw).await;
    assert_eq!(
        first.status,
        200,
        "{:?}; log:\n{}",
        first.json,
        gw.log_text()
    );
    assert_eq!(first.str("status"), "accepted");
    assert_eq!(first.str("disposition"), "DISPOSITION_NEW_CASE");
    // No category in mail: the 井盖 (manhole cover) keyword rule sends it to roads.
    assert_eq!(first.str("department_id"), "roads");

    // The same Message-ID again (an MTA retry): the same ticket, nothing new.
    let again = post_mail(gw.http, "", &raw).await;
    assert_eq!(again.str("disposition"), "DISPOSITION_REPLAY");
    assert_eq!(again.str("ticket_id"), first.str("ticket_id"));

    // Once confirmed, the queue exists (the relay declared it) and holds the dispatch.
    gw.wait_outbox_empty(Duration::from_secs(10)).await;
    let got = drain(&vhost.url, "minhu.dept.roads", 2, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1, "one dispatch; log:\n{}", gw.log_text());
    let dispatch = pb::Dispatch::decode(got[0].data.as_slice()).expect("a Dispatch");
    let req = dispatch.tickets[0].request.clone().expect("request");
    assert_eq!(req.channel, pb::Channel::MayorMailbox as i32);
    assert_eq!(req.source_system, "mailbox:test");
    assert_eq!(
        req.source_id,
        "A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF@icloud.com"
    );
    assert_eq!(req.title, "雁塔区小寨东路井盖缺失");
    assert_eq!(req.reporter.as_ref().map(|r| r.name.as_str()), Some("李娜"));
    assert_eq!(req.attachments.len(), 1);
    let a = &req.attachments[0];
    assert_eq!(a.url, format!("minhu-attachment:sha256:{}", a.sha256));
    assert_eq!(a.media_type, "image/jpeg");
    let path = minhu::intake::channels::mailbox::store::path_of(
        &dir.path().join("attachments"),
        &a.sha256,
    )
    .expect("hex hash");
    let bytes = std::fs::read(&path).expect("the photo is in the attachment store");
    assert_eq!(bytes.len() as u64, a.size);
    assert_eq!(&bytes[..2], b"\xff\xd8", "JPEG bytes, decoded");
    assert_eq!(gw.count("tickets"), 1);
    // Personal data stays out of the log.
    let log = gw.log_text();
    assert!(
        !log.contains("lina.xa@icloud.com") && !log.contains("李娜"),
        "{log}"
    );
}

#[tokio::test]
async fn machine_generated_mail_makes_no_ticket_but_is_recorded() {
    let vhost = TestVhost::new("mailbox-ignored");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost, dir.path(), "").await;
    for (fixture, reason) in [
        ("auto-reply.eml", "auto_submitted"),
        ("bounce.eml", "delivery_report"),
    ] {
        let a = post_mail(gw.http, "", &golden::fixture(fixture)).await;
        assert_eq!(a.status, 200, "{fixture}: {:?}", a.json);
        assert_eq!(a.str("status"), "ignored", "{fixture}");
        assert_eq!(a.str("reason"), reason, "{fixture}");
    }
    assert_eq!(gw.count("tickets"), 0);
    let log = gw.log_text();
    assert!(
        log.contains("ignored") && log.contains("1***@qq.com"),
        "{log}"
    );
    assert!(!log.contains("12345678@qq.com"), "sender masked:\n{log}");
    let metrics = gw.http_get("/metrics").await.unwrap_or_default();
    assert!(
        metrics.contains("minhu_mailbox_ignored_total{reason=\"auto_submitted\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_the_reason_and_nothing_is_written() {
    let vhost = TestVhost::new("mailbox-bad");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost, dir.path(), "s3cret").await;
    let auth = "Authorization: Bearer s3cret\r\n";
    let photo = golden::fixture("photo-attachment.eml");

    let a = post_mail(gw.http, "", &photo).await;
    assert_eq!((a.status, a.str("field")), (401, "authorization"));
    let a = post_mail(gw.http, "Authorization: Bearer wrong\r\n", &photo).await;
    assert_eq!(a.status, 401);

    let truncated = &photo[..photo.len() - 200];
    let cases: [(&[u8], u16, &str); 4] = [
        (b"this is not an e-mail", 400, "message"),
        (truncated, 400, "message.mime"),
        (
            b"From: a@example.cn\r\nSubject: empty\r\n\r\n \r\n",
            400,
            "message.body",
        ),
        (&vec![b'x'; 70_000], 413, "body"),
    ];
    for (body, status, field) in cases {
        let a = post_mail(gw.http, auth, body).await;
        assert_eq!((a.status, a.str("field")), (status, field), "{:?}", a.json);
    }
    let a = post(gw.http, "/v1/mailbox/messages", "text/plain", auth, &photo).await;
    assert_eq!(a.status, 415);

    let form = |body: &'static str| {
        post(
            gw.http,
            "/v1/mailbox/forms",
            "application/json",
            auth,
            body.as_bytes(),
        )
    };
    let a = form(r#"{"content":"路灯不亮","district":"61010"}"#).await;
    assert_eq!(
        (a.status, a.str("field")),
        (400, "district"),
        "{:?}",
        a.json
    );
    let a = form(r#"{"subject":"路灯","name":"王小明"}"#).await;
    assert_eq!((a.status, a.str("field")), (400, "content"), "{:?}", a.json);
    let a = post(
        gw.http,
        "/v1/mailbox/forms",
        "application/x-www-form-urlencoded",
        auth,
        b"content=x&phone=abc",
    )
    .await;
    assert_eq!((a.status, a.str("field")), (400, "phone"), "{:?}", a.json);

    assert_eq!(gw.count("tickets"), 0);
    assert!(stored_files(dir.path()).is_empty(), "no attachment written");
    // The log names no sender.
    assert!(!gw.log_text().contains("lina.xa@icloud.com"));
}

#[tokio::test]
async fn a_web_form_reaches_the_queue_with_its_district() {
    let vhost = TestVhost::new("mailbox-form");
    let dir = tempfile::tempdir().unwrap();
    let gw = start(&vhost, dir.path(), "").await;
    let body = "name=%E7%8E%8B%E5%B0%8F%E6%98%8E&phone=13912345678&subject=%E8%B7%AF%E7%81%AF\
                &content=%E4%B9%A6%E9%99%A2%E9%97%A8%E7%A4%BE%E5%8C%BA%E8%B7%AF%E7%81%AF%E4%B8%8D%E4%BA%AE\
                &district=610103&id=LY-42&attachments=https%3A%2F%2Fimg.example.cn%2F1.jpg";
    let a = post(
        gw.http,
        "/v1/mailbox/forms",
        "application/x-www-form-urlencoded",
        "",
        body.as_bytes(),
    )
    .await;
    assert_eq!(a.status, 200, "{:?}; log:\n{}", a.json, gw.log_text());
    // 路灯 (streetlight) → urban management.
    assert_eq!(a.str("department_id"), "urban-mgmt");
    let got = drain(
        &vhost.url,
        "minhu.dept.urban-mgmt",
        1,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(got.len(), 1);
    let d = pb::Dispatch::decode(got[0].data.as_slice()).expect("a Dispatch");
    let req = d.tickets[0].request.clone().expect("request");
    assert_eq!(req.source_id, "form:LY-42");
    assert_eq!(req.location.map(|l| l.district_code), Some("610103".into()));
    assert_eq!(req.attachments[0].url, "https://img.example.cn/1.jpg");
    assert!(!gw.log_text().contains("13912345678"));
}

/// Runs `minhu --config <config> ingest mail` with `stdin`; returns (exit code, stdout, stderr).
fn ingest(config: &Path, stdin: &[u8]) -> (i32, String, String) {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minhu"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MINHU_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .args([
            "--config",
            &config.to_string_lossy(),
            "ingest",
            "mail",
            "--timeout-secs",
            "5",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn minhu ingest mail");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn ingest_mail_pipes_to_the_running_gateway_and_tempfails_when_it_is_down() {
    let vhost = TestVhost::new("mailbox-ingest");
    let dir = tempfile::tempdir().unwrap();
    let mut gw = start(&vhost, dir.path(), "").await;
    let config = gw.config.clone();
    let mail = golden::fixture("gbk-netease.eml");

    let (code, out, err) = ingest(&config, &mail);
    assert_eq!(
        code,
        0,
        "stdout {out} stderr {err}; log:\n{}",
        gw.log_text()
    );
    assert!(out.starts_with("accepted: ticket T"), "{out}");
    let (code, out, _) = ingest(&config, &mail);
    assert_eq!(code, 0);
    assert!(out.contains("DISPOSITION_REPLAY"), "{out}");
    let (code, out, _) = ingest(&config, &golden::fixture("auto-reply.eml"));
    assert_eq!(
        (code, out.starts_with("ignored: auto-reply")),
        (0, true),
        "{out}"
    );
    let (code, _, err) = ingest(&config, b"\x00\x01 not mail");
    assert_eq!(code, 65, "EX_DATAERR: {err}");

    // No category: one is inferred from the text (路面塌陷, 大坑 → road.pothole), so roads take it.
    let q = "minhu.dept.roads";
    gw.wait_outbox_empty(Duration::from_secs(10)).await;
    assert_eq!(message_count(&vhost.url, q).await, 1);
    assert_eq!(gw.count("tickets"), 1);

    gw.kill();
    let (code, _, err) = ingest(&config, &golden::fixture("big5.eml"));
    assert_eq!(code, 75, "EX_TEMPFAIL while the gateway is down: {err}");
    assert!(err.contains("unreachable"), "{err}");
}
