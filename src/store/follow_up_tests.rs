//! A reporter's follow-up within the window joins their open case as a case update; outside
//! the window, into a closed case, or from an emergency line it opens a case of its own.
use super::tests::{open, ticket};
use super::*;
use crate::outbox::OutboxSource;
use crate::pb;

pub(super) fn follow_up(
    source_id: &str,
    reporter: &str,
    window_ms: i64,
    route_to: &str,
) -> NewTicket {
    let mut t = ticket(source_id, pb::Channel::Wechat);
    t.route.department_id = route_to.into();
    t.route.routing_key = format!("dept.{route_to}");
    t.follow_up = Some(FollowUp {
        reporter_key: reporter.into(),
        window_ms,
    });
    t
}

#[tokio::test]
async fn a_follow_up_joins_the_reporters_open_case_as_a_case_update() {
    use prost::Message;
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w, _) = open(&dir, 100);
    let first = store
        .accept(follow_up("f1", "wechat:app:o1", 600_000, "roads"))
        .await
        .unwrap();
    assert_eq!(first.disposition, pb::Disposition::NewCase);
    // The photo routes elsewhere on its own, but it belongs to the case the text opened.
    let second = store
        .accept(follow_up("f2", "wechat:app:o1", 600_000, "urban-mgmt"))
        .await
        .unwrap();
    assert_eq!(second.disposition, pb::Disposition::Merged);
    assert_eq!(second.case_id, first.case_id);
    assert_eq!(second.department_id, "roads");
    assert_ne!(second.ticket_id, first.ticket_id);
    let other = store
        .accept(follow_up("f3", "wechat:app:o2", 600_000, "roads"))
        .await
        .unwrap();
    assert_eq!(
        other.disposition,
        pb::Disposition::NewCase,
        "another citizen is another case"
    );

    let ids = super::tests::waiting_ids(&store).await;
    let msgs = store.load(ids).await.unwrap();
    assert_eq!(msgs.len(), 3, "every report is dispatched");
    let update = pb::Dispatch::decode(msgs[1].payload.as_slice()).unwrap();
    assert_eq!(update.kind, pb::DispatchKind::CaseUpdated as i32);
    assert_eq!(msgs[1].routing_key, "dept.roads");
    assert_eq!(update.department_id, "roads");
    assert_eq!(update.case.as_ref().map(|c| c.report_count), Some(2));
    assert_eq!(update.tickets[0].ticket_id, second.ticket_id);
    let view = store.ticket(&second.ticket_id).await.unwrap().unwrap();
    assert_eq!(view.case_id, first.case_id);
}

#[tokio::test]
async fn a_follow_up_outside_the_window_or_into_a_closed_case_opens_a_new_case() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w, _) = open(&dir, 100);
    let a = store
        .accept(follow_up("w1", "k", 600_000, "roads"))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let late = store
        .accept(follow_up("w2", "k", 5, "roads"))
        .await
        .unwrap();
    assert_eq!(late.disposition, pb::Disposition::NewCase);
    assert_ne!(late.case_id, a.case_id);

    let side = crate::store::test_db::side(&dir);
    side.execute(
        "UPDATE cases SET status = ?1",
        crate::db::params![pb::CaseStatus::Closed as i32],
    )
    .unwrap();
    drop(side);
    let after_close = store
        .accept(follow_up("w3", "k", 600_000, "roads"))
        .await
        .unwrap();
    assert_eq!(
        after_close.disposition,
        pb::Disposition::NewCase,
        "a closed case takes no more reports"
    );
}

#[tokio::test]
async fn an_emergency_is_never_absorbed_into_another_case() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w, _) = open(&dir, 100);
    let a = store
        .accept(follow_up("e1", "caller", 600_000, "roads"))
        .await
        .unwrap();
    let mut fire = ticket("e2", pb::Channel::Emergency119);
    fire.follow_up = Some(FollowUp {
        reporter_key: "caller".into(),
        window_ms: 600_000,
    });
    let b = store.accept(fire).await.unwrap();
    assert_eq!(b.disposition, pb::Disposition::NewCase);
    assert_ne!(b.case_id, a.case_id);
}
