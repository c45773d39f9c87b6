//! 谁呼谁评 against the real binary and a real RabbitMQ (its own vhost), with `[auth]` on:
//! departments complete cases over `minhu.v1.Handling`, citizens rate them over
//! `minhu.v1.Feedback.Rate`, and `GetDepartmentScores` ranks the departments from the scores
//! the store kept — the table for every department, per-case detail for the department itself
//! and the coordination centre only.
mod common;

use common::broker::TestVhost;
use common::gateway::{Gateway, Options, with_token};
use common::handling::{give_back, handling, header, road_report};
use minhu::pb;
use minhu::pb::feedback_client::FeedbackClient;
use tonic::Code;

fn options(url: &str) -> Options {
    let hash = |t: &str| minhu_adapter_emergency::auth::token_sha256_hex(t);
    let mut o = Options::new(url);
    o.extra = format!(
        "[auth]\nenabled = true\n\
         [[auth.callers]]\nid = \"hotline\"\ntoken_sha256 = \"{}\"\nchannels = [\"HOTLINE_12345\"]\nsource_systems = [\"test-system\"]\n\
         [[auth.callers]]\nid = \"roads-cases\"\ntoken_sha256 = \"{}\"\ndepartments = [\"roads\"]\n\
         [[auth.callers]]\nid = \"urban-cases\"\ntoken_sha256 = \"{}\"\ndepartments = [\"urban-mgmt\"]\n\
         [[auth.callers]]\nid = \"centre\"\ntoken_sha256 = \"{}\"\ndepartments = [\"coordination-centre\"]\ncoordination = true\n",
        hash("hotline-token"),
        hash("roads-token"),
        hash("urban-token"),
        hash("centre-token"),
    );
    o
}

/// Submits `r` as the hotline: (case, ticket).
async fn report(gw: &Gateway, r: pb::Request) -> (String, String) {
    let a = gw
        .client()
        .await
        .submit(with_token(
            pb::SubmitRequest { request: Some(r) },
            "hotline-token",
        ))
        .await
        .unwrap()
        .into_inner();
    (a.case_id, a.ticket_id)
}

/// `department` signs for and completes `case` from `version`.
async fn sign_and_complete(gw: &Gateway, case: &str, department: &str, version: u64, token: &str) {
    let mut h = handling(gw).await;
    let signed = pb::SignForRequest {
        header: header(case, department, version, &format!("s-{case}")),
        note: String::new(),
    };
    h.sign_for(with_token(signed, token)).await.unwrap();
    let done = pb::CompleteRequest {
        header: header(case, department, version + 1, &format!("c-{case}")),
        result: "已修复".into(),
        handling_type: pb::HandlingType::Promised as i32,
        ..Default::default()
    };
    let done = h
        .complete(with_token(done, token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.status, pb::CaseStatus::Completed as i32);
}

async fn rate(gw: &Gateway, ticket: &str, satisfaction: pb::Satisfaction) {
    let r = pb::RateRequest {
        ticket_id: ticket.into(),
        satisfaction: satisfaction as i32,
        solved: pb::Solved::Yes as i32,
        text: String::new(),
        rating_id: format!("r-{ticket}"),
        via: "hotline".into(),
    };
    let mut fb = FeedbackClient::new(gw.channel().await);
    let answer = fb.rate(with_token(r, "hotline-token")).await.unwrap();
    assert!(!answer.into_inner().reopened);
}

async fn scores(
    gw: &Gateway,
    department: &str,
    token: &str,
) -> Result<pb::GetDepartmentScoresResponse, tonic::Status> {
    let req = pb::GetDepartmentScoresRequest {
        start: None,
        end: None,
        department_id: department.into(),
    };
    handling(gw)
        .await
        .get_department_scores(with_token(req, token))
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn completed_and_rated_cases_rank_departments_and_explain_themselves() {
    let vhost = TestVhost::new("scores");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &options(&vhost.url)).await;

    // Roads completes a case in time; its reporter is 满意: 100.00.
    let (first, first_ticket) = report(&gw, road_report("sc1")).await;
    sign_and_complete(&gw, &first, "roads", 0, "roads-token").await;
    rate(&gw, &first_ticket, pb::Satisfaction::Satisfied).await;

    // Roads returns another (a justified return: not rated); urban-mgmt completes it in
    // time and its reporter is 基本满意: 60 % × 100 + 40 % × 80 = 92.00.
    let mut other = road_report("sc2");
    other.location = Some(pb::Location {
        address: "新城区长乐路口".into(),
        district_code: "610102".into(),
        ..Default::default()
    });
    other.description = "长乐路口路面塌陷，路灯不亮".into();
    let (second, second_ticket) = report(&gw, other).await;
    assert_ne!(first, second);
    let returned = give_back(&second, "roads", 0, "ret-1", pb::ReturnReason::NotOurs);
    let moved = handling(&gw)
        .await
        .r#return(with_token(returned, "roads-token"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.holder_department_id, "urban-mgmt");
    sign_and_complete(
        &gw,
        &second,
        "urban-mgmt",
        moved.case_version,
        "urban-token",
    )
    .await;
    rate(&gw, &second_ticket, pb::Satisfaction::BasicallySatisfied).await;

    // The coordination centre sees the table and any department's cases.
    let all = scores(&gw, "", "centre-token").await.unwrap();
    let table: Vec<(&str, u32, u32, u32)> = all
        .departments
        .iter()
        .map(|d| {
            (
                d.department_id.as_str(),
                d.average_score_hundredths,
                d.rank,
                d.returns,
            )
        })
        .collect();
    assert_eq!(
        table,
        [("roads", 10_000, 1, 1), ("urban-mgmt", 9_200, 2, 0)],
        "{all:#?}"
    );
    assert!(all.cases.is_empty(), "no department asked: the table alone");
    let urban = &all.departments[1];
    let satisfaction = urban.satisfaction.unwrap();
    assert_eq!((satisfaction.numerator, satisfaction.denominator), (1, 1));
    assert_eq!(urban.completion.unwrap().basis_points, 10_000);
    assert_eq!(urban.ratings.unwrap().basically_satisfied, 1);

    let detail = scores(&gw, "urban-mgmt", "centre-token").await.unwrap();
    assert_eq!(detail.cases.len(), 1);
    let case = &detail.cases[0];
    assert_eq!(
        (case.case_id.as_str(), case.total_hundredths),
        (second.as_str(), 9_200)
    );
    let satisfaction = &case.parts[3];
    assert_eq!(satisfaction.part, pb::ScorePart::Satisfaction as i32);
    assert_eq!(satisfaction.points, 80);
    assert_eq!(satisfaction.deductions[0].rule, "ratings");
    assert!(
        satisfaction.deductions[0].reason.contains("基本满意"),
        "{satisfaction:?}"
    );

    // A department sees the table and its own cases, not another's; a caller that acts for
    // no department sees nothing.
    let own = scores(&gw, "roads", "roads-token").await.unwrap();
    assert_eq!(own.departments.len(), 2);
    assert_eq!(own.cases.len(), 1);
    assert_eq!(own.cases[0].case_id, first);
    let theirs = scores(&gw, "urban-mgmt", "roads-token").await.unwrap_err();
    assert_eq!(theirs.code(), Code::PermissionDenied, "{theirs:?}");
    let table_only = scores(&gw, "", "roads-token").await.unwrap();
    assert_eq!(table_only.departments.len(), 2);
    let outsider = scores(&gw, "", "hotline-token").await.unwrap_err();
    assert_eq!(outsider.code(), Code::PermissionDenied);

    // A period before the cases has none; an empty period is refused with the field.
    let mut before = pb::GetDepartmentScoresRequest {
        start: None,
        end: Some(minhu::time::ms_to_timestamp(0)),
        department_id: String::new(),
    };
    let mut h = handling(&gw).await;
    let none = h
        .get_department_scores(with_token(before.clone(), "centre-token"))
        .await
        .unwrap()
        .into_inner();
    assert!(none.departments.is_empty(), "{none:?}");
    before.start = before.end;
    let bad = h
        .get_department_scores(with_token(before, "centre-token"))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("end"), "{bad:?}");
}
