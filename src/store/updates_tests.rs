//! Departments' updates on a real database file: the ledger (a duplicate is answered once), the
//! version and holder checks, the state machine's refusals, a move with its REDISPATCH, and
//! AMQP outcomes in the outbox.
use std::sync::Arc;

use prost::Message;

use super::*;
use crate::config::service::StoreConfig;
use crate::handling::machine::Action;
use crate::outbox::OutboxSource;
use crate::pb;

pub(super) fn route(department: &str) -> RouteDecision {
    RouteDecision {
        department_id: department.into(),
        routing_key: format!("dept.{department}"),
        level: pb::Level::CDistrict,
        due_at_ms: 2_000_000_000_000,
        working_days: Some(5),
        counted_from_ms: 0,
        provisional_years: Vec::new(),
        rule_id: "r".into(),
        routing_version: "v1".into(),
        clocks: None,
        escalation: None,
    }
}

fn ticket(source_id: &str) -> NewTicket {
    ticket_routed(source_id, route("roads"))
}

/// A manhole report routed by `route` (shared with the clocks tests).
pub(super) fn ticket_routed(source_id: &str, route: RouteDecision) -> NewTicket {
    NewTicket {
        request: pb::Request {
            channel: pb::Channel::Hotline12345 as i32,
            source_system: "test".into(),
            source_id: source_id.into(),
            description: "井盖缺失".into(),
            category: "road.manhole".into(),
            ..Default::default()
        },
        route,
        priority: 0,
        emergency: false,
        follow_up: None,
        fan_out: Default::default(),
        merge: None,
    }
}

/// A store on a fresh file in `dir` (shared with the clocks tests).
pub(super) fn open(dir: &tempfile::TempDir) -> (Store, OutboxFeed, WriterThread) {
    let cfg = StoreConfig {
        max_batch: 64,
        outbox_budget: 1000,
        ..crate::store::test_db::config(dir)
    };
    Store::open(&cfg, Arc::new(Metrics::default())).expect("open store")
}

/// An update of `action` by `department` based on `version`; `id` is the update_id and also
/// varies the digest with `salt` (shared with the notices tests).
pub(super) fn update(
    case_id: &str,
    department: &str,
    version: u64,
    action: Action,
    id: &str,
    salt: u8,
) -> CaseUpdate {
    CaseUpdate {
        header: pb::UpdateHeader {
            update_id: id.into(),
            case_id: case_id.into(),
            department_id: department.into(),
            case_version: version,
            operator_id: "staff-7".into(),
        },
        action,
        digest: [salt; 32],
        detail: serde_json::json!({ "note": "ok" }),
        caller: Some("roads-cases".into()),
        via: Via::Grpc,
        step: Step::Plain,
        clocks: None,
        refused: None,
    }
}

/// A plain connection to the store file, to look at its rows.
pub(super) fn db(dir: &tempfile::TempDir) -> crate::db::Conn {
    crate::store::test_db::side(dir)
}

#[tokio::test]
async fn sign_for_progress_complete_each_once_with_audit_and_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let case = store.accept(ticket("a")).await.unwrap().case_id;
    let steps = [
        (Action::SignFor, pb::CaseStatus::Signed),
        (Action::Progress, pb::CaseStatus::InProgress),
        (Action::Complete, pb::CaseStatus::Completed),
    ];
    for (v, (action, want)) in steps.into_iter().enumerate() {
        let d = store
            .update(update(
                &case,
                "roads",
                v as u64,
                action,
                &format!("u{v}"),
                1,
            ))
            .await
            .unwrap();
        assert!(d.outcome.applied, "{d:?}");
        assert_eq!(d.outcome.status, want as i32);
        assert_eq!(d.outcome.case_version, v as u64 + 1);
        assert_eq!(d.outcome.holder_department_id, "roads");
    }
    let conn = db(&dir);
    let events: Vec<String> = conn
        .prepare("SELECT event FROM audit WHERE case_id = ?1 ORDER BY seq")
        .unwrap()
        .query_map(crate::db::params![&case], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(events, ["accepted", "sign_for", "progress", "complete"]);
    let detail: String = conn
        .query_row(
            "SELECT detail FROM audit WHERE event = 'sign_for'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    for part in [
        r#""caller":"roads-cases""#,
        r#""from":"OPEN""#,
        r#""to":"SIGNED""#,
    ] {
        assert!(detail.contains(part), "{detail}");
    }
    let ledger: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM case_updates WHERE code = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ledger, 3);
    // Completed: the case is no longer open, and nothing more is allowed.
    let d = store
        .update(update(&case, "roads", 3, Action::Progress, "u9", 1))
        .await
        .unwrap();
    assert_eq!(d.outcome.code, 9, "{d:?}");
    assert!(d.outcome.message.contains("the case is COMPLETED"), "{d:?}");
}

#[tokio::test]
async fn a_duplicate_is_answered_once_and_a_reused_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let case = store.accept(ticket("a")).await.unwrap().case_id;
    let first = store
        .update(update(&case, "roads", 0, Action::SignFor, "sign-1", 1))
        .await
        .unwrap();
    let again = store
        .update(update(&case, "roads", 0, Action::SignFor, "sign-1", 1))
        .await
        .unwrap();
    assert!(again.replay && !first.replay);
    assert_eq!(again.outcome, first.outcome);
    let other = store
        .update(update(&case, "roads", 1, Action::Progress, "sign-1", 2))
        .await
        .unwrap();
    assert_eq!(other.outcome.code, 6, "ALREADY_EXISTS: {other:?}");
    // Another department may use the same id for its own update.
    let conn = db(&dir);
    let (version, audits): (i64, i64) = conn
        .query_row(
            "SELECT version, (SELECT COUNT(*) FROM audit WHERE event = 'sign_for') FROM cases",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((version, audits), (1, 1));
}

#[tokio::test]
async fn stale_foreign_and_illegal_updates_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let case = store.accept(ticket("a")).await.unwrap().case_id;
    let cases = [
        // Another department's case: refused without telling it anything about the case.
        (
            update(&case, "water", 0, Action::SignFor, "w1", 1),
            7,
            "not held by department water",
        ),
        // Based on a version the case never had.
        (
            update(&case, "roads", 3, Action::SignFor, "r1", 1),
            10,
            "is at version 0",
        ),
        // Complete before signing for.
        (
            update(&case, "roads", 0, Action::Complete, "r2", 1),
            9,
            "the case is OPEN",
        ),
        (
            update("C404", "roads", 0, Action::SignFor, "r3", 1),
            5,
            "not found",
        ),
    ];
    for (u, code, text) in cases {
        let d = store.update(u).await.unwrap();
        assert_eq!(d.outcome.code, code, "{d:?}");
        assert!(d.outcome.message.contains(text), "{d:?}");
        assert!(!d.outcome.applied);
        if code == 7 {
            assert_eq!(d.outcome.holder_department_id, "");
        }
    }
    let (status, version): (i32, i64) = db(&dir)
        .query_row("SELECT status, version FROM cases", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((status, version), (pb::CaseStatus::Open as i32, 0));
}

#[tokio::test]
async fn a_return_hands_the_case_over_with_a_redispatch_and_an_amqp_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    // Its deadline counted a year without an official calendar (issue 12).
    let mut first = ticket("a");
    first.route.provisional_years = vec![2027];
    let accepted = store.accept(first).await.unwrap();
    assert_eq!(store.provisional_deadlines().await.unwrap().len(), 1);
    let case = accepted.case_id;
    let snap = store.case_snapshot(&case).await.unwrap().unwrap();
    assert_eq!((snap.version, snap.returned_by.len()), (0, 0));
    let mut next = route("urban-mgmt");
    next.due_at_ms = 2_100_000_000_000;
    let mut u = update(&case, "roads", 0, Action::Return, "ret-1", 1);
    u.via = Via::Amqp;
    u.step = Step::Move(Box::new(Move {
        base_version: 0,
        route: next,
        json: false,
        priority: 0,
        reason: "returned by roads".into(),
        ticket_id: accepted.ticket_id.clone(),
        accepted_at_ms: 0,
        request: snap.request.clone(),
    }));
    // Routed against an older version: nothing written, try again.
    let mut raced = u.clone();
    if let Step::Move(m) = &mut raced.step {
        m.base_version = 7;
    }
    assert!(matches!(
        store.update(raced).await,
        Err(StoreError::Raced(_))
    ));

    let d = store.update(u.clone()).await.unwrap();
    assert!(d.outcome.applied, "{d:?}");
    assert_eq!(d.outcome.status, pb::CaseStatus::Open as i32);
    assert_eq!(d.outcome.holder_department_id, "urban-mgmt");
    assert_eq!(
        d.outcome.unit_due_at,
        Some(crate::time::ms_to_timestamp(2_100_000_000_000))
    );
    let snap = store.case_snapshot(&case).await.unwrap().unwrap();
    assert_eq!(
        (snap.department_id.as_str(), snap.version),
        ("urban-mgmt", 1)
    );
    assert_eq!(snap.returned_by, ["roads"]);
    // roads let it go: a recount must not send it a case update.
    assert!(store.provisional_deadlines().await.unwrap().is_empty());

    // Outbox: the first dispatch, the REDISPATCH to urban-mgmt, the outcome to roads.
    let rows = store
        .load(super::tests::waiting_ids(&store).await)
        .await
        .unwrap();
    let mut keys: Vec<&str> = rows.iter().map(|r| r.routing_key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["dept.roads", "dept.urban-mgmt", "outcome.roads"]);
    let redispatch = rows
        .iter()
        .find(|r| r.routing_key == "dept.urban-mgmt")
        .unwrap();
    let body = pb::Dispatch::decode(redispatch.payload.as_slice()).unwrap();
    assert_eq!(body.kind, pb::DispatchKind::Redispatch as i32);
    assert_eq!(body.case.as_ref().map(|c| c.version), Some(1));
    assert_eq!(body.update_reason, "returned by roads");
    let outcome_row = rows
        .iter()
        .find(|r| r.routing_key == "outcome.roads")
        .unwrap();
    assert_eq!(outcome_row.dispatch_id, "outcome-roads-ret-1");
    let outcome = pb::UpdateOutcome::decode(outcome_row.payload.as_slice()).unwrap();
    assert_eq!(outcome, d.outcome);

    // Its confirm is no hand-off: the case stays OPEN until the REDISPATCH is confirmed.
    store.delivered(vec![outcome_row.id]).await.unwrap();
    let status: i32 = db(&dir)
        .query_row("SELECT status FROM cases", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, pb::CaseStatus::Open as i32);
    store.delivered(vec![redispatch.id]).await.unwrap();
    let status: i32 = db(&dir)
        .query_row("SELECT status FROM cases", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, pb::CaseStatus::Dispatched as i32);

    // The redelivered message: the first answer, and no second outcome message.
    let again = store.update(u).await.unwrap();
    assert!(again.replay);
    assert_eq!(store.pending().await.unwrap().len(), 1);
    // The department that returned it can no longer act on it.
    let d = store
        .update(update(&case, "roads", 1, Action::SignFor, "ret-2", 1))
        .await
        .unwrap();
    assert_eq!(d.outcome.code, 7);
}
