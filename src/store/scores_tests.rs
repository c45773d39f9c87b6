//! 谁呼谁评 scores on a real database file: facts gathered from stints, handovers, audit and
//! ratings; scores kept and recomputed (idempotently) when an input changes; read by period.
//!
//! The story: three citizens report one missing manhole cover. Water gets it and returns it
//! unsigned, late (非本单位职责); roads signs and returns it (属地错误); water returns it again;
//! roads signs late and completes late. Both bounced a case that came back, so both are rated.
use super::merge_tests::{open, report};
use super::updates_tests::{db, update};
use super::*;
use crate::clocks::{Clock, UnitClocks};
use crate::handling::machine::Action;
use crate::scores::{Period, Rules, Verification};

const H: i64 = 3_600_000;

/// A route to `department` whose clocks started at `given`, with its sign-for and unit
/// deadlines, counted around the clock (wall time: the test needs no calendar).
fn routed(department: &str, given: i64, sign_due: i64, unit_due: i64) -> RouteDecision {
    RouteDecision {
        department_id: department.into(),
        routing_key: format!("dept.{department}"),
        level: pb::Level::CDistrict,
        due_at_ms: unit_due,
        working_days: None,
        counted_from_ms: given,
        provisional_years: Vec::new(),
        rule_id: "r".into(),
        routing_version: "v1".into(),
        clocks: Some(UnitClocks {
            sign_for: Some(Clock {
                yellow_at: sign_due,
                red_at: sign_due,
            }),
            complete: Clock {
                yellow_at: unit_due,
                red_at: unit_due,
            },
            around_the_clock: true,
            first_escalation_at: None,
        }),
        escalation: None,
    }
}

/// `department` returns the case at `version` with `reason`, to `to`.
async fn give_back(
    store: &Store,
    case: &str,
    department: &str,
    version: u64,
    reason: &str,
    to: RouteDecision,
    first: &NewTicket,
) {
    let mut u = update(
        case,
        department,
        version,
        Action::Return,
        &format!("ret-{version}"),
        version as u8,
    );
    u.detail = serde_json::json!({ "reason": reason, "text": "" });
    u.step = Step::Move(Box::new(Move {
        base_version: version,
        route: to,
        json: false,
        priority: 0,
        reason: "returned".into(),
        ticket_id: "T".into(),
        accepted_at_ms: 0,
        request: first.request.clone(),
    }));
    let d = store.update(u).await.unwrap();
    assert!(d.outcome.applied, "{d:?}");
}

async fn plain(store: &Store, case: &str, department: &str, version: u64, action: Action) {
    let id = format!("{}-{version}", action.as_str());
    let mut u = update(case, department, version, action, &id, 100 + version as u8);
    u.detail = serde_json::json!({ "result": "井盖已补装" });
    let d = store.update(u).await.unwrap();
    assert!(d.outcome.applied, "{d:?}");
}

/// The story up to roads' completion; returns the case, the three tickets and T0.
async fn bounced_then_completed_late(store: &Store) -> (String, Vec<String>, i64) {
    let t0 = crate::time::now_ms();
    let mut first = report("a", "13900000001");
    first.route = routed("water", t0 - 10 * H, t0 - 6 * H, t0 + 40 * H);
    let a = store.accept(first.clone()).await.unwrap();
    let b = store.accept(report("b", "13900000002")).await.unwrap();
    let c = store.accept(report("c", "13900000003")).await.unwrap();
    let case = a.case_id.clone();
    assert_eq!((b.case_id.as_str(), c.case_id.as_str()), (&*case, &*case));
    // Water: 4 h to sign, returned unsigned 6 h past it.
    let roads1 = routed("roads", t0 - H, t0 + H, t0 + 40 * H);
    give_back(
        store,
        &case,
        "water",
        0,
        "RETURN_REASON_NOT_OURS",
        roads1,
        &first,
    )
    .await;
    // Roads signs in time and returns it; it comes back to water, which returns it again at
    // once (in time: 4 h allowed, 3 h left).
    plain(store, &case, "roads", 1, Action::SignFor).await;
    let water2 = routed("water", t0 - H, t0 + 3 * H, t0 + 40 * H);
    give_back(
        store,
        &case,
        "roads",
        2,
        "RETURN_REASON_WRONG_PLACE",
        water2,
        &first,
    )
    .await;
    // Roads again: 4 h to sign, signed 6 h late; 8 h to complete, completed 2 h late.
    let roads2 = routed("roads", t0 - 10 * H, t0 - 6 * H, t0 - 2 * H);
    give_back(
        store,
        &case,
        "water",
        3,
        "RETURN_REASON_NOT_OURS",
        roads2,
        &first,
    )
    .await;
    plain(store, &case, "roads", 4, Action::SignFor).await;
    plain(store, &case, "roads", 5, Action::Complete).await;
    (case, vec![a.ticket_id, b.ticket_id, c.ticket_id], t0)
}

/// A reporter's rating through the writer, as the Feedback service sends it.
async fn rate_with(
    store: &Store,
    ticket_id: &str,
    satisfaction: pb::Satisfaction,
    solved: pb::Solved,
    reopen: Option<Box<CaseUpdate>>,
) -> Rated {
    let rated = store
        .rate(NewRating {
            request: pb::RateRequest {
                ticket_id: ticket_id.into(),
                satisfaction: satisfaction as i32,
                solved: solved as i32,
                text: "还是松的".into(),
                rating_id: format!("r-{ticket_id}"),
                via: "hotline".into(),
            },
            digest: [satisfaction as u8; 32],
            reopen,
            max_reopens: 1,
        })
        .await
        .unwrap();
    assert_eq!(rated.refused, None);
    rated
}

async fn rate_as(store: &Store, ticket_id: &str, s: pb::Satisfaction, solved: pb::Solved) {
    rate_with(store, ticket_id, s, solved, None).await;
}

async fn kept(store: &Store) -> Vec<KeptScore> {
    store.scores_in(Period::ALL, None).await.unwrap().0
}

fn of<'a>(scores: &'a [KeptScore], department: &str) -> &'a KeptScore {
    scores
        .iter()
        .find(|k| k.score.department_id == department)
        .unwrap_or_else(|| panic!("no score for {department}: {scores:#?}"))
}

#[tokio::test]
async fn a_bounced_case_completed_late_scores_both_departments_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let (case, tickets, t0) = bounced_then_completed_late(&store).await;

    let scores = kept(&store).await;
    assert_eq!(scores.len(), 2, "{scores:#?}");
    // Water: responsiveness 100 − (10 + 40 × 6/4) = 30; cooperation 100 − 50 (the first
    // return came back; the second did not, justified, 0); never completed: 0; handed on: 0.
    // 10 % × 30 + 20 % × 50 = 13.00.
    let water = of(&scores, "water");
    assert_eq!(water.facts.assignments.len(), 2);
    assert!(water.facts.handovers[0].came_back && !water.facts.handovers[1].came_back);
    let points: Vec<u32> = water.score.parts.iter().map(|p| p.points).collect();
    assert_eq!(points, [30, 50, 0, 0], "{:#?}", water.score);
    assert_eq!(water.score.total.0, 1300);
    assert_eq!(water.score.summary.counted_at, water.facts.handovers[1].at);

    // Roads before any rating: responsiveness 100 − (10 + 40 × 6/4) = 30 (its first sign-for
    // was in time); cooperation 50 (its return came back); completion 100 − (20 + 40 × 2/8)
    // = 70; unrated 80. 3 + 10 + 21 + 32 = 66.00.
    let roads = of(&scores, "roads");
    let points: Vec<u32> = roads.score.parts.iter().map(|p| p.points).collect();
    assert_eq!(points, [30, 50, 70, 80], "{:#?}", roads.score);
    assert_eq!(roads.score.total.0, 6600);
    assert!(roads.score.summary.completed && !roads.score.summary.completed_on_time);
    let crate::scores::Outcome::Completed(done) = roads.facts.outcome else {
        panic!("{:?}", roads.facts.outcome);
    };
    assert_eq!(done.unit_due_at, t0 - 2 * H);
    assert_eq!(done.verification, Verification::NotRequired);
    let computed = roads.computed_at;

    // Three reporters rate: 满意 (100), 基本满意 (80), 不满意 but solved (0): average 60.
    // 3 + 10 + 21 + 24 = 58.00. Each rating rescored the case.
    let said = [
        pb::Satisfaction::Satisfied,
        pb::Satisfaction::BasicallySatisfied,
        pb::Satisfaction::Dissatisfied,
    ];
    let mut totals = Vec::new();
    for (t, s) in tickets.iter().zip(said) {
        rate_as(&store, t, s, pb::Solved::Yes).await;
        totals.push(of(&kept(&store).await, "roads").score.total.0);
    }
    // 100 → 74.00; (100 + 80)/2 = 90 → 70.00; 60 → 58.00.
    assert_eq!(totals, [7400, 7000, 5800]);
    let roads = of(&kept(&store).await, "roads").clone();
    assert_eq!(roads.facts.ratings.len(), 3);
    assert_eq!(roads.score.summary.ratings.content(), 2);
    assert!(roads.computed_at >= computed);
    // Water's score did not move: ratings are of roads' work.
    assert_eq!(of(&kept(&store).await, "water").score.total.0, 1300);

    // Recomputing without a change writes nothing: computed_at stays.
    let c = db(&dir);
    case_scores::rescore(&c, &Rules::default(), &case, t0 + 100 * H).unwrap();
    let again = of(&kept(&store).await, "roads").clone();
    assert_eq!(again, roads);
}

#[tokio::test]
async fn verification_events_in_the_audit_trail_move_the_completion_part() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let (case, _, t0) = bounced_then_completed_late(&store).await;
    let c = db(&dir);
    let audit = |event: &str| {
        c.execute(
            "INSERT INTO audit (at, case_id, event, detail) VALUES (?1, ?2, ?3, '{}')",
            crate::db::params![t0, case, event],
        )
        .unwrap();
        case_scores::rescore(&c, &Rules::default(), &case, t0).unwrap();
    };
    let roads = |scores: Vec<KeptScore>| of(&scores, "roads").clone();
    // Waiting for the inspector: not verified, −20 from completion (70 → 50): −6.00.
    audit("verification_requested");
    let waiting = roads(kept(&store).await);
    let crate::scores::Outcome::Completed(done) = waiting.facts.outcome else {
        panic!("{:?}", waiting.facts.outcome);
    };
    assert_eq!(done.verification, Verification::NotVerified);
    assert_eq!(waiting.score.total.0, 6000);
    // Confirmed on site.
    audit("verified");
    let verified = roads(kept(&store).await);
    let crate::scores::Outcome::Completed(done) = verified.facts.outcome else {
        panic!("{:?}", verified.facts.outcome);
    };
    assert_eq!(done.verification, Verification::Verified);
    assert_eq!(verified.score.total.0, 6600);
}

#[tokio::test]
async fn scores_are_read_by_period_and_department() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let (_, _, t0) = bounced_then_completed_late(&store).await;
    let around = Period {
        from: t0 - H,
        until: t0 + H,
    };
    let (all, returns) = store.scores_in(around, None).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        returns,
        [("roads".to_string(), 1), ("water".to_string(), 2)]
    );
    // The ranking reads the same scores from their summary columns, without the parts.
    let without_parts = |kept: &[KeptScore]| {
        kept.iter()
            .map(|k| crate::scores::CaseScore {
                parts: Vec::new(),
                ..k.score.clone()
            })
            .collect::<Vec<_>>()
    };
    let (mut ranked, ranked_returns) = store.ranking_in(around).await.unwrap();
    ranked.sort_by(|a, b| (&a.case_id, &a.department_id).cmp(&(&b.case_id, &b.department_id)));
    assert_eq!(ranked, without_parts(&all), "in any order");
    assert_eq!(ranked_returns, returns);
    let (roads, _) = store.scores_in(around, Some("roads".into())).await.unwrap();
    assert_eq!(roads.len(), 1);
    assert_eq!(roads[0].score.department_id, "roads");
    let before = Period {
        from: t0 - 10 * H,
        until: t0 - H,
    };
    let (none, returns) = store.scores_in(before, None).await.unwrap();
    assert!(
        none.is_empty() && returns.is_empty(),
        "{none:?} {returns:?}"
    );
}

#[tokio::test]
async fn a_case_still_held_after_a_reopen_keeps_the_completers_score_with_the_redo() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let (case, tickets, _) = bounced_then_completed_late(&store).await;
    // "Not solved": reopened to roads (二次办理), −30 from completion (70 → 40): −9.00, and
    // the rating itself (不满意, not solved: 0) replaces "unrated" (80): −32.00.
    let t0 = crate::time::now_ms();
    let mut u = update(&case, "roads", 6, Action::Reopen, "reopen-6", 9);
    u.step = Step::Move(Box::new(Move {
        base_version: 6,
        route: routed("roads", t0, t0 + 4 * H, t0 + 40 * H),
        json: false,
        priority: 0,
        reason: "reopened (二次办理)".into(),
        ticket_id: "T".into(),
        accepted_at_ms: 0,
        request: report("a", "13900000001").request,
    }));
    let rated = rate_with(
        &store,
        &tickets[0],
        pb::Satisfaction::Dissatisfied,
        pb::Solved::No,
        Some(Box::new(u)),
    )
    .await;
    assert!(rated.response.reopened, "{rated:?}");
    let roads = of(&kept(&store).await, "roads").clone();
    let crate::scores::Outcome::Completed(done) = roads.facts.outcome else {
        panic!("{:?}", roads.facts.outcome);
    };
    assert_eq!(done.reopened, 1);
    assert_eq!(roads.score.total.0, 6600 - 900 - 3200);
    // The redo is a new stint of roads: one more assignment (not answered yet), same row.
    assert_eq!(roads.facts.assignments.len(), 3);
    assert_eq!(roads.facts.assignments[2].responded_at, None);
}

#[tokio::test]
async fn migration_16_fills_the_summary_columns_of_scores_kept_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, w) = open(&dir);
    bounced_then_completed_late(&store).await;
    let (before, _) = store.ranking_in(Period::ALL).await.unwrap();
    assert_eq!(before.len(), 2);
    assert!(before.iter().any(|s| s.summary.completed));
    drop(store);
    w.join().await;
    // Back to version 15: the columns and their index gone, the JSON kept (and 17 undone).
    let conn = crate::store::test_db::side(&dir);
    let back_to_15 = match conn.dialect() {
        crate::db::Dialect::Sqlite => "PRAGMA user_version = 15;",
        crate::db::Dialect::Postgres => {
            "DELETE FROM minhu_schema; INSERT INTO minhu_schema VALUES (15);"
        }
    };
    conn.execute_batch(&format!(
        "DROP INDEX case_scores_ranking;
         ALTER TABLE case_scores DROP COLUMN completed;
         ALTER TABLE case_scores DROP COLUMN completed_on_time;
         ALTER TABLE case_scores DROP COLUMN reopened;
         ALTER TABLE case_scores DROP COLUMN responded_on_time;
         ALTER TABLE case_scores DROP COLUMN satisfied;
         ALTER TABLE case_scores DROP COLUMN basically_satisfied;
         ALTER TABLE case_scores DROP COLUMN dissatisfied;
         ALTER TABLE case_scores DROP COLUMN unsolved;
         DROP TABLE gateways; DROP TABLE leases; ALTER TABLE outbox DROP COLUMN owner;
         DROP TABLE merge_districts;
         DROP INDEX merge_members_by_version;
         ALTER TABLE merge_members DROP COLUMN version;
         {back_to_15}"
    ))
    .unwrap();
    drop(conn);
    let (store, _feed, _w) = open(&dir);
    let (after, _) = store.ranking_in(Period::ALL).await.unwrap();
    assert_eq!(
        after, before,
        "the migration fills the columns from the JSON"
    );
}
