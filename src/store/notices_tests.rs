//! The sent-ledger on a real database file: a completion plans one notice per reporter in its
//! own transaction, skips are recorded with their reasons, outcomes are recorded once, and a
//! retry falls due again only at its time.
use super::merge_tests::{open, report};
use super::updates_tests::update;
use super::*;
use crate::handling::machine::Action;
use crate::notify::{Route, plan::Skip};

fn complete(case_id: &str, version: u64, answered: &[&str]) -> CaseUpdate {
    let mut u = update(case_id, "roads", version, Action::Complete, "done", 9);
    u.detail = serde_json::json!({
        "result": "井盖已补装",
        "handling_type": "HANDLING_TYPE_PROMISED",
        "answered_ticket_ids": answered,
    });
    u
}

#[tokio::test]
async fn a_completion_plans_one_notice_per_reporter_and_records_each_outcome_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _feed, _w) = open(&dir);
    let a = store.accept(report("a", "13900000001")).await.unwrap();
    let mut quiet = report("b", "13900000002");
    if let Some(r) = quiet.request.reporter.as_mut() {
        r.no_contact = true;
    }
    let b = store.accept(quiet).await.unwrap();
    let again = store
        .accept(report("c", "+86 139 0000 0001"))
        .await
        .unwrap();
    let told = store.accept(report("d", "13900000004")).await.unwrap();
    let case = a.case_id.clone();
    for t in [&b, &again, &told] {
        assert_eq!(t.case_id, case, "the four reports merge into one case");
    }
    // Nothing is planned before the case completes.
    assert!(store.notices_of_case(&case).await.unwrap().is_empty());

    let signed = store
        .update(update(&case, "roads", 0, Action::SignFor, "sign", 1))
        .await
        .unwrap();
    assert!(signed.outcome.applied);
    let d = store
        .update(complete(&case, 1, &[&told.ticket_id]))
        .await
        .unwrap();
    assert!(d.outcome.applied, "{d:?}");
    assert_eq!(d.notices.routes, [Route::Sms]);
    assert_eq!(
        d.notices.skipped,
        [Skip::NoContact, Skip::Duplicate, Skip::AnsweredByDepartment]
    );
    let views = store.notices_of_case(&case).await.unwrap();
    let states: Vec<(&str, &str, Option<&str>)> = views
        .iter()
        .map(|v| (v.ticket_id.as_str(), v.state.as_str(), v.reason.as_deref()))
        .collect();
    assert_eq!(
        states,
        [
            (a.ticket_id.as_str(), "pending", None),
            (b.ticket_id.as_str(), "skipped", Some("no_contact")),
            (again.ticket_id.as_str(), "skipped", Some("duplicate")),
            (
                told.ticket_id.as_str(),
                "skipped",
                Some("answered_by_department")
            ),
        ]
    );

    // Due at once, with what the sender needs.
    let now = crate::time::now_ms() + 1_000;
    let due = store.due_notices(now, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    let n = &due[0];
    assert_eq!(n.route, Route::Sms);
    assert_eq!(n.address.phone, "13900000001");
    assert_eq!(n.facts.result, "井盖已补装");
    assert_eq!(n.facts.ticket_id, a.ticket_id);
    assert_eq!(n.notice_id, format!("{case}/2/result/0"));

    // A failed attempt: due again only at its time, one attempt counted.
    let again_at = now + 30_000;
    let retry = Recorded::Again {
        next_at: again_at,
        error: "503".into(),
        attempted: true,
    };
    let recorded = store
        .record_notices(vec![(n.notice_id.clone(), retry)], now)
        .await
        .unwrap();
    assert_eq!(recorded, 1);
    assert!(store.due_notices(now, 10).await.unwrap().is_empty());
    assert_eq!(store.next_notice_due().await.unwrap(), Some(again_at));
    let due = store.due_notices(again_at, 10).await.unwrap();
    assert_eq!(due[0].attempts, 1);

    // Sent: recorded once; a second record of the same attempt changes nothing.
    let sent = Recorded::Sent {
        via: "sms".into(),
        receipt: "r-1".into(),
    };
    let first = store
        .record_notices(vec![(n.notice_id.clone(), sent.clone())], again_at)
        .await
        .unwrap();
    let second = store
        .record_notices(vec![(n.notice_id.clone(), sent)], again_at + 1)
        .await
        .unwrap();
    assert_eq!((first, second), (1, 0));
    let v = &store.notices_of_case(&case).await.unwrap()[0];
    assert_eq!(
        (v.state.as_str(), v.attempts, v.sent_at, v.via.as_deref()),
        ("sent", 2, Some(again_at), Some("sms"))
    );
    assert_eq!(store.next_notice_due().await.unwrap(), None);

    // A duplicate of the completion plans nothing more.
    let replay = store
        .update(complete(&case, 1, &[&told.ticket_id]))
        .await
        .unwrap();
    assert!(replay.replay);
    assert_eq!(replay.notices, PlannedNotices::default());
    assert_eq!(store.notices_of_case(&case).await.unwrap().len(), 4);
}
