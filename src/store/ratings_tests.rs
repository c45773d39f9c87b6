//! Ratings on a real database file: recorded once per reporter and completion (a replay is
//! answered as before), "not solved" reopens the case to the department that completed it
//! and tells the other reporters, and past `max_reopens` goes to supervision instead.
use super::merge_tests::{open, report};
use super::updates_tests::{db, update};
use super::*;
use crate::handling::machine::Action;
use crate::notify::Route;

fn rating(ticket_id: &str, id: &str, solved: pb::Solved, text: &str) -> pb::RateRequest {
    pb::RateRequest {
        ticket_id: ticket_id.into(),
        satisfaction: if solved == pb::Solved::No {
            pb::Satisfaction::Dissatisfied as i32
        } else {
            pb::Satisfaction::Satisfied as i32
        },
        solved: solved as i32,
        text: text.into(),
        rating_id: id.into(),
        via: "hotline".into(),
    }
}

/// The reopen the rating path prepares: back to roads, based on `version`.
fn reopen(case_id: &str, version: u64, ticket: &NewTicket) -> Box<CaseUpdate> {
    let mut u = update(
        case_id,
        "roads",
        version,
        Action::Reopen,
        &format!("reopen-{version}"),
        3,
    );
    u.step = Step::Move(Box::new(Move {
        base_version: version,
        route: ticket.route.clone(),
        json: false,
        priority: 0,
        reason: "reopened (二次办理)".into(),
        ticket_id: "T".into(),
        accepted_at_ms: 0,
        request: ticket.request.clone(),
    }));
    Box::new(u)
}

async fn rate(store: &Store, r: pb::RateRequest, reopen: Option<Box<CaseUpdate>>) -> Rated {
    let digest = [r.rating_id.len() as u8 + r.solved as u8; 32];
    store
        .rate(NewRating {
            request: r,
            digest,
            reopen,
            max_reopens: 1,
        })
        .await
        .unwrap()
}

async fn sign_and_complete(store: &Store, case: &str, version: u64) {
    for (v, action) in [(version, Action::SignFor), (version + 1, Action::Complete)] {
        let mut u = update(
            case,
            "roads",
            v,
            action,
            &format!("{}-{v}", action.as_str()),
            1,
        );
        u.detail = serde_json::json!({ "result": "井盖已补装" });
        let d = store.update(u).await.unwrap();
        assert!(d.outcome.applied, "{d:?}");
    }
}

#[tokio::test]
async fn not_solved_reopens_once_then_goes_to_supervision() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let first = report("a", "13900000001");
    let a = store.accept(first.clone()).await.unwrap();
    let b = store.accept(report("b", "13900000002")).await.unwrap();
    let case = a.case_id.clone();
    assert_eq!(b.case_id, case);

    // Before completion a rating is refused, and nothing is recorded.
    let early = rate(
        &store,
        rating(&a.ticket_id, "r0", pb::Solved::Yes, ""),
        None,
    )
    .await;
    assert_eq!(early.refused.as_ref().map(|r| r.0), Some(9), "{early:?}");
    sign_and_complete(&store, &case, 0).await;

    // "Not solved": reopened to roads at version 3, the other reporter told.
    let r1 = rating(&a.ticket_id, "r1", pb::Solved::No, "井盖还是松的");
    let done = rate(&store, r1.clone(), Some(reopen(&case, 2, &first))).await;
    assert_eq!(done.refused, None);
    let resp = &done.response;
    assert!(resp.reopened && !resp.escalated, "{resp:?}");
    assert_eq!(
        (resp.reopens, resp.status),
        (1, pb::CaseStatus::Open as i32)
    );
    assert_eq!(done.notices.routes, [Route::Sms], "only the other reporter");
    let notices = store.notices_of_case(&case).await.unwrap();
    let reopened: Vec<_> = notices.iter().filter(|n| n.kind == "reopened").collect();
    assert_eq!(reopened.len(), 1);
    assert_eq!(reopened[0].ticket_id, b.ticket_id);
    let c = db(&dir);
    let (status, closed_at, holder): (i32, Option<i64>, String) = c
        .query_row(
            "SELECT status, closed_at, department_id FROM cases WHERE case_id = ?1",
            crate::db::params![&case],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (status, closed_at, holder.as_str()),
        (pb::CaseStatus::Open as i32, None, "roads")
    );
    let redispatches: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM dispatches WHERE case_id = ?1 AND kind = ?2",
            crate::db::params![case, pb::DispatchKind::Redispatch as i32],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        redispatches, 1,
        "the department gets the case again as a new dispatch"
    );

    // The same rating again is a replay; another rating while it is handled again is refused.
    let again = rate(&store, r1, Some(reopen(&case, 3, &first))).await;
    assert!(again.response.replay && again.response.reopened);
    let busy = rate(
        &store,
        rating(&b.ticket_id, "r2", pb::Solved::Yes, ""),
        None,
    )
    .await;
    assert_eq!(busy.refused.as_ref().map(|r| r.0), Some(9), "{busy:?}");

    // Completed again: the next "not solved" is past max_reopens = 1.
    sign_and_complete(&store, &case, 3).await;
    let r3 = rating(&b.ticket_id, "r3", pb::Solved::No, "还是没修好");
    let over = rate(&store, r3, Some(reopen(&case, 5, &first))).await;
    assert!(
        over.response.escalated && !over.response.reopened,
        "{over:?}"
    );
    assert_eq!(over.response.status, pb::CaseStatus::Completed as i32);
    let escalations: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE case_id = ?1 AND routing_key = 'escalated.city'",
            crate::db::params![&case],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(escalations, 1);

    // The first reporter rates the second completion: round 1, accepted.
    let fine = rate(
        &store,
        rating(&a.ticket_id, "r4", pb::Solved::Yes, ""),
        None,
    )
    .await;
    assert_eq!(fine.refused, None);
    // ... once.
    let twice = rate(
        &store,
        rating(&a.ticket_id, "r5", pb::Solved::Yes, ""),
        None,
    )
    .await;
    assert_eq!(twice.refused.as_ref().map(|r| r.0), Some(6), "{twice:?}");
    let rounds: Vec<(String, u32)> = store
        .ratings_of_case(&case)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.ticket_id, r.round))
        .collect();
    assert_eq!(
        rounds,
        [
            (a.ticket_id.clone(), 0),
            (b.ticket_id.clone(), 1),
            (a.ticket_id.clone(), 1)
        ]
    );
}

#[tokio::test]
async fn dissatisfied_but_solved_is_recorded_and_the_case_stays_completed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let a = store.accept(report("a", "13900000001")).await.unwrap();
    sign_and_complete(&store, &a.case_id, 0).await;
    let mut r = rating(&a.ticket_id, "r1", pb::Solved::Yes, "太慢了");
    r.satisfaction = pb::Satisfaction::Dissatisfied as i32;
    let done = rate(&store, r, None).await;
    assert_eq!(done.refused, None);
    assert!(!done.response.reopened && !done.response.escalated);
    assert_eq!(done.response.status, pb::CaseStatus::Completed as i32);
    let unknown = rate(&store, rating("T-nope", "r9", pb::Solved::Yes, ""), None).await;
    assert_eq!(unknown.refused.as_ref().map(|r| r.0), Some(5));
}

#[tokio::test]
async fn a_reopen_prepared_for_another_case_is_raced_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let first = report("a", "13900000001");
    let a = store.accept(first.clone()).await.unwrap();
    sign_and_complete(&store, &a.case_id, 0).await;
    // Prepared while the ticket still belonged to another case (split off since).
    let stale = reopen("C-elsewhere", 2, &first);
    let err = store
        .rate(NewRating {
            request: rating(&a.ticket_id, "r1", pb::Solved::No, "还是坏的"),
            digest: [7; 32],
            reopen: Some(stale),
            max_reopens: 1,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Raced(ref c) if *c == a.case_id),
        "{err:?}"
    );
    let c = db(&dir);
    let ratings: i64 = c
        .query_row("SELECT COUNT(*) FROM ratings", [], |r| r.get(0))
        .unwrap();
    let status: i32 = c
        .query_row(
            "SELECT status FROM cases WHERE case_id = ?1",
            crate::db::params![&a.case_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((ratings, status), (0, pb::CaseStatus::Completed as i32));
}
