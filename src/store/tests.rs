//! Store behaviour on a real database file: idempotency, group commit, the outbox budget,
//! confirms, resuming after a restart, and search. Follow-ups are in `follow_up_tests`, the
//! migration of older files in `migration_tests`.
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use super::*;
use crate::config::service::StoreConfig;
use crate::outbox::OutboxSource;
use crate::pb;

/// A report on `channel`, routed to roads (shared with the other store tests).
pub(super) fn ticket(source_id: &str, channel: pb::Channel) -> NewTicket {
    NewTicket {
        request: pb::Request {
            channel: channel as i32,
            source_system: "test".into(),
            source_id: source_id.into(),
            description: "井盖缺失".into(),
            category: "road.manhole".into(),
            ..Default::default()
        },
        route: RouteDecision {
            department_id: "roads".into(),
            routing_key: "dept.roads".into(),
            level: pb::Level::CDistrict,
            due_at_ms: 2_000_000_000_000,
            working_days: Some(5),
            counted_from_ms: 0,
            provisional_years: Vec::new(),
            rule_id: "roads".into(),
            routing_version: "v1".into(),
            clocks: None,
            escalation: None,
        },
        priority: 0,
        emergency: matches!(channel, pb::Channel::Emergency119),
        follow_up: None,
        fan_out: Default::default(),
        merge: None,
    }
}

/// The ids of every row waiting in the outbox, oldest first (as the relay sees them).
pub(super) async fn waiting_ids(store: &Store) -> Vec<i64> {
    let mut ids: Vec<i64> = store
        .pending()
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    ids.sort_unstable();
    ids
}

pub(super) fn open(
    dir: &tempfile::TempDir,
    budget: u64,
) -> (Store, OutboxFeed, WriterThread, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    let cfg = StoreConfig {
        max_batch: 512,
        outbox_budget: budget,
        ..crate::store::test_db::config(dir)
    };
    let (s, f, w) = Store::open(&cfg, metrics.clone()).expect("open store");
    (s, f, w, metrics)
}

#[tokio::test]
async fn accept_then_replay_returns_the_same_ticket_and_one_outbox_row() {
    let dir = tempfile::tempdir().unwrap();
    let (store, mut feed, _w, _) = open(&dir, 100);
    let first = store
        .accept(ticket("a", pb::Channel::Hotline12345))
        .await
        .unwrap();
    assert_eq!(first.disposition, pb::Disposition::NewCase);
    assert!(first.ticket_id.starts_with('T') && first.case_id.starts_with('C'));
    let again = store
        .accept(ticket("a", pb::Channel::Hotline12345))
        .await
        .unwrap();
    assert_eq!(again.disposition, pb::Disposition::Replay);
    assert_eq!(
        (again.ticket_id.as_str(), again.case_id.as_str()),
        (first.ticket_id.as_str(), first.case_id.as_str())
    );
    assert_eq!(store.pending().await.unwrap().len(), 1);
    assert!(feed.try_recv().is_ok());
    assert!(
        feed.try_recv().is_err(),
        "a replay must not create a second outbox row"
    );
    // Same source id on another channel is another report.
    let other = store
        .accept(ticket("a", pb::Channel::Wechat))
        .await
        .unwrap();
    assert_eq!(other.disposition, pb::Disposition::NewCase);
}

#[tokio::test]
async fn concurrent_accepts_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w, metrics) = open(&dir, 100_000);
    let tasks: Vec<_> = (0..500)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                s.accept(ticket(&format!("c{i}"), pb::Channel::Hotline12345))
                    .await
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().unwrap().ticket_id);
    }
    assert_eq!(ids.len(), 500, "ticket numbers are unique");
    let commits = metrics.store_commits.load(Relaxed);
    assert!(
        commits < 500,
        "500 concurrent accepts took {commits} commits: no grouping"
    );
    assert_eq!(metrics.outbox_depth.load(Relaxed), 500);
}

#[tokio::test]
async fn budget_refuses_normal_tickets_but_never_emergencies() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w, _) = open(&dir, 2);
    store
        .accept(ticket("1", pb::Channel::Hotline12345))
        .await
        .unwrap();
    store
        .accept(ticket("2", pb::Channel::Hotline12345))
        .await
        .unwrap();
    let err = store
        .accept(ticket("3", pb::Channel::Hotline12345))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::OutboxFull {
                depth: 2,
                budget: 2
            }
        ),
        "{err}"
    );
    store
        .accept(ticket("4", pb::Channel::Emergency119))
        .await
        .expect("emergency is exempt");
    // A replay of an accepted ticket needs no budget.
    let r = store
        .accept(ticket("1", pb::Channel::Hotline12345))
        .await
        .unwrap();
    assert_eq!(r.disposition, pb::Disposition::Replay);
    // Nothing half-written for the refused one.
    assert_eq!(store.pending().await.unwrap().len(), 3);
}

#[tokio::test]
async fn delivered_removes_rows_and_marks_the_case_dispatched() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w, metrics) = open(&dir, 100);
    let a = store
        .accept(ticket("d", pb::Channel::Hotline12345))
        .await
        .unwrap();
    let pending = store.pending().await.unwrap();
    let msgs = store
        .load(pending.iter().map(|e| e.id).collect())
        .await
        .unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].case_id, a.case_id);
    assert_eq!(msgs[0].channel, "CHANNEL_HOTLINE_12345");
    assert_eq!(msgs[0].level, "C");
    store.failed(msgs[0].id, "nack".into()).await.unwrap();
    assert_eq!(store.load(vec![msgs[0].id]).await.unwrap()[0].attempts, 1);
    let view = store.ticket(&a.ticket_id).await.unwrap().unwrap();
    assert!(view.dispatch_pending);
    assert_eq!(view.case_status, pb::CaseStatus::Open);

    store.delivered(vec![msgs[0].id]).await.unwrap();
    store
        .delivered(vec![msgs[0].id])
        .await
        .expect("a duplicate confirm is harmless");
    assert!(store.pending().await.unwrap().is_empty());
    assert_eq!(metrics.outbox_depth.load(Relaxed), 0);
    let view = store.ticket(&a.ticket_id).await.unwrap().unwrap();
    assert!(!view.dispatch_pending);
    assert_eq!(view.case_status, pb::CaseStatus::Dispatched);
    assert_eq!(view.request.description, "井盖缺失");
}

#[tokio::test]
async fn restart_resumes_numbers_and_keeps_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let first = {
        let (store, _feed, w, _) = open(&dir, 100);
        let a = store
            .accept(ticket("r1", pb::Channel::Hotline12345))
            .await
            .unwrap();
        drop(store);
        w.join().await;
        a
    };
    let (store, _feed, _w, metrics) = open(&dir, 100);
    assert_eq!(
        metrics.outbox_depth.load(Relaxed),
        1,
        "outbox survives a restart"
    );
    let b = store
        .accept(ticket("r2", pb::Channel::Hotline12345))
        .await
        .unwrap();
    assert!(
        b.ticket_id > first.ticket_id,
        "{} after {}",
        b.ticket_id,
        first.ticket_id
    );
    let replay = store
        .accept(ticket("r1", pb::Channel::Hotline12345))
        .await
        .unwrap();
    assert_eq!(replay.ticket_id, first.ticket_id);
}

#[tokio::test]
async fn unknown_ticket_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w, _) = open(&dir, 100);
    assert!(store.ticket("T00000000000000").await.unwrap().is_none());
}

#[tokio::test]
async fn a_command_failing_mid_write_fails_alone_and_numbering_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w, metrics) = open(&dir, 1000);
    let first = store
        .accept(ticket("m0", pb::Channel::Hotline12345))
        .await
        .unwrap();
    // Plant a ticket under the number the writer will hand out next, so the next accept fails
    // at the tickets insert, after its case row was already written.
    let next = format!(
        "T{}000002",
        crate::time::local_yyyymmdd(crate::time::now_ms())
    );
    let side = crate::store::test_db::side(&dir);
    side.execute(
        "INSERT INTO tickets (ticket_id, case_id, channel, source_system, source_id, disposition, accepted_at, request, seq)
         VALUES (?1, ?2, 1, 'planted', 'x', 1, 0, x'', 1000000)",
        crate::db::params![next, first.case_id],
    )
    .unwrap();
    drop(side);
    let tasks: Vec<_> = (1..=20)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                s.accept(ticket(&format!("m{i}"), pb::Channel::Hotline12345))
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    let mut failed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(a) => {
                assert_ne!(a.ticket_id, next);
                ok += 1;
            }
            Err(e) => {
                assert!(matches!(e, StoreError::Db(_)), "{e}");
                failed += 1;
            }
        }
    }
    assert_eq!(
        (ok, failed),
        (19, 1),
        "exactly the conflicting accept fails"
    );
    // Its half-written case was rolled back: cases and outbox match the accepted tickets.
    assert_eq!(store.pending().await.unwrap().len(), 20);
    assert_eq!(metrics.outbox_depth.load(Relaxed), 20);
    let conn = crate::store::test_db::side(&dir);
    let cases: i64 = conn
        .query_row("SELECT COUNT(*) FROM cases", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cases, 20);
}

#[tokio::test]
async fn search_filters_by_origin_category_status_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w, _) = open(&dir, 100);
    let add = |id: &str, system: &str, channel: pb::Channel, category: &str| {
        let mut t = ticket(id, channel);
        t.request.source_system = system.into();
        t.request.category = category.into();
        t
    };
    let a = add("s1", "open311:app", pb::Channel::WebPortal, "road.pothole");
    let b = add(
        "s2",
        "open311:app",
        pb::Channel::WebPortal,
        "light.streetlight",
    );
    let c = add(
        "s3",
        "citymgmt",
        pb::Channel::CityManagement,
        "road.pothole",
    );
    // Only the exact prefix counts.
    let d = add("s4", "open311x", pb::Channel::WebPortal, "road.pothole");
    let e = add(
        "s5",
        "xian-12345",
        pb::Channel::Hotline12345,
        "road.pothole",
    );
    for t in [a, b, c, d, e] {
        store.accept(t).await.unwrap();
    }
    let q = |category: Option<&str>, finished: Option<bool>| TicketQuery {
        from_ms: 0,
        to_ms: i64::MAX,
        source_system_prefix: "open311:".into(),
        channel: Some(pb::Channel::CityManagement),
        category: category.map(str::to_owned),
        finished,
        limit: 1000,
    };
    let ids = |v: Vec<TicketView>| {
        v.into_iter()
            .map(|t| t.request.source_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.search(q(None, None)).await.unwrap()),
        ["s3", "s2", "s1"],
        "newest first"
    );
    assert_eq!(
        ids(store.search(q(Some("road.pothole"), None)).await.unwrap()),
        ["s3", "s1"]
    );
    let side = crate::store::test_db::side(&dir);
    side.execute(
        "UPDATE cases SET status = ?1 WHERE case_id = (SELECT case_id FROM tickets WHERE source_id = 's1')",
        crate::db::params![pb::CaseStatus::Closed as i32],
    )
    .unwrap();
    assert_eq!(
        ids(store.search(q(None, Some(true))).await.unwrap()),
        ["s1"]
    );
    assert_eq!(
        ids(store.search(q(None, Some(false))).await.unwrap()),
        ["s3", "s2"]
    );
    let mut limited = q(None, None);
    limited.limit = 1;
    assert_eq!(store.search(limited).await.unwrap().len(), 1);
    let mut past = q(None, None);
    past.to_ms = 1;
    assert!(store.search(past).await.unwrap().is_empty());
}
