//! Merging reports of one problem into one case, end to end: the real `minhu` binary with
//! `[merge] enabled = true`, a real RabbitMQ vhost, real gRPC over loopback, the store on disk.
mod common;

use std::time::Duration;

use common::broker::{TestVhost, dispatch_of, drain};
use common::gateway::{Gateway, Options, minhu_command as minhu, request, submit};
use minhu::pb;
use tonic::Code;

const QUEUE: &str = "minhu.dept.roads";

fn options(vhost: &TestVhost) -> Options {
    let mut o = Options::new(&vhost.url);
    o.extra = "[merge]\nenabled = true\n".into();
    o
}

/// A pothole report at the north gate, from reporter `phone`, at (lat, lng).
fn pothole(
    channel: pb::Channel,
    id: &str,
    phone: &str,
    text: &str,
    pos: (f64, f64),
) -> pb::Request {
    let mut r = request(
        channel,
        id,
        if channel == pb::Channel::Wechat {
            ""
        } else {
            "road.pothole"
        },
    );
    r.description = text.into();
    if let Some(l) = r.location.as_mut() {
        l.lat = pos.0;
        l.lng = pos.1;
        l.original_lat = pos.0;
        l.original_lng = pos.1;
        l.coordinate_system = pb::CoordinateSystem::Wgs84 as i32;
        l.has_coordinates = true;
    }
    if let Some(p) = r.reporter.as_mut() {
        p.phone = phone.into();
    }
    r
}

const GATE: (f64, f64) = (34.27618, 108.91230);
const GATE_NEARBY: (f64, f64) = (34.27630, 108.91240);
const FAR: (f64, f64) = (34.28618, 108.91230);

#[tokio::test]
async fn a_second_citizen_joins_the_case_and_the_department_gets_a_case_update() {
    let vhost = TestVhost::new("merge");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &options(&vhost)).await;
    let mut client = gw.client().await;

    let first = submit(
        &mut client,
        pothole(
            pb::Channel::Hotline12345,
            "M-1",
            "13900000001",
            "莲湖区大兴东路社区北门口路面塌陷，有一个大坑",
            GATE,
        ),
    )
    .await
    .unwrap();
    assert_eq!(first.disposition, pb::Disposition::NewCase as i32);
    let mut urgent = pothole(
        pb::Channel::Wechat,
        "M-2",
        "13900000002",
        "大兴东路社区北门口路面有个大坑，电动车差点摔倒",
        GATE_NEARBY,
    );
    urgent.urgency = pb::Urgency::Urgent as i32;
    let second = submit(&mut client, urgent.clone()).await.unwrap();
    assert_eq!(
        second.disposition,
        pb::Disposition::Merged as i32,
        "log:\n{}",
        gw.log_text()
    );
    assert_eq!(second.case_id, first.case_id);
    assert_eq!(
        second.department_id, "roads",
        "the case's department, not a second routing"
    );

    // Far away: a different pothole, a new case.
    let far = submit(
        &mut client,
        pothole(
            pb::Channel::Hotline12345,
            "M-3",
            "13900000003",
            "大兴东路社区北门口路面有个大坑",
            FAR,
        ),
    )
    .await
    .unwrap();
    assert_eq!(far.disposition, pb::Disposition::NewCase as i32);
    assert_ne!(far.case_id, first.case_id);

    let got = drain(&vhost.url, QUEUE, 3, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 3, "log:\n{}", gw.log_text());
    let mine: Vec<pb::Dispatch> = got
        .iter()
        .map(dispatch_of)
        .filter(|d| d.case.as_ref().is_some_and(|c| c.case_id == first.case_id))
        .collect();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].kind, pb::DispatchKind::NewCase as i32);
    assert_eq!(mine[1].kind, pb::DispatchKind::CaseUpdated as i32);
    let case = mine[1].case.as_ref().unwrap();
    assert_eq!(case.report_count, 2);
    assert_eq!(
        case.urgency,
        pb::Urgency::Urgent as i32,
        "raised by the newcomer"
    );
    assert_eq!(mine[1].tickets[0].ticket_id, second.ticket_id);

    // A re-delivery of the merged report is a replay of the same ticket in the same case.
    let again = submit(&mut client, urgent).await.unwrap();
    assert_eq!(again.disposition, pb::Disposition::Replay as i32);
    assert_eq!(
        (again.ticket_id, again.case_id),
        (second.ticket_id.clone(), first.case_id.clone())
    );

    // The reasons are on the ticket.
    let t = client
        .get_ticket(pb::GetTicketRequest {
            ticket_id: second.ticket_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let why = t.merge.expect("merge reasons");
    assert_eq!(why.merged_into, first.case_id);
    assert_eq!(why.category, "road.pothole");
    assert!(why.category_inferred, "WeChat gave no category");
    let best = &why.candidates[0];
    assert_eq!(best.case_id, first.case_id);
    assert!(
        best.score >= why.threshold && best.place == 1.0 && best.time > 0.99,
        "{best:?}"
    );
    // The far report saw the case and was vetoed by distance.
    let t = client
        .get_ticket(pb::GetTicketRequest {
            ticket_id: far.ticket_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let why = t.merge.unwrap();
    assert!(why.merged_into.is_empty());
    assert!(
        why.candidates
            .iter()
            .any(|c| c.case_id == first.case_id && c.veto == "too_far"),
        "{why:?}"
    );
}

#[tokio::test]
async fn split_moves_a_merged_ticket_to_a_new_case_and_dispatches_it() {
    let vhost = TestVhost::new("split");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &options(&vhost)).await;
    let mut client = gw.client().await;
    let first = submit(
        &mut client,
        pothole(
            pb::Channel::Hotline12345,
            "S-1",
            "13900000001",
            "大兴东路社区北门口路面塌陷",
            GATE,
        ),
    )
    .await
    .unwrap();
    let req = pothole(
        pb::Channel::Hotline12345,
        "S-2",
        "13900000002",
        "大兴东路社区北门口路面塌陷，有个坑",
        GATE_NEARBY,
    );
    let merged = submit(&mut client, req.clone()).await.unwrap();
    assert_eq!(merged.disposition, pb::Disposition::Merged as i32);

    // Refusals first: a ticket that opened its case, and an unknown ticket.
    let err = client
        .split_ticket(pb::SplitTicketRequest {
            ticket_id: first.ticket_id.clone(),
            reason: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("opened case"), "{}", err.message());
    let err = client
        .split_ticket(pb::SplitTicketRequest {
            ticket_id: "T19990101000001".into(),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = client
        .split_ticket(pb::SplitTicketRequest {
            ticket_id: " ".into(),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    let split = client
        .split_ticket(pb::SplitTicketRequest {
            ticket_id: merged.ticket_id.clone(),
            reason: "different pothole, 30 m further".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(split.from_case_id, first.case_id);
    assert_ne!(split.case_id, first.case_id);
    assert_eq!(split.department_id, "roads");

    // NEW_CASE, CASE_UPDATED, then NEW_CASE for the split-out ticket's case.
    let got = drain(&vhost.url, QUEUE, 3, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 3, "log:\n{}", gw.log_text());
    let last = dispatch_of(&got[2]);
    assert_eq!(last.kind, pb::DispatchKind::NewCase as i32);
    assert_eq!(last.case.as_ref().unwrap().case_id, split.case_id);
    assert_eq!(last.tickets[0].ticket_id, merged.ticket_id);

    // A replay now answers with the new case; splitting again is refused.
    let again = submit(&mut client, req).await.unwrap();
    assert_eq!(again.disposition, pb::Disposition::Replay as i32);
    assert_eq!(again.case_id, split.case_id);
    let err = client
        .split_ticket(pb::SplitTicketRequest {
            ticket_id: merged.ticket_id.clone(),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);

    let t = client
        .get_ticket(pb::GetTicketRequest {
            ticket_id: merged.ticket_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.case_id, split.case_id);
    assert_eq!(t.merge.unwrap().split_from, first.case_id);
    let (reports, events): (i64, i64) = {
        let c = rusqlite::Connection::open(gw.dir.join("minhu.db")).unwrap();
        (
            c.query_row(
                "SELECT report_count FROM cases WHERE case_id = ?1",
                [&first.case_id],
                |r| r.get(0),
            )
            .unwrap(),
            c.query_row(
                "SELECT COUNT(*) FROM audit WHERE event IN ('split', 'split_out')",
                [],
                |r| r.get(0),
            )
            .unwrap(),
        )
    };
    assert_eq!((reports, events), (1, 2));
}

#[tokio::test]
async fn an_emergency_report_of_the_same_problem_is_dispatched_not_absorbed() {
    let vhost = TestVhost::new("mergeemg");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &options(&vhost)).await;
    let mut client = gw.client().await;
    let first = submit(
        &mut client,
        pothole(
            pb::Channel::Hotline12345,
            "E-1",
            "13900000001",
            "大兴东路社区北门口路面塌陷，有一个大坑",
            GATE,
        ),
    )
    .await
    .unwrap();
    // The case's first dispatch is out and confirmed (an update never overtakes a waiting one).
    assert_eq!(
        drain(&vhost.url, QUEUE, 1, Duration::from_secs(20))
            .await
            .len(),
        1
    );
    gw.wait_outbox_empty(Duration::from_secs(20)).await;
    let mut e = pothole(
        pb::Channel::Emergency110,
        "E-2",
        "13900000002",
        "大兴东路社区北门口路面塌陷，有一个大坑，车陷进去了",
        GATE_NEARBY,
    );
    e.urgency = pb::Urgency::Critical as i32;
    e.category = "road.pothole".into();
    let second = submit(&mut client, e).await.unwrap();
    assert_eq!(second.case_id, first.case_id, "the same problem: one case");
    let got = drain(&vhost.url, QUEUE, 1, Duration::from_secs(20)).await;
    assert_eq!(
        got.len(),
        1,
        "the emergency report has its own dispatch; log:\n{}",
        gw.log_text()
    );
    let update = dispatch_of(&got[0]);
    assert_eq!(update.kind, pb::DispatchKind::CaseUpdated as i32);
    assert_eq!(update.case.unwrap().urgency, pb::Urgency::Critical as i32);
    assert_eq!(got[0].properties.priority(), &Some(9), "emergency priority");
}

#[tokio::test]
async fn concurrent_reports_of_one_problem_open_one_case_and_restart_keeps_the_index() {
    let vhost = TestVhost::new("mergeconc");
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::start(dir.path(), &options(&vhost)).await;
    let client = gw.client().await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let mut c = client.clone();
        tasks.push(tokio::spawn(async move {
            let req = pothole(
                pb::Channel::Hotline12345,
                &format!("C-{i}"),
                &format!("1390000{i:04}"),
                "大兴东路社区北门口路面塌陷，有一个大坑",
                GATE,
            );
            submit(&mut c, req).await.unwrap()
        }));
    }
    let mut cases = std::collections::HashSet::new();
    let mut new_cases = 0;
    for t in tasks {
        let r = t.await.unwrap();
        new_cases += usize::from(r.disposition == pb::Disposition::NewCase as i32);
        cases.insert(r.case_id);
    }
    assert_eq!((cases.len(), new_cases), (1, 1), "one case, opened once");
    let case_id = cases.into_iter().next().unwrap();

    // After a restart the index is rebuilt from the store: the next report joins the case.
    gw.restart().await;
    assert!(
        gw.log_text().contains("merge index rebuilt"),
        "{}",
        gw.log_text()
    );
    let mut client = gw.client().await;
    let later = submit(
        &mut client,
        pothole(
            pb::Channel::Wechat,
            "C-after",
            "13911112222",
            "大兴东路社区北门口路面有个大坑",
            GATE_NEARBY,
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        later.disposition,
        pb::Disposition::Merged as i32,
        "log:\n{}",
        gw.log_text()
    );
    assert_eq!(later.case_id, case_id);

    // The CLI explains it from the store.
    let out = minhu()
        .args([
            "--config",
            &gw.config.to_string_lossy(),
            "tickets",
            "explain",
            &later.ticket_id,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(&format!("merged into {case_id}")), "{text}");
    assert!(
        text.contains("road.pothole (inferred from the text)"),
        "{text}"
    );
}

/// A report at `address` on 东五路, at `pos`.
fn at_spot(id: &str, phone: &str, address: &str, text: &str, pos: (f64, f64)) -> pb::Request {
    let mut r = pothole(pb::Channel::Hotline12345, id, phone, text, pos);
    if let Some(l) = r.location.as_mut() {
        l.address = address.into();
        l.district_code = "610102".into();
    }
    r
}

#[tokio::test]
async fn two_spots_on_one_road_are_two_cases_and_the_explanation_names_both() {
    let vhost = TestVhost::new("mergespot");
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(&vhost);
    // An operator's lexicon entry: a chain's name, which no rule would read as a landmark.
    o.extra
        .push_str("[merge.spots]\nlandmarks = [\"肯德基\"]\n");
    let gw = Gateway::start(dir.path(), &o).await;
    let mut client = gw.client().await;
    // 80 m apart on one road: the distance alone would merge them.
    let bank = (34.26520, 108.96530);
    let school = (34.26592, 108.96530);
    let first = submit(
        &mut client,
        at_spot(
            "S-1",
            "13900000011",
            "新城区解放门街道东五路银行旁",
            "东五路银行旁路面塌陷，有一个大坑",
            bank,
        ),
    )
    .await
    .unwrap();
    let other = submit(
        &mut client,
        at_spot(
            "S-2",
            "13900000012",
            "新城区东五路幼儿园门口",
            "东五路幼儿园门口路面塌陷，有一个大坑",
            school,
        ),
    )
    .await
    .unwrap();
    assert_eq!(other.disposition, pb::Disposition::NewCase as i32);
    assert_ne!(other.case_id, first.case_id);
    // The same spot worded another way, without coordinates: it joins, with the bonus.
    let mut same = at_spot(
        "S-3",
        "13900000013",
        "解放门街道东五路",
        "东五路工商银行门口路面有个大坑，电动车差点摔倒",
        bank,
    );
    if let Some(l) = same.location.as_mut() {
        (l.lat, l.lng, l.original_lat, l.original_lng) = (0.0, 0.0, 0.0, 0.0);
        l.coordinate_system = 0;
        l.has_coordinates = false;
    }
    let same = submit(&mut client, same).await.unwrap();
    assert_eq!(
        (same.disposition, &same.case_id),
        (pb::Disposition::Merged as i32, &first.case_id),
        "log:\n{}",
        gw.log_text()
    );
    // A landmark only the operator's lexicon knows (a bare name, no position), 17 m from the
    // bank: still another spot. Without the entry it would name no spot, and merge.
    let kfc = submit(
        &mut client,
        at_spot(
            "S-4",
            "13900000014",
            "新城区东五路肯德基",
            "东五路肯德基路面塌陷，有一个大坑",
            (34.26535, 108.96530),
        ),
    )
    .await
    .unwrap();
    assert_ne!(kfc.case_id, first.case_id);

    let why = |ticket_id: String| {
        let mut c = client.clone();
        async move {
            c.get_ticket(pb::GetTicketRequest { ticket_id })
                .await
                .unwrap()
                .into_inner()
                .merge
                .expect("merge reasons")
        }
    };
    let w = why(other.ticket_id.clone()).await;
    assert_eq!(w.spot, "东五路幼儿园门口");
    let c = w
        .candidates
        .iter()
        .find(|c| c.case_id == first.case_id)
        .expect("the bank's case was compared");
    assert_eq!(
        (c.veto.as_str(), c.spot.as_str()),
        ("other_spot", "东五路银行旁")
    );
    let w = why(same.ticket_id.clone()).await;
    assert_eq!(w.spot, "东五路工商银行门口");
    assert_eq!(w.candidates[0].spot, "东五路银行旁");
    assert_eq!(w.candidates[0].same_spot, 1.0);
    let w = why(kfc.ticket_id.clone()).await;
    assert_eq!(w.spot, "东五路肯德基");
    assert!(
        w.candidates
            .iter()
            .any(|c| c.case_id == first.case_id && c.veto == "other_spot"),
        "{w:?}"
    );

    // The CLI prints both spots from the store.
    let out = minhu()
        .args([
            "--config",
            &gw.config.to_string_lossy(),
            "tickets",
            "explain",
            &other.ticket_id,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("spot: 东五路幼儿园门口"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with(&first.case_id)
            && l.contains("other_spot")
            && l.ends_with("东五路银行旁")),
        "{text}"
    );
}

#[test]
fn check_config_names_every_merge_problem_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for f in ["routing.toml", "taxonomy.toml"] {
        std::fs::copy(repo.join("config").join(f), dir.path().join(f)).unwrap();
    }
    let config = dir.path().join("minhu.toml");
    let check = || {
        minhu()
            .args(["--config", &config.to_string_lossy(), "check-config"])
            .output()
            .unwrap()
    };
    // Each file is refused, naming every key that is wrong in it.
    let refused = |toml: &str, keys: &[&str]| {
        std::fs::write(&config, toml).unwrap();
        let out = check();
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{text}");
        for key in keys {
            assert!(text.contains(key), "{key} not named:\n{text}");
        }
    };
    refused(
        "[merge]\nenabled = true\nnear_m = 300\nthreshold = 9\n[[merge.category]]\ncode = \"water.outage\"\nwindow_hours = 0\n",
        &[
            "merge.far_m",
            "merge.threshold",
            "merge.category[0].window_hours",
        ],
    );
    refused(
        "[merge]\nenabled = true\nsame_spot_m = -1\n[merge.spots]\nlandmarks = [\"肯德基\", \"\"]\npositions = [\"肯德基\"]\n",
        &[
            "merge.same_spot_m",
            "merge.spots.landmarks[1]",
            "merge.spots.positions[0]",
        ],
    );
    std::fs::write(&config, "[merge]\nenabled = true\nno_such_key = 1\n").unwrap();
    let out = check();
    assert!(!out.status.success(), "unknown keys are refused");
}
