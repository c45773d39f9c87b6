//! The console's reads on a real database file: a department's operator counts and lists only
//! the cases its departments hold; the coordination centre (no scope) sees them all.
use std::sync::Arc;

use super::*;
use crate::config::service::StoreConfig;
use crate::pb;

/// A hotline report routed to `department`.
fn report(source_id: &str, department: &str) -> NewTicket {
    let mut t = super::tests::ticket(source_id, pb::Channel::Hotline12345);
    t.route.department_id = department.into();
    t.route.routing_key = format!("dept.{department}");
    t
}

#[tokio::test]
async fn a_departments_scope_sees_only_its_own_cases() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = StoreConfig {
        max_batch: 64,
        outbox_budget: 100,
        ..crate::store::test_db::config(&dir)
    };
    let (store, _feed, _w) = Store::open(&cfg, Arc::new(Metrics::default())).expect("open");
    let mut cases = Vec::new();
    for (id, dept) in [("r1", "roads"), ("r2", "roads"), ("w1", "water")] {
        cases.push(store.accept(report(id, dept)).await.unwrap().case_id);
    }
    let roads = || Some(vec!["roads".to_owned()]);
    let q = || BoardQuery {
        limit: 100,
        ..Default::default()
    };

    let (rows, tallies) = store.console_board(roads(), q()).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.department_id == "roads"), "{rows:?}");
    assert!(tallies.iter().all(|t| t.department_id == "roads"));
    assert_eq!(tallies.iter().map(|t| t.count).sum::<u32>(), 2);

    let (all, tallies) = store.console_board(None, q()).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(tallies.iter().map(|t| t.count).sum::<u32>(), 3);
    let (none, _) = store
        .console_board(Some(vec!["greening".into()]), q())
        .await
        .unwrap();
    assert!(none.is_empty());

    let count = |v: &[IntakeCount]| v.iter().map(|c| c.count).sum::<u32>();
    assert_eq!(count(&store.console_intake(0, roads()).await.unwrap()), 2);
    assert_eq!(count(&store.console_intake(0, None).await.unwrap()), 3);
    let water = Some(vec!["water".to_owned(), "noise".to_owned()]);
    assert_eq!(count(&store.console_intake(0, water).await.unwrap()), 1);

    // The case page reads any case; the console checks its holder against the operator.
    let story = store.console_case(&cases[2], 0).await.unwrap().expect("w1");
    assert_eq!(story.head.department_id, "water");
    assert_eq!(story.head.version, 0);
    assert_eq!(story.head.extension_due_at_ms, None);
}
