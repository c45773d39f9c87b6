//! The broker blocks publishers (a memory alarm, as when a department stops consuming and
//! queues fill RAM): Submits keep being accepted into the outbox, nothing is published while
//! blocked, and everything goes out once the alarm clears. The alarm is broker-wide, so this is
//! the only test in its binary (cargo runs test binaries one after another).
mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::broker::{MemoryAlarm, TestVhost, case_ids, drain};
use common::gateway::{Gateway, Options, request, submit};
use minhu::pb;

#[tokio::test]
async fn a_blocked_broker_holds_dispatches_in_the_outbox_until_it_unblocks() {
    let vhost = TestVhost::new("blocked");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let mut client = gw.client().await;
    // Warm up: the relay is connected and the topology declared.
    submit(
        &mut client,
        request(pb::Channel::Hotline12345, "warm", "road.pothole"),
    )
    .await
    .unwrap();
    gw.wait_outbox_empty(Duration::from_secs(20)).await;

    let alarm = MemoryAlarm::raise();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let confirmed_before = gw.metric("minhu_publishes_confirmed_total").await;
    let mut cases = HashSet::new();
    for i in 0..100 {
        let r = submit(
            &mut client,
            request(
                pb::Channel::Hotline12345,
                &format!("blk-{i}"),
                "road.pothole",
            ),
        )
        .await
        .expect("accepted while the broker blocks publishers");
        cases.insert(r.case_id);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        gw.metric("minhu_publishes_confirmed_total").await,
        confirmed_before,
        "nothing can be confirmed while the broker blocks"
    );
    assert!(
        gw.metric("minhu_outbox_depth").await >= 100,
        "the outbox holds the work"
    );

    alarm.clear();
    gw.wait_outbox_empty(Duration::from_secs(60)).await;
    let got = drain(&vhost.url, "minhu.dept.roads", 101, Duration::from_secs(20)).await;
    let delivered = case_ids(&got);
    assert!(
        cases.is_subset(&delivered),
        "{} of 100 delivered after the alarm cleared",
        cases.intersection(&delivered).count()
    );
}
