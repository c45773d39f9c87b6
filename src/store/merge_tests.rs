//! The store with merging on: decisions inside the writer's transaction, and the merge index
//! kept exactly in step with what is committed.
use std::sync::Arc;

use super::*;
use crate::config::service::StoreConfig;
use crate::merge::MergeConfig;
use crate::pb;

/// A manhole report by `phone` that merges with the others (shared with the notices tests).
pub(super) fn report(source_id: &str, phone: &str) -> NewTicket {
    let request = pb::Request {
        channel: pb::Channel::Hotline12345 as i32,
        source_system: "test".into(),
        source_id: source_id.into(),
        category: "road.manhole".into(),
        description: "东五路西侧路口井盖没了，晚上很危险".into(),
        location: Some(pb::Location {
            address: "新城区东五路西侧路口".into(),
            district_code: "610102".into(),
            ..Default::default()
        }),
        reporter: Some(pb::Reporter {
            phone: phone.into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    NewTicket {
        fan_out: Default::default(),
        merge: Some(crate::merge::probe(
            &request,
            crate::merge::Lexicon::builtin(),
            &|_| None,
            crate::time::now_ms(),
        )),
        request,
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
        emergency: false,
        follow_up: None,
    }
}

/// A store with merging on, on a fresh file in `dir`.
pub(super) fn open(dir: &tempfile::TempDir) -> (Store, OutboxFeed, WriterThread) {
    let cfg = StoreConfig {
        ..crate::store::test_db::config(dir)
    };
    let merge = MergeConfig {
        enabled: true,
        ..MergeConfig::default()
    };
    Store::open_with_merge(&cfg, &merge, Arc::new(Metrics::default())).expect("open store")
}

#[tokio::test]
async fn a_rolled_back_case_leaves_nothing_in_the_merge_index() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    // Make the write after the index change fail, once.
    let side = crate::store::test_db::side(&dir);
    side.execute_batch(match side.dialect() {
        crate::db::Dialect::Sqlite => {
            "INSERT INTO meta (key, value) VALUES ('fail', '1');
             CREATE TRIGGER fail_once BEFORE INSERT ON merge_members
               WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'fail')
               BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        }
        crate::db::Dialect::Postgres => {
            "INSERT INTO meta (key, value) VALUES ('fail', '1');
             CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 IF EXISTS (SELECT 1 FROM meta WHERE key = 'fail') THEN
                   RAISE EXCEPTION 'injected failure';
                 END IF;
                 RETURN NEW;
               END $$;
             CREATE TRIGGER fail_once BEFORE INSERT ON merge_members
               FOR EACH ROW EXECUTE FUNCTION fail_once();"
        }
    })
    .unwrap();
    assert!(store.accept(report("a", "13900000001")).await.is_err());
    side.execute("DELETE FROM meta WHERE key = 'fail'", [])
        .unwrap();

    let b = store.accept(report("b", "13900000002")).await.unwrap();
    assert_eq!(b.disposition, pb::Disposition::NewCase);
    let why = store.explain(&b.ticket_id).await.unwrap().unwrap();
    assert!(
        why.candidates.is_empty(),
        "a phantom case was indexed: {why:?}"
    );

    let c = store.accept(report("c", "13900000003")).await.unwrap();
    assert_eq!(
        (c.disposition, c.case_id),
        (pb::Disposition::Merged, b.case_id)
    );
}

#[tokio::test]
async fn reports_in_one_batch_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                s.accept(report(&format!("r{i}"), &format!("1390000{i:04}")))
                    .await
            })
        })
        .collect();
    let mut cases = std::collections::HashSet::new();
    for c in calls {
        cases.insert(c.await.unwrap().unwrap().case_id);
    }
    assert_eq!(cases.len(), 1);
}

#[tokio::test]
async fn the_index_is_rebuilt_from_the_store_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = {
        let (store, _feed, w) = open(&dir);
        let a = store.accept(report("a", "13900000001")).await.unwrap();
        drop(store);
        w.join().await;
        a
    };
    let (store, _feed, _w) = open(&dir);
    let b = store.accept(report("b", "13900000002")).await.unwrap();
    assert_eq!(
        (b.disposition, b.case_id),
        (pb::Disposition::Merged, first.case_id)
    );
}

#[tokio::test]
async fn a_case_closed_on_disk_is_no_target() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let a = store.accept(report("a", "13900000001")).await.unwrap();
    // Closed by the department (the progress loop writes this; here a side connection does).
    let side = crate::store::test_db::side(&dir);
    side.execute(
        "UPDATE cases SET status = ?2 WHERE case_id = ?1",
        crate::db::params![a.case_id, pb::CaseStatus::Closed as i32],
    )
    .unwrap();
    let b = store.accept(report("b", "13900000002")).await.unwrap();
    assert_eq!(b.disposition, pb::Disposition::NewCase);
    assert_ne!(b.case_id, a.case_id);
    let why = store.explain(&b.ticket_id).await.unwrap().unwrap();
    assert!(why.merged_into.is_empty(), "{why:?}");
    // And the closed case has left the index: the next report joins b's case.
    let c = store.accept(report("c", "13900000003")).await.unwrap();
    assert_eq!(c.case_id, b.case_id);
}
