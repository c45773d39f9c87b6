//! Two gateways on one PostgreSQL database: two `Store`s, each with its own writer and merge
//! index, accepting at the same moment (`merge_shared`, `ids`). Run when the store tests run on
//! PostgreSQL (`STORE_TESTS_PG_URL`); one SQLite file has one gateway.
use std::collections::HashSet;

use super::merge_tests::{open, report};
use super::*;
use crate::db;
use crate::pb;

/// Rounds per test: each a race between the two gateways.
const ROUNDS: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_report_at_two_gateways_at_once_is_one_ticket_and_one_replay() {
    if !test_db::is_pg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, _fa, _wa) = open(&dir);
    let (b, _fb, _wb) = open(&dir);
    let mut ids = HashSet::new();
    for i in 0..ROUNDS {
        let t = super::tests::ticket(&format!("dup-{i}"), pb::Channel::Hotline12345);
        let (x, y) = tokio::join!(a.accept(t.clone()), b.accept(t));
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.ticket_id, y.ticket_id, "round {i}");
        let mut d = [x.disposition, y.disposition];
        d.sort_by_key(|d| *d as i32);
        assert_eq!(
            d,
            [pb::Disposition::NewCase, pb::Disposition::Replay],
            "round {i}"
        );
        assert!(
            ids.insert(x.ticket_id),
            "numbers are never handed out twice"
        );
    }
    let n: i64 = test_db::side(&dir)
        .query_row("SELECT COUNT(*) FROM tickets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, ROUNDS as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reports_of_one_problem_at_two_gateways_at_once_are_one_case() {
    if !test_db::is_pg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, _fa, _wa) = open(&dir);
    let (b, _fb, _wb) = open(&dir);
    let mut tickets = HashSet::new();
    for i in 0..ROUNDS {
        // A district of its own per round: merging never crosses a district, so each round is
        // a problem nobody has reported yet.
        let district = format!("{}", 620_000 + i);
        let mut x = report(&format!("a-{i}"), "13900000001");
        let mut y = report(&format!("b-{i}"), "13900000002");
        for t in [&mut x, &mut y] {
            if let Some(l) = t.request.location.as_mut() {
                l.district_code = district.clone();
            }
            if let Some(p) = t.merge.as_mut() {
                p.district = 620_000 + i as u32;
            }
        }
        let (x, y) = tokio::join!(a.accept(x), b.accept(y));
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.case_id, y.case_id, "round {i}: one case");
        let mut d = [x.disposition, y.disposition];
        d.sort_by_key(|d| *d as i32);
        assert_eq!(
            d,
            [pb::Disposition::NewCase, pb::Disposition::Merged],
            "round {i}"
        );
        assert!(tickets.insert(x.ticket_id) && tickets.insert(y.ticket_id));
    }
    let cases: i64 = test_db::side(&dir)
        .query_row("SELECT COUNT(*) FROM cases", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cases, ROUNDS as i64);
}

/// Makes a gateway look dead to the others: its heartbeat and lease run out (as `TTL` after a
/// crash would).
fn expire(dir: &tempfile::TempDir, gateway: &str) {
    let c = test_db::side(dir);
    c.execute(
        "UPDATE gateways SET alive_until = 0 WHERE gateway_id = ?1",
        db::params![gateway],
    )
    .unwrap();
    c.execute(
        "UPDATE leases SET until = 0 WHERE holder = ?1",
        db::params![gateway],
    )
    .unwrap();
}

#[tokio::test]
async fn a_dead_gateways_outbox_rows_are_adopted_by_a_live_one() {
    use crate::outbox::OutboxSource;
    if !test_db::is_pg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, _fa, _wa) = open(&dir);
    let (b, _fb, _wb) = open(&dir);
    for i in 0..3 {
        a.accept(super::tests::ticket(
            &format!("r{i}"),
            pb::Channel::Hotline12345,
        ))
        .await
        .unwrap();
    }
    assert_eq!(a.pending().await.unwrap().len(), 3);
    assert!(b.pending().await.unwrap().is_empty(), "a's rows are a's");
    assert!(
        b.heartbeat().await.unwrap().adopted.is_empty(),
        "a is alive"
    );

    expire(&dir, a.gateway_id());
    let beat = b.heartbeat().await.unwrap();
    assert_eq!(beat.adopted.len(), 3);
    assert_eq!(b.pending().await.unwrap().len(), 3);
    assert!(a.pending().await.unwrap().is_empty());
    assert!(
        b.heartbeat().await.unwrap().adopted.is_empty(),
        "taken once"
    );
}

#[tokio::test]
async fn the_timers_run_on_one_gateway_and_move_when_it_stops() {
    if !test_db::is_pg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, _fa, wa) = open(&dir);
    let (b, _fb, wb) = open(&dir);
    assert!(
        a.heartbeat().await.unwrap().timers,
        "the first gateway takes the lease"
    );
    assert!(!b.heartbeat().await.unwrap().timers);
    assert!(a.heartbeat().await.unwrap().adopted.is_empty());

    // a crashes: once its lease has run out, b takes it and a (were it still running) has lost it.
    expire(&dir, a.gateway_id());
    assert!(b.heartbeat().await.unwrap().timers);
    assert!(!a.heartbeat().await.unwrap().timers);
    assert!(a.due_notices(i64::MAX, 10).await.unwrap().is_empty());

    // b stops on purpose: a takes the lease at its next beat, without waiting for TTL.
    let (c, _fc, _wc) = open(&dir);
    drop(a);
    wa.join().await;
    assert!(!c.heartbeat().await.unwrap().timers, "b holds it");
    drop(b);
    wb.join().await;
    assert!(c.heartbeat().await.unwrap().timers, "b signed off");
}
