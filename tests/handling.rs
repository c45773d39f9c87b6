//! The department side of the closed loop against the real binary and a real RabbitMQ (one
//! vhost per test): sign for, progress and complete over gRPC and over `minhu.updates` (with
//! the outcomes read back from `minhu.dept.<id>.outcomes`), returns re-routed with the
//! returning departments excluded until the coordination centre takes the case, duplicates
//! applied once, illegal, stale and foreign updates refused.
mod common;

use std::time::Duration;

use common::broker::{TestVhost, drain, publish_update};
use common::gateway::{Gateway, Options, submit, with_token};
use common::handling::{WAIT, dispatch, give_back, handling, header, road_report};
use lapin::options::ConfirmSelectOptions;
use minhu::pb;
use minhu::pb::case_update::Update;
use prost::Message;
use tonic::Code;

const NOT_OURS: pb::ReturnReason = pb::ReturnReason::NotOurs;

fn sign_for(case_id: &str, department: &str, version: u64, id: &str) -> pb::SignForRequest {
    pb::SignForRequest {
        header: header(case_id, department, version, id),
        note: "已签收".into(),
    }
}

fn progress(case_id: &str, version: u64, id: &str) -> pb::ReportProgressRequest {
    pb::ReportProgressRequest {
        header: header(case_id, "roads", version, id),
        note: "已安排施工队".into(),
        ..Default::default()
    }
}

fn complete(case_id: &str, version: u64, id: &str) -> pb::CompleteRequest {
    pb::CompleteRequest {
        header: header(case_id, "roads", version, id),
        result: "路面已修复".into(),
        handling_type: pb::HandlingType::Promised as i32,
        ..Default::default()
    }
}

#[tokio::test]
async fn sign_for_progress_complete_over_grpc_once_each() {
    let vhost = TestVhost::new("handling-grpc");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let accepted = submit(&mut gw.client().await, road_report("g1"))
        .await
        .unwrap();
    assert_eq!(accepted.department_id, "roads");
    let case = accepted.case_id;
    // The department learns the case's version from its dispatch.
    let d = dispatch(&vhost.url, "minhu.dept.roads").await;
    let version = d.case.as_ref().map(|c| c.version).unwrap();
    assert_eq!(version, 0);

    let mut h = handling(&gw).await;
    let signed = h
        .sign_for(sign_for(&case, "roads", 0, "s-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (signed.status, signed.case_version),
        (pb::CaseStatus::Signed as i32, 1)
    );
    // A retry of the same update is answered as the first time and applied once.
    let again = h
        .sign_for(sign_for(&case, "roads", 0, "s-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, signed);
    // The same id for another update is refused.
    let reused = h
        .report_progress(progress(&case, 1, "s-1"))
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::AlreadyExists, "{reused:?}");
    // Another department may not act on it; one based on an old version is stale.
    let foreign = h
        .sign_for(sign_for(&case, "water", 1, "w-1"))
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Code::PermissionDenied, "{foreign:?}");
    let stale = h
        .report_progress(progress(&case, 0, "p-0"))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    // An illegal transition names the current state.
    let illegal = h
        .sign_for(sign_for(&case, "roads", 1, "s-3"))
        .await
        .unwrap_err();
    assert_eq!(illegal.code(), Code::FailedPrecondition, "{illegal:?}");
    assert!(
        illegal.message().contains("the case is SIGNED"),
        "{illegal:?}"
    );

    let p = h
        .report_progress(progress(&case, 1, "p-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (p.status, p.case_version),
        (pb::CaseStatus::InProgress as i32, 2)
    );
    let c = h
        .complete(complete(&case, 2, "c-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (c.status, c.case_version),
        (pb::CaseStatus::Completed as i32, 3)
    );
    let late = h
        .report_progress(progress(&case, 3, "p-2"))
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert!(late.message().contains("COMPLETED"), "{late:?}");

    // ListCases: roads holds nothing open any more; the completed case is listed by state.
    let open = h
        .list_cases(pb::ListCasesRequest {
            department_id: "roads".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(open.cases.is_empty(), "{open:?}");
    let done = h
        .list_cases(pb::ListCasesRequest {
            department_id: "roads".into(),
            statuses: vec![pb::CaseStatus::Completed as i32],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.cases.len(), 1);
    assert_eq!(
        (done.cases[0].case_id.as_str(), done.cases[0].version),
        (case.as_str(), 3)
    );
    // The store applied each update once: one ledger row per applied update.
    assert_eq!(gw.count("case_updates WHERE code = 0"), 3);
}

#[tokio::test]
async fn a_returned_case_is_rerouted_and_after_two_returns_reaches_the_coordination_centre() {
    let vhost = TestVhost::new("handling-return");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let case = submit(&mut gw.client().await, road_report("r1"))
        .await
        .unwrap()
        .case_id;
    let mut h = handling(&gw).await;

    let first = h
        .r#return(give_back(&case, "roads", 0, "ret-1", NOT_OURS))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.holder_department_id, "urban-mgmt");
    assert_eq!(
        (first.status, first.case_version),
        (pb::CaseStatus::Open as i32, 1)
    );
    let d = dispatch(&vhost.url, "minhu.dept.urban-mgmt").await;
    assert_eq!(d.kind, pb::DispatchKind::Redispatch as i32);
    assert_eq!(d.case.as_ref().map(|c| c.version), Some(1));
    assert!(
        d.update_reason.contains("returned by roads"),
        "{}",
        d.update_reason
    );

    // The returning department no longer holds it.
    let gone = h
        .sign_for(sign_for(&case, "roads", 1, "s-x"))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::PermissionDenied);

    let second = h
        .r#return(give_back(&case, "urban-mgmt", 1, "ret-2", NOT_OURS))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.holder_department_id, "coordination-centre");
    let d = dispatch(&vhost.url, "minhu.dept.coordination-centre").await;
    assert_eq!(d.kind, pb::DispatchKind::Redispatch as i32);
    assert!(
        d.update_reason.contains("returned 2 times"),
        "{}",
        d.update_reason
    );

    // The coordination centre reassigns it; a department cannot.
    let reassign = |department: &str, id: &str| pb::ReassignRequest {
        header: header(&case, department, 2, id),
        to_department_id: "water".into(),
        reason: "管网漏水引起塌陷".into(),
    };
    let refused = h.reassign(reassign("roads", "ra-0")).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    let moved = h
        .reassign(reassign("coordination-centre", "ra-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.holder_department_id, "water");
    assert_eq!(
        dispatch(&vhost.url, "minhu.dept.water").await.kind,
        pb::DispatchKind::Redispatch as i32
    );
    assert_eq!(gw.count("handovers"), 3);
}

#[tokio::test]
async fn updates_over_amqp_are_applied_once_and_answered_on_the_outcome_queue() {
    let vhost = TestVhost::new("handling-amqp");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let case = submit(&mut gw.client().await, road_report("a1"))
        .await
        .unwrap()
        .case_id;

    let conn = common::broker::connect(&vhost.url).await;
    let channel = conn.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    // The gateway's consumer declares minhu.updates; wait until it is there (bounded).
    let deadline = tokio::time::Instant::now() + WAIT;
    while vhost.queue_depth("minhu.updates").is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "minhu.updates never declared"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let updates = [
        Update::SignFor(sign_for(&case, "roads", 0, "amqp-s")),
        // A redelivery or a re-publish of the same update: applied once, answered once.
        Update::SignFor(sign_for(&case, "roads", 0, "amqp-s")),
        Update::ReportProgress(progress(&case, 1, "amqp-p")),
        Update::Complete(complete(&case, 2, "amqp-c")),
        // Illegal now: refused, and the refusal is an outcome too.
        Update::ReportProgress(progress(&case, 3, "amqp-late")),
    ];
    for u in updates {
        let id = match &u {
            Update::SignFor(r) => r.header.as_ref(),
            Update::ReportProgress(r) => r.header.as_ref(),
            Update::Complete(r) => r.header.as_ref(),
            _ => None,
        }
        .map(|h| h.update_id.clone())
        .unwrap();
        let body = pb::CaseUpdate { update: Some(u) }.encode_to_vec();
        publish_update(&channel, &id, &body).await;
    }
    let got = drain(
        &vhost.url,
        "minhu.dept.roads.outcomes",
        5,
        Duration::from_secs(10),
    )
    .await;
    let outcomes: Vec<pb::UpdateOutcome> = got
        .iter()
        .map(|d| pb::UpdateOutcome::decode(d.data.as_slice()).unwrap())
        .collect();
    let seen: Vec<(&str, bool, i32)> = outcomes
        .iter()
        .map(|o| (o.update_id.as_str(), o.applied, o.code))
        .collect();
    assert_eq!(
        seen,
        [
            ("amqp-s", true, 0),
            ("amqp-p", true, 0),
            ("amqp-c", true, 0),
            ("amqp-late", false, Code::FailedPrecondition as i32),
        ]
    );
    assert_eq!(outcomes[2].status, pb::CaseStatus::Completed as i32);
    assert!(
        outcomes[3].message.contains("COMPLETED"),
        "{:?}",
        outcomes[3]
    );
    for d in &got {
        assert_eq!(
            d.properties.kind().as_ref().map(|t| t.as_str()),
            Some("minhu.v1.UpdateOutcome")
        );
    }
    // Every update taken off the queue (acked after its commit).
    assert_eq!(vhost.queue_depth("minhu.updates"), Some(0));
    assert_eq!(gw.count("case_updates"), 4);
    let _ = conn.close(200, "done".into()).await;
}

#[tokio::test]
async fn with_auth_a_department_acts_only_for_itself_and_only_the_coordinator_reassigns() {
    let vhost = TestVhost::new("handling-auth");
    let dir = tempfile::tempdir().unwrap();
    let hash = |t: &str| minhu_adapter_emergency::auth::token_sha256_hex(t);
    let mut opts = Options::new(&vhost.url);
    opts.extra = format!(
        "[auth]\nenabled = true\n\
         [[auth.callers]]\nid = \"hotline\"\ntoken_sha256 = \"{}\"\nchannels = [\"HOTLINE_12345\"]\nsource_systems = [\"test-system\"]\n\
         [[auth.callers]]\nid = \"roads-cases\"\ntoken_sha256 = \"{}\"\ndepartments = [\"roads\"]\n\
         [[auth.callers]]\nid = \"water-cases\"\ntoken_sha256 = \"{}\"\ndepartments = [\"water\"]\n\
         [[auth.callers]]\nid = \"centre\"\ntoken_sha256 = \"{}\"\ndepartments = [\"coordination-centre\"]\ncoordination = true\n",
        hash("hotline-token"),
        hash("roads-token"),
        hash("water-token"),
        hash("centre-token"),
    );
    let gw = Gateway::start(dir.path(), &opts).await;
    let case = gw
        .client()
        .await
        .submit(with_token(
            pb::SubmitRequest {
                request: Some(road_report("au1")),
            },
            "hotline-token",
        ))
        .await
        .unwrap()
        .into_inner()
        .case_id;
    let mut h = handling(&gw).await;
    // No credentials, or credentials for another department.
    let anonymous = h
        .sign_for(sign_for(&case, "roads", 0, "a-0"))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let water_as_roads = h
        .sign_for(with_token(
            sign_for(&case, "roads", 0, "a-1"),
            "water-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        water_as_roads.code(),
        Code::PermissionDenied,
        "{water_as_roads:?}"
    );
    let water_as_itself = h
        .sign_for(with_token(
            sign_for(&case, "water", 0, "a-2"),
            "water-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        water_as_itself.code(),
        Code::PermissionDenied,
        "{water_as_itself:?}"
    );
    let hotline = h
        .list_cases(with_token(
            pb::ListCasesRequest {
                department_id: "roads".into(),
                ..Default::default()
            },
            "hotline-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(hotline.code(), Code::PermissionDenied);
    let ok = h
        .sign_for(with_token(
            sign_for(&case, "roads", 0, "a-3"),
            "roads-token",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.case_version, 1);
    // The audit trail names the authenticated caller.
    let conn = rusqlite::Connection::open(dir.path().join("minhu.db")).unwrap();
    let detail: String = conn
        .query_row(
            "SELECT detail FROM audit WHERE event = 'sign_for'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(detail.contains(r#""caller":"roads-cases""#), "{detail}");

    let reassign = pb::ReassignRequest {
        header: header(&case, "coordination-centre", 1, "ra-1"),
        to_department_id: "water".into(),
        reason: "管网漏水".into(),
    };
    let not_coordinator = h
        .reassign(with_token(reassign.clone(), "roads-token"))
        .await
        .unwrap_err();
    assert_eq!(not_coordinator.code(), Code::PermissionDenied);
    let moved = h
        .reassign(with_token(reassign, "centre-token"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.holder_department_id, "water");
    // The coordination centre lists any department's cases.
    let listed = h
        .list_cases(with_token(
            pb::ListCasesRequest {
                department_id: "water".into(),
                ..Default::default()
            },
            "centre-token",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.cases.len(), 1);
}
