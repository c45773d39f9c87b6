//! The return metrics at `GET /metrics` of the real binary: `minhu_returns_total{reason}` and
//! `minhu_returns_exhausted_total` count applied returns only (not a replayed duplicate, not a
//! refusal), and `minhu_bounce_rate` is the store's, so it survives a restart and goes on
//! counting the cases and returns that come after it.
mod common;

use std::time::Duration;

use common::broker::TestVhost;
use common::gateway::{Gateway, Options, submit};
use common::handling::{give_back, handling, road_report};
use minhu::pb;
use minhu::pb::ReturnReason::{Duplicate, NeedsHigherLevel, NotOurs, WrongPlace};
use tonic::Code;

/// (reason label, count) → the counter's value in `/metrics`.
async fn returns(gw: &Gateway, reason: &str) -> i64 {
    gw.metric(&format!("minhu_returns_total{{reason=\"{reason}\"}}"))
        .await
}

async fn bounce_rate_is(gw: &Gateway, value: &str) {
    gw.wait_for_metrics(
        &format!("\nminhu_bounce_rate {value}\n"),
        Duration::from_secs(5),
    )
    .await;
}

#[tokio::test]
async fn returns_are_counted_by_reason_and_the_bounce_rate_survives_a_restart() {
    let vhost = TestVhost::new("handling-metrics");
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let mut client = gw.client().await;
    let mut cases = Vec::new();
    for id in ["m1", "m2", "m3"] {
        cases.push(submit(&mut client, road_report(id)).await.unwrap().case_id);
    }
    bounce_rate_is(&gw, "0").await;
    let mut h = handling(&gw).await;

    // Case 1: returned by roads, then by urban-mgmt, which exhausts max_returns (2).
    let first = give_back(&cases[0], "roads", 0, "r-1", NotOurs);
    h.r#return(first.clone()).await.unwrap();
    // A retry of the same return is answered again, not counted again.
    let again = h.r#return(first).await.unwrap().into_inner();
    assert_eq!(again.holder_department_id, "urban-mgmt");
    let second = h
        .r#return(give_back(&cases[0], "urban-mgmt", 1, "r-2", WrongPlace))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.holder_department_id, "coordination-centre");
    // Case 2: returned once. Case 3: a stale return, refused.
    h.r#return(give_back(&cases[1], "roads", 0, "r-3", Duplicate))
        .await
        .unwrap();
    let stale = h
        .r#return(give_back(&cases[2], "roads", 7, "r-4", NeedsHigherLevel))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");

    for (reason, n) in [
        ("not_ours", 1),
        ("wrong_place", 1),
        ("duplicate", 1),
        ("needs_higher_level", 0),
        ("other", 0),
    ] {
        assert_eq!(returns(&gw, reason).await, n, "{reason}");
    }
    assert_eq!(gw.metric("minhu_returns_exhausted_total").await, 1);
    // Two of the three cases were returned at least once.
    bounce_rate_is(&gw, &(2.0f64 / 3.0).to_string()).await;
    let text = gw.http_get("/metrics").await.unwrap_or_default();
    assert!(
        text.contains("# TYPE minhu_bounce_rate gauge\n")
            && text.contains("# TYPE minhu_returns_total counter\n"),
        "{text}"
    );

    // After a restart the counters start again; the bounce rate is the store's.
    gw.restart().await;
    bounce_rate_is(&gw, &(2.0f64 / 3.0).to_string()).await;
    assert_eq!(returns(&gw, "not_ours").await, 0);
    // And it goes on from there: the third case returned, then a fourth case opened.
    let mut h = handling(&gw).await;
    h.r#return(give_back(&cases[2], "roads", 0, "r-5", NeedsHigherLevel))
        .await
        .unwrap();
    assert_eq!(returns(&gw, "needs_higher_level").await, 1);
    assert_eq!(gw.metric("minhu_returns_exhausted_total").await, 0);
    bounce_rate_is(&gw, "1").await;
    let fourth = submit(&mut gw.client().await, road_report("m4"))
        .await
        .unwrap();
    assert_eq!(fourth.disposition, pb::Disposition::NewCase as i32);
    bounce_rate_is(&gw, "0.75").await;
}
