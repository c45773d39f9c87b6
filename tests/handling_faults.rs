//! Faults on the department side: the gateway is SIGKILLed while it applies updates from
//! `minhu.updates`. Every update is applied exactly once and every outcome is published (a
//! consumer may see an outcome twice, with the same message_id). The assertions hold wherever
//! the kill lands: before the first commit, between a commit and its ack, or after the last.
mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::broker::{TestVhost, drain_all, publish_update};
use common::gateway::{Gateway, Options, request, submit};
use lapin::options::ConfirmSelectOptions;
use minhu::pb;
use minhu::pb::case_update::Update;
use prost::Message;

const UPDATES: usize = 40;

/// Polls `count` until it reaches `want` (bounded).
async fn wait_count(gw: &Gateway, what: &str, want: i64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let n = gw.count(what);
        if n >= want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {n} of {want}; log:\n{}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sigkill_while_applying_updates_applies_each_once_and_answers_each() {
    let vhost = TestVhost::new("handling-kill");
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let mut client = gw.client().await;
    let mut cases = Vec::new();
    for i in 0..UPDATES {
        let r = request(pb::Channel::Hotline12345, &format!("k{i}"), "road.pothole");
        cases.push(submit(&mut client, r).await.unwrap().case_id);
    }
    let conn = common::broker::connect(&vhost.url).await;
    let channel = conn.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while vhost.queue_depth("minhu.updates").is_none() {
        assert!(Instant::now() < deadline, "minhu.updates never declared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (i, case_id) in cases.iter().enumerate() {
        let update_id = format!("kill-{i}");
        let body = pb::CaseUpdate {
            update: Some(Update::SignFor(pb::SignForRequest {
                header: Some(pb::UpdateHeader {
                    update_id: update_id.clone(),
                    case_id: case_id.clone(),
                    department_id: "roads".into(),
                    case_version: 0,
                    operator_id: String::new(),
                }),
                note: String::new(),
            })),
        }
        .encode_to_vec();
        publish_update(&channel, &update_id, &body).await;
    }
    let _ = conn.close(200, "done".into()).await;

    // Kill it once the first update is on disk, while the rest are being applied.
    wait_count(&gw, "case_updates", 1, Duration::from_secs(20)).await;
    gw.kill();
    gw.restart().await;
    wait_count(&gw, "case_updates", UPDATES as i64, Duration::from_secs(30)).await;
    gw.wait_outbox_empty(Duration::from_secs(30)).await;

    assert_eq!(gw.count("case_updates"), UPDATES as i64);
    assert_eq!(gw.count("audit WHERE event = 'sign_for'"), UPDATES as i64);
    assert_eq!(
        gw.count("cases WHERE version = 1 AND status = 7"),
        UPDATES as i64
    );
    let outcomes = drain_all(&vhost.url, "minhu.dept.roads.outcomes").await;
    let ids: HashSet<String> = outcomes
        .iter()
        .map(|d| pb::UpdateOutcome::decode(d.data.as_slice()).unwrap())
        .inspect(|o| assert!(o.applied, "{o:?}"))
        .map(|o| o.update_id)
        .collect();
    assert_eq!(ids.len(), UPDATES, "every update answered");
    let message_ids: HashSet<String> = outcomes
        .iter()
        .filter_map(|d| d.properties.message_id().as_ref().map(|m| m.to_string()))
        .collect();
    assert_eq!(
        message_ids.len(),
        UPDATES,
        "one message_id per update, duplicates share it"
    );
    assert_eq!(vhost.queue_depth("minhu.updates"), Some(0));
}
