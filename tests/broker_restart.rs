//! The broker stopped in the middle of a run and started again: every report accepted before,
//! during and after the outage reaches its queue. This stops the whole broker node, so it is
//! the only test in its binary (cargo runs test binaries one after another).
mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::broker::{TestVhost, case_ids, drain_all, rabbitmqctl};
use common::gateway::{Gateway, Options, request, submit};
use minhu::pb;

#[tokio::test]
async fn broker_stopped_mid_run_then_restarted_loses_nothing() {
    let vhost = TestVhost::new("restart");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let stop = tokio_util::sync::CancellationToken::new();
    let mut tasks = Vec::new();
    for w in 0..4 {
        let mut client = gw.client().await;
        let (acked, stop) = (acked.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.is_cancelled() {
                let req = request(
                    pb::Channel::Hotline12345,
                    &format!("r{w}-{i}"),
                    "road.pothole",
                );
                let r = submit(&mut client, req)
                    .await
                    .expect("accepted even while the broker is down");
                acked.lock().unwrap().insert(r.case_id);
                i += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    rabbitmqctl(&["stop_app"]);
    let during_start = acked.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let during = acked.lock().unwrap().len() - during_start;
    assert_eq!(
        gw.metric("minhu_broker_connected").await,
        0,
        "relay noticed the outage"
    );
    rabbitmqctl(&["start_app"]);
    rabbitmqctl(&["await_startup"]);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.cancel();
    for t in tasks {
        t.await.expect("submitter");
    }
    assert!(
        during > 20,
        "only {during} reports accepted while the broker was down"
    );
    gw.wait_outbox_empty(Duration::from_secs(60)).await;
    let acked = acked.lock().unwrap().clone();
    let delivered = case_ids(&drain_all(&vhost.url, "minhu.dept.roads").await);
    let missing = acked.difference(&delivered).count();
    assert_eq!(
        missing,
        0,
        "{missing} of {} accepted reports never delivered; log:\n{}",
        acked.len(),
        gw.log_text()
    );
    assert!(
        gw.metric("minhu_broker_connects_total").await >= 2,
        "the relay reconnected"
    );
}
