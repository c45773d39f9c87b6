//! The department side of the closed loop through another AMQP client: a department's case
//! system written in Python with pika (`tests/interop/department.py`, protobuf code generated
//! from `proto/` by the reference protoc) consumes `minhu.dept.roads`, signs for, reports
//! progress on and completes one case and returns another (退单) through `minhu.updates`,
//! reading every outcome from `minhu.dept.roads.outcomes`. The outcomes are checked here again
//! with Rust's own types, and the returned case must reach the next department as a REDISPATCH.
//!
//! Needs the broker and the venv `scripts/install-deps.sh` creates (see `common::python`).
mod common;

use common::broker::TestVhost;
use common::gateway::{Gateway, Options, submit};
use common::handling::{dispatch, handling, road_report};
use common::python::run_script;
use minhu::pb;
use prost::Message;

/// The `outcome <hex>` lines the script printed, decoded, in the order it received them.
fn outcomes(stdout: &str) -> Vec<pb::UpdateOutcome> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("outcome "))
        .map(|hex| {
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            pb::UpdateOutcome::decode(bytes.as_slice()).expect("an UpdateOutcome")
        })
        .collect()
}

/// (applied, status, case_version, holder) of every outcome of `case`, in order.
fn of_case(all: &[pb::UpdateOutcome], case: &str) -> Vec<(bool, pb::CaseStatus, u64, String)> {
    all.iter()
        .filter(|o| o.case_id == case)
        .map(|o| {
            (
                o.applied,
                pb::CaseStatus::try_from(o.status).unwrap_or_default(),
                o.case_version,
                o.holder_department_id.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_pika_department_signs_for_progresses_completes_and_returns_through_minhu_updates() {
    let vhost = TestVhost::new("handling-interop");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let mut client = gw.client().await;
    let done = submit(&mut client, road_report("py-1")).await.unwrap();
    let back = submit(&mut client, road_report("py-2")).await.unwrap();
    assert_eq!(
        (done.department_id.as_str(), back.department_id.as_str()),
        ("roads", "roads")
    );

    let ran = run_script(
        "department.py",
        &[
            "--amqp",
            &vhost.url,
            "--department",
            "roads",
            "--complete",
            &done.case_id,
            "--give-back",
            &back.case_id,
        ],
    )
    .await;
    assert!(
        ran.success && ran.stdout.contains("department ok"),
        "the pika department failed:\n{}\ngateway log:\n{}",
        ran.text,
        gw.log_text()
    );

    // Every update was applied, in order, each on the version the previous one produced.
    use pb::CaseStatus::{Completed, InProgress, Open, Signed};
    let all = outcomes(&ran.stdout);
    let roads = || "roads".to_owned();
    assert_eq!(
        of_case(&all, &done.case_id),
        [
            (true, Signed, 1, roads()),
            (true, InProgress, 2, roads()),
            (true, Completed, 3, roads()),
            // A late update based on version 1: refused, the case as it stands.
            (false, Completed, 3, roads()),
        ]
    );
    let stale = all.iter().rfind(|o| o.case_id == done.case_id).unwrap();
    assert_eq!(stale.code, tonic::Code::Aborted as i32, "{stale:?}");
    assert_eq!(
        of_case(&all, &back.case_id),
        [
            (true, Signed, 1, roads()),
            (true, Open, 2, "urban-mgmt".to_owned())
        ]
    );

    // The returned case reached the next department, excluding roads, as a REDISPATCH.
    let d = dispatch(&vhost.url, "minhu.dept.urban-mgmt").await;
    assert_eq!(d.kind, pb::DispatchKind::Redispatch as i32);
    let case = d.case.as_ref().unwrap();
    assert_eq!(
        (case.case_id.as_str(), case.version),
        (back.case_id.as_str(), 2)
    );
    assert!(
        d.update_reason.contains("returned by roads"),
        "{}",
        d.update_reason
    );
    let mut h = handling(&gw).await;
    let held = h
        .list_cases(pb::ListCasesRequest {
            department_id: "urban-mgmt".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(held.cases.len(), 1, "{held:?}");
    assert_eq!(
        (held.cases[0].case_id.as_str(), held.cases[0].returns),
        (back.case_id.as_str(), 1)
    );
    let completed = h
        .list_cases(pb::ListCasesRequest {
            department_id: "roads".into(),
            statuses: vec![Completed as i32],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(completed.cases.len(), 1, "{completed:?}");
    assert_eq!(completed.cases[0].version, 3);

    // The ledger has the five updates applied over AMQP; the audit trail the reason given.
    assert_eq!(gw.count("case_updates WHERE via = 'amqp' AND code = 0"), 5);
    assert_eq!(
        gw.count("audit WHERE event = 'return' AND detail LIKE '%RETURN_REASON_WRONG_PLACE%'"),
        1
    );
    assert_eq!(
        gw.metric("minhu_returns_total{reason=\"wrong_place\"}")
            .await,
        1
    );
}
