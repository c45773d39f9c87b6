//! Provisional deadlines on a real database file: recorded with the case (and each
//! co-handler), marked on the dispatch and `GetTicket`, and recounted into a `CASE_UPDATED`
//! dispatch exactly once.
use std::sync::Arc;

use prost::Message;

use super::*;
use crate::pb;

const DAY: i64 = 86_400_000;
/// Some instant in a provisional year; the store takes due times as given.
const DUE: i64 = 1_800_000_000_000;

fn route(department: &str, provisional: &[i64]) -> RouteDecision {
    RouteDecision {
        department_id: department.into(),
        routing_key: format!("dept.{department}"),
        level: pb::Level::BStreet,
        due_at_ms: DUE,
        working_days: Some(13),
        counted_from_ms: 0,
        provisional_years: provisional.to_vec(),
        rule_id: format!("rule-{department}"),
        routing_version: "v1".into(),
        clocks: None,
        escalation: None,
    }
}

fn ticket(source_id: &str, provisional: &[i64], co: Option<&str>) -> NewTicket {
    NewTicket {
        request: pb::Request {
            channel: pb::Channel::Hotline12345 as i32,
            source_system: "test".into(),
            source_id: source_id.into(),
            description: "油烟扰民".into(),
            category: "env.fume".into(),
            ..Default::default()
        },
        route: route("eco-env", provisional),
        priority: 0,
        emergency: false,
        follow_up: None,
        merge: None,
        fan_out: FanOut {
            co_handlers: co
                .map(|d| CoDispatch {
                    route: route(d, provisional),
                    json: false,
                })
                .into_iter()
                .collect(),
            ..Default::default()
        },
    }
}

fn open(dir: &tempfile::TempDir) -> (Store, OutboxFeed, WriterThread) {
    Store::open(
        &crate::store::test_db::config(dir),
        Arc::new(Metrics::default()),
    )
    .expect("open store")
}

/// Every outbox row's routing key and decoded dispatch, oldest first.
fn outbox(dir: &tempfile::TempDir) -> Vec<(String, pb::Dispatch)> {
    let conn = crate::store::test_db::side(dir);
    let mut stmt = conn
        .prepare("SELECT routing_key, payload FROM outbox ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| {
        let payload: Vec<u8> = r.get(1)?;
        Ok((r.get(0)?, pb::Dispatch::decode(payload.as_slice()).unwrap()))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn recount(p: &ProvisionalDeadline, due_at_ms: i64, years: &[i64]) -> Recount {
    Recount {
        case_id: p.case_id.clone(),
        department_id: p.department_id.clone(),
        old_due_at_ms: p.due_at_ms,
        due_at_ms,
        years: years.to_vec(),
        json: false,
        reason: "deadline recounted: the official calendar for 2027 replaced the provisional one"
            .into(),
    }
}

#[tokio::test]
async fn a_provisional_deadline_is_marked_and_recounted_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let accepted = store.accept(ticket("1", &[2027], None)).await.unwrap();
    assert!(accepted.due_provisional);
    let view = store.ticket(&accepted.ticket_id).await.unwrap().unwrap();
    assert!(view.due_provisional);
    let rows = outbox(&dir);
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].1.due_at_provisional,
        "the NEW_CASE dispatch says so"
    );

    let held = store.provisional_deadlines().await.unwrap();
    assert_eq!(
        held,
        [ProvisionalDeadline {
            case_id: accepted.case_id.clone(),
            department_id: "eco-env".into(),
            lead: true,
            counted_from_ms: held[0].counted_from_ms,
            working_days: 13,
            due_at_ms: DUE,
            years: vec![2027],
        }]
    );

    // The official calendar moves it a day earlier: one CASE_UPDATED, the case moves too.
    let made = store
        .apply_recounts(vec![recount(&held[0], DUE - DAY, &[])])
        .await
        .unwrap();
    assert_eq!(made, 1);
    let rows = outbox(&dir);
    assert_eq!(rows.len(), 2);
    let (key, update) = &rows[1];
    assert_eq!(key, "dept.eco-env");
    assert_eq!(update.kind, pb::DispatchKind::CaseUpdated as i32);
    assert_eq!(
        update.due_at.as_ref().map(crate::time::timestamp_to_ms),
        Some(DUE - DAY)
    );
    assert!(!update.due_at_provisional);
    assert!(update.update_reason.contains("2027"), "{update:?}");
    assert!(update.routing_reason.is_empty());
    let view = store.ticket(&accepted.ticket_id).await.unwrap().unwrap();
    assert_eq!(view.due_at_ms, DUE - DAY);
    assert!(!view.due_provisional);
    assert!(store.provisional_deadlines().await.unwrap().is_empty());
    // The holder's unit deadline and completion clock moved with it.
    let l = store
        .case_loop(&accepted.case_id, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(l.unit_due_at_ms, DUE - DAY);
    let red: i64 = crate::store::test_db::side(&dir)
        .query_row("SELECT red_at FROM unit_clocks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(red, DUE - DAY);

    // The same recount again (a second reload, a restart) finds nothing to do.
    let made = store
        .apply_recounts(vec![recount(&held[0], DUE - DAY, &[])])
        .await
        .unwrap();
    assert_eq!(made, 0);
    assert_eq!(outbox(&dir).len(), 2);
}

#[tokio::test]
async fn co_handlers_are_recounted_on_their_own_deadline_and_queue() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let accepted = store
        .accept(ticket("1", &[2027, 2028], Some("urban-mgmt")))
        .await
        .unwrap();
    let rows = outbox(&dir);
    assert_eq!(rows.len(), 2);
    assert!(
        rows[1].1.due_at_provisional,
        "the co-handler's dispatch too"
    );
    let held = store.provisional_deadlines().await.unwrap();
    assert_eq!(held.len(), 2);
    let co = held.iter().find(|p| !p.lead).unwrap();
    assert_eq!(co.department_id, "urban-mgmt");
    // 2027 comes in, 2028 is still provisional: the co-handler's deadline moves.
    let made = store
        .apply_recounts(vec![recount(co, DUE + DAY, &[2028])])
        .await
        .unwrap();
    assert_eq!(made, 1);
    let rows = outbox(&dir);
    let (key, update) = &rows[2];
    assert_eq!(key, "dept.urban-mgmt");
    assert_eq!(update.department_id, "urban-mgmt");
    assert_eq!(update.lead_department_id, "eco-env");
    assert!(update.due_at_provisional, "2028 is still provisional");
    // The lead's deadline did not change.
    let view = store.ticket(&accepted.ticket_id).await.unwrap().unwrap();
    assert_eq!(view.due_at_ms, DUE);
    let held = store.provisional_deadlines().await.unwrap();
    let co = held.iter().find(|p| !p.lead).unwrap();
    assert_eq!(
        (co.due_at_ms, co.years.as_slice()),
        (DUE + DAY, &[2028][..])
    );
}

#[tokio::test]
async fn an_unmoved_deadline_becomes_official_without_a_dispatch_and_official_ones_are_not_held() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let official = store.accept(ticket("0", &[], None)).await.unwrap();
    assert!(!official.due_provisional);
    store.accept(ticket("1", &[2027], None)).await.unwrap();
    let held = store.provisional_deadlines().await.unwrap();
    assert_eq!(held.len(), 1, "only the provisional one is held");
    let made = store
        .apply_recounts(vec![recount(&held[0], DUE, &[])])
        .await
        .unwrap();
    assert_eq!(made, 0);
    assert_eq!(outbox(&dir).len(), 2);
    assert!(store.provisional_deadlines().await.unwrap().is_empty());
}
