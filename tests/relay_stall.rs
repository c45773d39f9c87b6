//! A stalled relay shows (issue 16): while the broker is connected but confirms nothing (here a
//! memory alarm blocks publishers), `minhu_relay_last_confirm_age_seconds` grows, `/readyz`
//! turns to `"status": "degraded"` past `[amqp] confirm_stall_after`, and both recover once
//! the alarm clears and the backlog is confirmed. The alarm is broker-wide, so this is the only
//! test in its binary (cargo runs test binaries one after another) and a guard lifts it even
//! when an assertion fails.
mod common;

use std::time::{Duration, Instant};

use common::broker::{MemoryAlarm, TestVhost};
use common::gateway::{Gateway, Options, request, submit};
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
    let gw = Gateway::start(dir.path(), &opts).await;
    let mut client = gw.client().await;
    submit(
        &mut client,
        request(pb::Channel::Hotline12345, "warm", "road.pothole"),
    )
    .await
    .unwrap();
    gw.wait_outbox_empty(Duration::from_secs(20)).await;
    let (code, body) = readyz(&gw).await;
    assert_eq!((code, &body["status"]), (200, &"ready".into()), "{body}");
    assert_eq!(body["relay"]["stall_after_seconds"], 2);
    assert_eq!(confirm_age(&gw).await, 0.0, "nothing waits: the age is 0");

    let alarm = MemoryAlarm::raise();
    for i in 0..20 {
        submit(
            &mut client,
            request(
                pb::Channel::Hotline12345,
                &format!("stall-{i}"),
                "road.pothole",
            ),
        )
        .await
        .expect("accepted while the broker confirms nothing");
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

    alarm.clear();
    gw.wait_outbox_empty(Duration::from_secs(60)).await;
    let body = wait_status(&gw, "ready", Duration::from_secs(10)).await;
    assert_eq!(body["relay"]["state"], "ok", "{body}");
    assert_eq!(gw.metric("minhu_relay_stalled").await, 0);
    assert_eq!(confirm_age(&gw).await, 0.0, "the backlog is confirmed");
}
