//! A stalled relay shows (issue 16): while the broker is connected but confirms nothing (here a
//! memory alarm blocks publishers), `minhu_relay_last_confirm_age_seconds` grows, `/readyz`
//! turns to `"status": "degraded"` past `[amqp] confirm_stall_after`, the console's overview,
//! open in a real browser, says "stalled" without a reload, and all three recover once
//! the alarm clears and the backlog is confirmed. The alarm is broker-wide, so this is the only
//! test in its binary (cargo runs test binaries one after another) and a guard lifts it even
//! when an assertion fails.
mod common;

use std::time::{Duration, Instant};

use common::broker::{MemoryAlarm, TestVhost};
use common::browser::{
    CENTRE, SUBMITTER, auth_config, browser, log_in, shot, start_driver, text_of, wait_for_text,
};
use common::gateway::{Gateway, Options, request, with_token};
use fantoccini::Client;
use minhu::pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `/readyz`: the HTTP status and the JSON body.
async fn readyz(gw: &Gateway) -> (u16, serde_json::Value) {
    let mut s = tokio::net::TcpStream::connect(gw.http)
        .await
        .expect("connect");
    s.write_all(b"GET /readyz HTTP/1.0\r\nHost: test\r\n\r\n")
        .await
        .expect("send");
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.expect("read");
    let (head, body) = buf.split_once("\r\n\r\n").expect("an HTTP answer");
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status code");
    (code, serde_json::from_str(body).expect("JSON body"))
}

/// The gauge's value (a float, which `Gateway::metric` does not parse).
async fn confirm_age(gw: &Gateway) -> f64 {
    let body = gw.http_get("/metrics").await.unwrap_or_default();
    body.lines()
        .find_map(|l| {
            l.strip_prefix("minhu_relay_last_confirm_age_seconds ")
                .and_then(|v| v.trim().parse().ok())
        })
        .expect("minhu_relay_last_confirm_age_seconds in /metrics")
}

/// Submits one hotline report as the submitting system (the console needs `[auth]` on);
/// returns the department it was routed to.
async fn submit(gw: &Gateway, source_id: &str) -> String {
    gw.client()
        .await
        .submit(with_token(
            pb::SubmitRequest {
                request: Some(request(
                    pb::Channel::Hotline12345,
                    source_id,
                    "road.pothole",
                )),
            },
            SUBMITTER,
        ))
        .await
        .unwrap_or_else(|e| panic!("{source_id} accepted while the broker confirms nothing: {e}"))
        .into_inner()
        .department_id
}

/// Waits until the overview's relay card (updated over server-sent events, never reloaded)
/// reads as `want` accepts, and returns its text.
async fn wait_relay_card(c: &Client, want: impl Fn(&str) -> bool) -> String {
    wait_for_text(c, "[data-live=relay]", want, Duration::from_secs(20)).await
}

/// Polls `/readyz` until its `status` is `want`.
async fn wait_status(gw: &Gateway, want: &str, timeout: Duration) -> serde_json::Value {
    let deadline = Instant::now() + timeout;
    loop {
        let (_, body) = readyz(gw).await;
        if body["status"] == want {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz not {want} after {timeout:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_relay_without_confirms_turns_readiness_degraded_and_recovers() {
    let vhost = TestVhost::new("stall");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.amqp_extra = "confirm_stall_after = \"2s\"\n".into();
    opts.extra = auth_config();
    let gw = Gateway::start(dir.path(), &opts).await;
    let driver = start_driver();
    let c = browser(&driver).await;
    log_in(&c, &format!("http://{}", gw.http), CENTRE).await;
    assert_eq!(text_of(&c, "[data-live=relay]").await, "正常 ok");
    let department = submit(&gw, "warm").await;
    gw.wait_outbox_empty(Duration::from_secs(20)).await;
    let (code, body) = readyz(&gw).await;
    assert_eq!((code, &body["status"]), (200, &"ready".into()), "{body}");
    assert_eq!(body["relay"]["stall_after_seconds"], 2);
    assert_eq!(confirm_age(&gw).await, 0.0, "nothing waits: the age is 0");

    let alarm = MemoryAlarm::raise();
    for i in 0..20 {
        submit(&gw, &format!("stall-{i}")).await;
    }

    let body = wait_status(&gw, "degraded", Duration::from_secs(20)).await;
    assert_eq!(body["relay"]["state"], "stalled", "{body}");
    assert_eq!(
        body["broker"], "connected",
        "the connection itself stays up"
    );
    assert_eq!(
        body["accepting"], true,
        "a stalled relay does not stop intake"
    );
    let (code, _) = readyz(&gw).await;
    assert_eq!(code, 200, "degraded is reported in the body, not as 503");
    assert_eq!(gw.metric("minhu_relay_stalled").await, 1);
    let first = confirm_age(&gw).await;
    assert!(first >= 2.0, "past the threshold: {first}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let later = confirm_age(&gw).await;
    assert!(later >= first + 1.0, "the age grows: {first} then {later}");
    // The page opened before the stall shows it live, with the age in seconds.
    let card = wait_relay_card(&c, |t| t.starts_with("停滞 stalled: ")).await;
    let shown: u64 = card
        .trim_start_matches("停滞 stalled: ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("seconds in {card:?}"));
    assert!(shown >= 2, "past the threshold: {card}");
    // The queue table shows the dispatch confirmed before the alarm once the poller (every
    // 10 s) has read it: never "missing", which a read before the relay's declare gave.
    let queued = format!("[data-cell=q-{department}]");
    wait_for_text(&c, &queued, |t| t == "1", Duration::from_secs(25)).await;
    shot(&c, "07-overview-relay-stalled").await;

    alarm.clear();
    gw.wait_outbox_empty(Duration::from_secs(60)).await;
    let body = wait_status(&gw, "ready", Duration::from_secs(10)).await;
    assert_eq!(body["relay"]["state"], "ok", "{body}");
    assert_eq!(gw.metric("minhu_relay_stalled").await, 0);
    assert_eq!(confirm_age(&gw).await, 0.0, "the backlog is confirmed");
    wait_relay_card(&c, |t| t == "正常 ok").await;
}
