//! Ratings (回访) against the real binary and a real RabbitMQ (one vhost per test): a "not
//! solved" rating over `minhu.v1.Feedback` reopens the case (二次办理) to the department that
//! completed it, as a new dispatch on its queue; the next "not solved" past
//! `[handling] max_reopens` goes to the city's supervision queue instead. The follow-up form
//! behind an e-mail's link records one rating per link and refuses forged and expired links.
mod common;

use common::broker::{TestVhost, drain};
use common::gateway::{Gateway, Options, submit};
use common::handling::{WAIT, dispatch, handling, header, road_report};
use common::http::send;
use minhu::handling::followup_link::Links;
use minhu::pb;
use minhu::pb::feedback_client::FeedbackClient;
use prost::Message;
use tonic::Code;

/// The follow-up links' signing key in these tests.
const KEY: &str = "test-key-of-at-least-thirty-two-bytes!";

fn options(url: &str) -> Options {
    let mut o = Options::new(url);
    o.extra = format!("[feedback]\npublic_url = \"http://127.0.0.1\"\nkey = \"{KEY}\"\n");
    o
}

/// Signs for and completes `case` (at `version`) as roads; the version after.
async fn complete(gw: &Gateway, case: &str, version: u64, tag: &str) -> u64 {
    let mut h = handling(gw).await;
    h.sign_for(pb::SignForRequest {
        header: header(case, "roads", version, &format!("s-{tag}")),
        note: String::new(),
    })
    .await
    .unwrap();
    let done = h
        .complete(pb::CompleteRequest {
            header: header(case, "roads", version + 1, &format!("c-{tag}")),
            result: "路面已修复".into(),
            handling_type: pb::HandlingType::Promised as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.status, pb::CaseStatus::Completed as i32);
    done.case_version
}

fn not_solved(ticket: &str, id: &str) -> pb::RateRequest {
    pb::RateRequest {
        ticket_id: ticket.into(),
        satisfaction: pb::Satisfaction::Dissatisfied as i32,
        solved: pb::Solved::No as i32,
        text: "路面还是塌的".into(),
        rating_id: id.into(),
        via: "hotline".into(),
    }
}

#[tokio::test]
async fn not_solved_reopens_to_the_same_department_then_goes_to_supervision() {
    let vhost = TestVhost::new("feedback-reopen");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &options(&vhost.url)).await;
    let accepted = submit(&mut gw.client().await, road_report("fb1"))
        .await
        .unwrap();
    let (case, ticket) = (accepted.case_id, accepted.ticket_id);
    dispatch(&vhost.url, "minhu.dept.roads").await;
    let mut fb = FeedbackClient::new(gw.channel().await);

    // Not completed yet: refused, nothing recorded.
    let early = fb.rate(not_solved(&ticket, "r0")).await.unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition, "{early:?}");
    // "Not solved" needs the citizen's words.
    let mut mute = not_solved(&ticket, "r0");
    mute.text.clear();
    let mute = fb.rate(mute).await.unwrap_err();
    assert_eq!(mute.code(), Code::InvalidArgument);
    assert!(mute.message().contains("text"), "{mute:?}");

    let version = complete(&gw, &case, 0, "1").await;
    let first = fb
        .rate(not_solved(&ticket, "r1"))
        .await
        .unwrap()
        .into_inner();
    assert!(first.reopened && !first.escalated, "{first:?}");
    assert_eq!(
        (first.status, first.reopens, first.department_id.as_str()),
        (pb::CaseStatus::Open as i32, 1, "roads")
    );
    // Back on roads' queue as a new dispatch, with the citizen's words.
    let again = dispatch(&vhost.url, "minhu.dept.roads").await;
    assert_eq!(again.kind, pb::DispatchKind::Redispatch as i32);
    assert!(
        again.update_reason.contains("二次办理") && again.update_reason.contains("路面还是塌的"),
        "{}",
        again.update_reason
    );
    // A retry of the same rating is answered as before and reopens nothing more.
    let replay = fb
        .rate(not_solved(&ticket, "r1"))
        .await
        .unwrap()
        .into_inner();
    assert!(replay.replay && replay.reopened, "{replay:?}");

    // Completed again; "not solved" once more is past max_reopens (1): supervision.
    let reopened_version = again.case.as_ref().map(|c| c.version).unwrap();
    assert_eq!(reopened_version, version + 1);
    complete(&gw, &case, reopened_version, "2").await;
    let second = fb
        .rate(not_solved(&ticket, "r2"))
        .await
        .unwrap()
        .into_inner();
    assert!(second.escalated && !second.reopened, "{second:?}");
    assert_eq!(second.status, pb::CaseStatus::Completed as i32);
    let city = drain(&vhost.url, "minhu.supervision.city", 1, WAIT).await;
    let ev = pb::SupervisionEvent::decode(city[0].data.as_slice()).unwrap();
    assert_eq!(ev.case_id, case);
    let esc = ev.escalation.unwrap();
    assert_eq!(
        (esc.trigger.as_str(), esc.target),
        ("reopened", pb::EscalationTarget::City as i32)
    );

    let t = gw
        .client()
        .await
        .get_ticket(pb::GetTicketRequest {
            ticket_id: ticket.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let events: Vec<&str> = t.history.iter().map(|h| h.event.as_str()).collect();
    assert_eq!(
        events.iter().filter(|e| **e == "rated").count(),
        2,
        "{events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| **e == "reopen").count(),
        1,
        "{events:?}"
    );
    // Two completions, two result notices (no sender configured here: unreachable).
    let results: Vec<_> = t.notices.iter().filter(|n| n.kind == "result").collect();
    assert_eq!(results.len(), 2, "{:?}", t.notices);
}

#[tokio::test]
async fn the_follow_up_form_records_one_rating_per_link() {
    let vhost = TestVhost::new("feedback-form");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &options(&vhost.url)).await;
    let accepted = submit(&mut gw.client().await, road_report("fb2"))
        .await
        .unwrap();
    let (case, ticket) = (accepted.case_id, accepted.ticket_id);
    complete(&gw, &case, 0, "1").await;
    let links = Links::new(KEY.as_bytes());
    // Far in the future: the gateway's clock is the real one here.
    let token = links.token(&ticket, i64::MAX / 2);
    let path = format!("/v1/feedback/{token}");

    let page = send(gw.http, "GET", &path, "", "", b"").await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("路面已修复"), "the result is shown");
    assert!(page.body.contains(&ticket));
    assert_eq!(page.header("Referrer-Policy"), Some("no-referrer"));

    let form = "application/x-www-form-urlencoded";
    let none = send(gw.http, "POST", &path, form, "", b"solved=yes").await;
    assert_eq!(none.status, 400, "no satisfaction chosen: {none:?}");
    let ok = send(
        gw.http,
        "POST",
        &path,
        form,
        "",
        b"satisfaction=1&solved=yes",
    )
    .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(ok.body.contains("已收到您的评价"));
    // The same form sent twice is the same rating; another answer on the link is refused.
    let twice = send(
        gw.http,
        "POST",
        &path,
        form,
        "",
        b"satisfaction=1&solved=yes",
    )
    .await;
    assert_eq!(twice.status, 200);
    let other = send(
        gw.http,
        "POST",
        &path,
        form,
        "",
        b"satisfaction=3&solved=yes",
    )
    .await;
    assert_eq!(other.status, 409, "{other:?}");

    let forged = Links::new(b"another-key-of-at-least-thirty-two-b").token(&ticket, i64::MAX / 2);
    let r = send(
        gw.http,
        "GET",
        &format!("/v1/feedback/{forged}"),
        "",
        "",
        b"",
    )
    .await;
    assert_eq!(r.status, 403);
    let expired = links.token(&ticket, 1_000);
    let r = send(
        gw.http,
        "GET",
        &format!("/v1/feedback/{expired}"),
        "",
        "",
        b"",
    )
    .await;
    assert_eq!(r.status, 410);
    let r = send(gw.http, "GET", "/v1/feedback/garbage", "", "", b"").await;
    assert_eq!(r.status, 404);

    let t = gw
        .client()
        .await
        .get_ticket(pb::GetTicketRequest { ticket_id: ticket })
        .await
        .unwrap()
        .into_inner();
    let rated: Vec<_> = t.history.iter().filter(|h| h.event == "rated").collect();
    assert_eq!(rated.len(), 1);
    assert!(
        rated[0].detail_json.contains("\"via\":\"form\""),
        "{rated:?}"
    );
    assert!(rated[0].detail_json.contains("SATISFACTION_SATISFIED"));
}
