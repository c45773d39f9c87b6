//! Nothing accepted is lost: the gateway killed with SIGKILL after acknowledging, the broker
//! unreachable while reports keep arriving, and the outbox budget when it stays unreachable.
mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::broker::{TestVhost, case_ids, drain, drain_all};
use common::gateway::{Gateway, Options, request, submit};
use minhu::pb;
use tonic::Code;

/// An AMQP URL nothing listens on: the relay cannot connect, everything stays in the outbox.
const DEAD_BROKER: &str = "amqp://guest:guest@127.0.0.1:9/none";

#[tokio::test]
async fn acknowledged_tickets_survive_sigkill_while_the_broker_is_unreachable() {
    let vhost = TestVhost::new("kill-offline");
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::start(dir.path(), &Options::new(DEAD_BROKER)).await;
    let mut client = gw.client().await;
    let mut acked = HashSet::new();
    for i in 0..200 {
        let r = submit(
            &mut client,
            request(pb::Channel::Hotline12345, &format!("k-{i}"), "road.pothole"),
        )
        .await;
        acked.insert(r.expect("accepted while the broker is unreachable").case_id);
    }
    gw.kill();
    drop(gw);
    // Same store, now with a reachable broker.
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    gw.wait_outbox_empty(Duration::from_secs(60)).await;
    let got = drain(
        &vhost.url,
        "minhu.dept.roads",
        acked.len(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        case_ids(&got),
        acked,
        "every acknowledged ticket is delivered after the crash"
    );
}

#[tokio::test]
async fn acknowledged_tickets_survive_sigkill_under_load() {
    let vhost = TestVhost::new("kill-load");
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let mut tasks = Vec::new();
    for w in 0..8 {
        let mut client = gw.client().await;
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let req = request(
                    pb::Channel::Hotline12345,
                    &format!("w{w}-{i}"),
                    "road.pothole",
                );
                match submit(&mut client, req).await {
                    Ok(r) => {
                        if let Ok(mut a) = acked.lock() {
                            a.insert(r.case_id);
                        }
                    }
                    Err(_) => break, // the gateway died under us: unacknowledged, the caller retries
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    gw.kill();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "only {} accepted before the kill",
        acked.len()
    );
    gw.restart().await;
    gw.wait_outbox_empty(Duration::from_secs(60)).await;
    // Re-publishes after the crash may duplicate a message; consumers drop those by message_id.
    let delivered = case_ids(&drain_all(&vhost.url, "minhu.dept.roads").await);
    let missing: Vec<_> = acked.difference(&delivered).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged tickets never delivered, e.g. {:?}",
        missing.len(),
        missing.first()
    );
}

#[tokio::test]
async fn outbox_budget_refuses_at_once_but_never_emergencies() {
    let vhost = TestVhost::new("budget");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(DEAD_BROKER);
    opts.outbox_budget = 5;
    let mut gw = Gateway::start(dir.path(), &opts).await;
    let mut client = gw.client().await;
    for i in 0..5 {
        submit(
            &mut client,
            request(pb::Channel::Wechat, &format!("b-{i}"), "road.pothole"),
        )
        .await
        .unwrap();
    }
    let started = std::time::Instant::now();
    let err = submit(
        &mut client,
        request(pb::Channel::Wechat, "b-5", "road.pothole"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused at once, not after a wait"
    );
    assert!(err.message().contains("outbox full"), "{}", err.message());
    let fire = submit(
        &mut client,
        request(pb::Channel::Emergency119, "fire-1", ""),
    )
    .await
    .expect("emergency never refused");
    assert_eq!(fire.department_id, "fire-rescue");
    assert_eq!(gw.count("outbox"), 6);
    gw.kill();
    drop(gw);

    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    gw.wait_outbox_empty(Duration::from_secs(30)).await;
    assert_eq!(
        drain(&vhost.url, "minhu.dept.roads", 5, Duration::from_secs(10))
            .await
            .len(),
        5
    );
    assert_eq!(
        drain(
            &vhost.url,
            "minhu.dept.fire-rescue",
            1,
            Duration::from_secs(10)
        )
        .await
        .len(),
        1
    );
}

#[tokio::test]
async fn sigterm_drains_and_exits_cleanly() {
    let vhost = TestVhost::new("sigterm");
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let mut client = gw.client().await;
    for i in 0..100 {
        submit(
            &mut client,
            request(pb::Channel::Hotline12345, &format!("t-{i}"), "road.pothole"),
        )
        .await
        .unwrap();
    }
    let ok = gw.terminate();
    assert!(ok, "graceful exit; log:\n{}", gw.log_text());
    assert_eq!(gw.count("outbox"), 0, "flushed before exit");
    assert!(gw.log_text().contains("minhu stopped"));
    assert_eq!(
        drain(&vhost.url, "minhu.dept.roads", 100, Duration::from_secs(10))
            .await
            .len(),
        100
    );
}
