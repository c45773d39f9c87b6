//! What a reply rates, on a real database file: only sent result notices within the window,
//! the contact in any form the planner reads, the most recent one still awaiting a rating,
//! a retried reply found again after it rated, and why nothing is rated otherwise.
use super::*;
use crate::handling::machine::Action;
use crate::store::merge_tests::report;
use crate::store::updates_tests::{open, update};
use crate::store::{CaseUpdate, Move, NewRating, NewTicket, Recorded, Step};

const PHONE: &str = "13900000001";

fn sms(phone: &str) -> Contact {
    Contact::Sms {
        phone: phone.into(),
    }
}

/// A report of its own case (merging is off in this store).
async fn accept(store: &Store, t: NewTicket) -> (String, String) {
    let a = store.accept(t).await.unwrap();
    (a.ticket_id, a.case_id)
}

/// Signs for and completes `case` (from `version`), then records its notices sent at `at`.
async fn complete_and_send(store: &Store, case: &str, version: u64, at: i64) {
    for (v, action) in [(version, Action::SignFor), (version + 1, Action::Complete)] {
        let mut u = update(case, "roads", v, action, &format!("{case}-{v}"), 1);
        u.detail = serde_json::json!({ "result": "井盖已补装" });
        assert!(store.update(u).await.unwrap().outcome.applied);
    }
    let sent = Recorded::Sent {
        via: "sms".into(),
        receipt: "r".into(),
    };
    let records = store
        .notices_of_case(case)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.state == "pending")
        .map(|n| (n.notice_id, sent.clone()))
        .collect();
    store.record_notices(records, at).await.unwrap();
}

async fn rate(store: &Store, ticket_id: &str, rating_id: &str, reopen: Option<Box<CaseUpdate>>) {
    let solved = if reopen.is_some() {
        pb::Solved::No
    } else {
        pb::Solved::Yes
    };
    let request = pb::RateRequest {
        ticket_id: ticket_id.into(),
        satisfaction: pb::Satisfaction::Satisfied as i32,
        solved: solved as i32,
        text: "0 还是松的".into(),
        rating_id: rating_id.into(),
        via: "sms".into(),
    };
    let rated = store
        .rate(NewRating {
            request,
            digest: [7; 32],
            reopen,
            max_reopens: 2,
        })
        .await
        .unwrap();
    assert_eq!(rated.refused, None);
}

/// The reopen the rating path would prepare: back to roads.
fn reopen(case_id: &str, version: u64, t: &NewTicket) -> Box<CaseUpdate> {
    let mut u = update(case_id, "roads", version, Action::Reopen, "reopen", 3);
    u.step = Step::Move(Box::new(Move {
        base_version: version,
        route: t.route.clone(),
        json: false,
        priority: 0,
        reason: "reopened (二次办理)".into(),
        ticket_id: "T".into(),
        accepted_at_ms: 0,
        request: t.request.clone(),
    }));
    Box::new(u)
}

fn rate_target(ticket_id: &str) -> RatingTarget {
    RatingTarget::Rate {
        ticket_id: ticket_id.into(),
        replay: false,
    }
}

#[tokio::test]
async fn only_a_sent_result_within_the_window_is_rated() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let (ticket, case) = accept(&store, report("a", PHONE)).await;
    let target = |since: i64| {
        let store = store.clone();
        async move {
            store
                .rating_target(&sms(PHONE), "sms-1", since)
                .await
                .unwrap()
        }
    };
    assert_eq!(target(0).await, RatingTarget::NoNotice);
    complete_and_send(&store, &case, 0, 5_000).await;
    assert_eq!(target(5_000).await, rate_target(&ticket));
    assert_eq!(
        target(5_001).await,
        RatingTarget::NoNotice,
        "sent before the window"
    );
    // The phone in the forms citizens and gateways write it.
    for phone in ["+86 139 0000 0001", "8613900000001", "139-0000-0001"] {
        let got = store.rating_target(&sms(phone), "sms-1", 0).await.unwrap();
        assert_eq!(got, rate_target(&ticket), "{phone}");
    }
    let other = store.rating_target(&sms("13900000009"), "sms-1", 0).await;
    assert_eq!(other.unwrap(), RatingTarget::NoNotice);
    // Another route's key is another key.
    let wechat = Contact::Wechat {
        source_system: String::new(),
        openid: PHONE.into(),
    };
    let got = store.rating_target(&wechat, "sms-1", 0).await.unwrap();
    assert_eq!(got, RatingTarget::NoNotice);
}

#[tokio::test]
async fn the_most_recent_unrated_completion_and_a_retry_found_again() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let (t1, c1) = accept(&store, report("a", PHONE)).await;
    let second = report("b", PHONE);
    let (t2, c2) = accept(&store, second.clone()).await;
    assert_ne!(c1, c2);
    complete_and_send(&store, &c1, 0, 1_000).await;
    complete_and_send(&store, &c2, 0, 2_000).await;
    let target = |rating_id: &'static str| {
        let store = store.clone();
        async move {
            store
                .rating_target(&sms(PHONE), rating_id, 0)
                .await
                .unwrap()
        }
    };
    assert_eq!(target("sms-1").await, rate_target(&t2), "the most recent");

    // "Not solved" reopens the second case; its retry is still found, as a replay.
    rate(&store, &t2, "sms-1", Some(reopen(&c2, 2, &second))).await;
    let replay = RatingTarget::Rate {
        ticket_id: t2.clone(),
        replay: true,
    };
    assert_eq!(target("sms-1").await, replay);
    // Another reply rates the earlier completion, which still awaits one.
    assert_eq!(target("sms-2").await, rate_target(&t1));
    rate(&store, &t1, "sms-2", None).await;
    // Nothing awaits: the answer is about the most recent notice.
    let reopened = RatingTarget::Reopened {
        ticket_id: t2.clone(),
    };
    assert_eq!(target("sms-3").await, reopened);

    // Completed again, its new notice not sent yet: the old result is superseded.
    let again = |v: u64, action: Action, id: &str| {
        let mut u = update(&c2, "roads", v, action, id, 4);
        u.detail = serde_json::json!({ "result": "已更换新井盖" });
        u
    };
    assert!(
        store
            .update(again(3, Action::SignFor, "s2"))
            .await
            .unwrap()
            .outcome
            .applied
    );
    assert!(
        store
            .update(again(4, Action::Complete, "c2"))
            .await
            .unwrap()
            .outcome
            .applied
    );
    let superseded = RatingTarget::Superseded {
        ticket_id: t2.clone(),
    };
    assert_eq!(target("sms-3").await, superseded);
    // Sent: the second completion awaits its own rating, then is rated.
    let pending: Vec<_> = store
        .notices_of_case(&c2)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.state == "pending" && n.kind == "result")
        .map(|n| {
            let sent = Recorded::Sent {
                via: "sms".into(),
                receipt: "r2".into(),
            };
            (n.notice_id, sent)
        })
        .collect();
    assert_eq!(pending.len(), 1);
    store.record_notices(pending, 3_000).await.unwrap();
    assert_eq!(target("sms-3").await, rate_target(&t2));
    rate(&store, &t2, "sms-3", None).await;
    assert_eq!(target("sms-4").await, RatingTarget::Rated { ticket_id: t2 });
}

#[tokio::test]
async fn a_wechat_user_is_found_by_account_and_openid() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let mut t = report("w", "");
    t.request.channel = pb::Channel::Wechat as i32;
    t.request.source_system = "wechat:wx1".into();
    t.request.reporter = Some(pb::Reporter {
        wechat_openid: "oUser1".into(),
        ..Default::default()
    });
    let (ticket, case) = accept(&store, t).await;
    complete_and_send(&store, &case, 0, 1_000).await;
    let who = |source_system: &str, openid: &str| Contact::Wechat {
        source_system: source_system.into(),
        openid: openid.into(),
    };
    let found = store
        .rating_target(&who("wechat:wx1", "oUser1"), "wechat-1", 0)
        .await;
    assert_eq!(found.unwrap(), rate_target(&ticket));
    for (account, openid) in [("wechat:wx2", "oUser1"), ("wechat:wx1", "oUser2")] {
        let got = store
            .rating_target(&who(account, openid), "wechat-1", 0)
            .await;
        assert_eq!(got.unwrap(), RatingTarget::NoNotice, "{account}");
    }
    assert_eq!(
        format!("{:?}", who("wechat:wx1", "oUser1")),
        "Contact::Wechat(wechat:wx1, <openid>)"
    );
}

#[tokio::test]
async fn a_reply_finds_its_notice_in_a_sealed_store() {
    use crate::store::seal::{KEY_LEN, Keyring};
    let dir = tempfile::tempdir().unwrap();
    let keys = Keyring::new(vec![("k1".to_owned(), [9; KEY_LEN])], "k1").unwrap();
    let cfg = crate::config::service::StoreConfig {
        ..crate::store::test_db::config(&dir)
    };
    let (store, _feed, _w) = Store::open_sealed(
        &cfg,
        &crate::merge::MergeConfig::default(),
        Some(keys),
        std::sync::Arc::new(crate::telemetry::Metrics::default()),
    )
    .unwrap();
    let (ticket, case) = accept(&store, report("a", PHONE)).await;
    complete_and_send(&store, &case, 0, 5_000).await;
    // The ledger holds a keyed digest, not the plain one the planner computes.
    let c = crate::store::test_db::side(&dir);
    let stored: String = c
        .query_row("SELECT contact_key FROM notices", [], |r| r.get(0))
        .unwrap();
    let (_, plain) = sms(PHONE).key();
    assert_ne!(stored, plain);
    let got = store.rating_target(&sms(PHONE), "sms-1", 0).await.unwrap();
    assert_eq!(got, rate_target(&ticket));
}
