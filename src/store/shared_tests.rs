//! Two gateways on one PostgreSQL database: two `Store`s, each with its own writer and merge
//! index, accepting at the same moment (`merge_shared`, `ids`). Run when the store tests run on
//! PostgreSQL (`STORE_TESTS_PG_URL`); one SQLite file has one gateway.
use std::collections::HashSet;

use super::merge_tests::{open, report};
use super::*;
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
