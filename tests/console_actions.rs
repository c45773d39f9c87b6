//! The coordination centre's console in a real browser, on a wall clock the test moves: a
//! case turns yellow and then red on the lights board; the centre approves the department's
//! extension on the case page and `GetTicket` shows the new deadline; it splits a wrongly
//! merged report out and re-dispatches a case, each landing in the audit trail under its name.
//! An operator without `console:act` cannot, nor can a form drawn from an older version of the
//! case.
mod common;

use std::time::{Duration, Instant};

use common::broker::TestVhost;
use common::browser::{
    CENTRE, ECO, SUBMITTER, auth_config, browser, click_to, log_in, post_status, sha256, shot,
    start_driver, text_of, wait_for_path,
};
use common::faketime::FakeClock;
use common::gateway::{Gateway, Options, request, with_token};
use common::handling::{handling, header, road_report};
use fantoccini::{Client, Locator};
use minhu::pb;

/// Monday 7 December 2026, 09:00 in the city (a working day).
const MONDAY_9: i64 = 1_796_605_200;
const HOUR: i64 = 3600;
const ROADS: &str = "roads-dept-token-0c9e";

fn config(merge: bool) -> String {
    let mut c = auth_config();
    c.push_str(&format!(
        "[[auth.callers]]\nid = \"roads\"\ntoken_sha256 = \"{}\"\ndepartments = [\"roads\"]\n",
        sha256(ROADS)
    ));
    if merge {
        c.push_str("[merge]\nenabled = true\n");
    }
    c
}

async fn submit(gw: &Gateway, r: pb::Request) -> pb::SubmitResponse {
    gw.client()
        .await
        .submit(with_token(
            pb::SubmitRequest { request: Some(r) },
            SUBMITTER,
        ))
        .await
        .expect("submit")
        .into_inner()
}

/// Reloads `path` until the case's row on it has `class` (the scheduler lights cases on its
/// own tick, after the moved clock is read).
async fn wait_for_row(c: &Client, base: &str, case_id: &str, class: &str) {
    let deadline = Instant::now() + Duration::from_secs(40);
    let row = format!("tr.{class} a[href='/console/cases/{case_id}']");
    loop {
        c.goto(&format!("{base}/console/lights")).await.unwrap();
        if c.find(Locator::Css(&row)).await.is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the case's row never turned {class}: {}",
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The session's CSRF token, from the page's own logout form.
async fn csrf(c: &Client) -> String {
    c.find(Locator::Css("header input[name=csrf]"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .expect("a csrf value")
}

async fn fill(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} not on the page: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_case_turns_yellow_then_red_and_an_extension_approved_on_its_page_moves_the_deadline_and_a_refused_one_does_not()
 {
    let vhost = TestVhost::new("console-clock");
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::movable(&dir.path().join("faketime.rc"), MONDAY_9);
    let mut opts = Options::new(&vhost.url);
    opts.extra = config(false);
    opts.clock = Some(clock.clone());
    let gw = Gateway::start(dir.path(), &opts).await;
    let base = format!("http://{}", gw.http);
    let accepted = submit(&gw, road_report("clock-1")).await;
    assert_eq!(accepted.department_id, "roads");
    let case = accepted.case_id.clone();

    let driver = start_driver();
    let c = browser(&driver).await;
    log_in(&c, &base, CENTRE).await;
    wait_for_row(&c, &base, &case, "green").await;
    shot(&c, "10-lights-green").await;

    // Not signed for within 4 working hours: yellow at half time, red at the deadline.
    clock.move_to(MONDAY_9 + 2 * HOUR + 30);
    wait_for_row(&c, &base, &case, "yellow").await;
    shot(&c, "11-lights-yellow").await;
    clock.move_to(MONDAY_9 + 4 * HOUR + 30);
    wait_for_row(&c, &base, &case, "red").await;
    shot(&c, "12-lights-red").await;

    // The department signs for it late and asks for three more days.
    let mut roads = handling(&gw).await;
    let t = gw.ticket_as(&accepted.ticket_id, SUBMITTER).await;
    let signed = roads
        .sign_for(with_token(
            pb::SignForRequest {
                header: header(&case, "roads", t.case_version, "sign-1"),
                note: String::new(),
            },
            ROADS,
        ))
        .await
        .expect("sign for")
        .into_inner();
    let unit_due = t.unit_due_at.expect("a unit deadline").seconds;
    let asked = unit_due + 3 * 24 * HOUR;
    roads
        .request_extension(with_token(
            pb::RequestExtensionRequest {
                header: header(&case, "roads", signed.case_version, "ext-1"),
                new_due_at: Some(prost_types::Timestamp {
                    seconds: asked,
                    nanos: 0,
                }),
                reason: "需要协调燃气公司一同开挖".into(),
            },
            ROADS,
        ))
        .await
        .expect("request an extension");

    // The centre approves it on the case page.
    c.goto(&format!("{base}/console/cases/{case}"))
        .await
        .unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("延期申请"), "the request shows: {page}");
    shot(&c, "13-case-extension-requested").await;
    fill(&c, "#extension input[name=reason]", "同意，联合开挖").await;
    click_to(
        &c,
        "#approve-extension",
        &format!("/console/cases/{case}?done=extension-approved"),
    )
    .await;
    assert!(
        text_of(&c, "p.done").await.contains("Extension approved"),
        "{}",
        c.source().await.unwrap()
    );
    assert!(
        !c.source()
            .await
            .unwrap()
            .contains("延期申请 Extension requested")
    );
    shot(&c, "14-case-extension-approved").await;

    let after = gw.ticket_as(&accepted.ticket_id, SUBMITTER).await;
    assert_eq!(
        after.unit_due_at.map(|t| t.seconds),
        Some(asked),
        "GetTicket shows the approved deadline"
    );
    assert!(!after.clocks_paused, "the clocks run again");
    assert_eq!(decided_caller(&after), "centre");
    let decided = after
        .history
        .iter()
        .find(|h| h.event == "decide_extension")
        .expect("the decision in the history");
    let detail: serde_json::Value = serde_json::from_str(&decided.detail_json).unwrap_or_default();
    assert_eq!(detail["caller"], "centre", "{detail}");
    assert_eq!(detail["operator_id"], "centre", "{detail}");
    assert_eq!(detail["via"], "console", "{detail}");
    assert_eq!(detail["approved"], true, "{detail}");

    // Asked for a second time, the centre refuses: the approved deadline stands.
    roads
        .request_extension(with_token(
            pb::RequestExtensionRequest {
                header: header(&case, "roads", after.case_version, "ext-2"),
                new_due_at: Some(prost_types::Timestamp {
                    seconds: asked + 5 * 24 * HOUR,
                    nanos: 0,
                }),
                reason: "燃气公司排期再推后".into(),
            },
            ROADS,
        ))
        .await
        .expect("request a second extension");
    c.goto(&format!("{base}/console/cases/{case}"))
        .await
        .unwrap();
    fill(&c, "#extension input[name=reason]", "不予延期，按期完成").await;
    click_to(
        &c,
        "#refuse-extension",
        &format!("/console/cases/{case}?done=extension-refused"),
    )
    .await;
    assert!(
        text_of(&c, "p.done").await.contains("Extension refused"),
        "{}",
        c.source().await.unwrap()
    );
    shot(&c, "14b-case-extension-refused").await;
    let refused = gw.ticket_as(&accepted.ticket_id, SUBMITTER).await;
    assert_eq!(
        refused.unit_due_at.map(|t| t.seconds),
        Some(asked),
        "the refused extension leaves the deadline GetTicket shows"
    );
    assert!(
        !refused.clocks_paused,
        "the clocks run again after a refusal"
    );
    let decisions: Vec<serde_json::Value> = refused
        .history
        .iter()
        .filter(|h| h.event == "decide_extension")
        .map(|h| serde_json::from_str(&h.detail_json).unwrap_or_default())
        .collect();
    assert_eq!(decisions.len(), 2, "{decisions:?}");
    let last = &decisions[1];
    assert_eq!(
        (&last["approved"], &last["operator_id"], &last["via"]),
        (&false.into(), &"centre".into(), &"console".into()),
        "{last}"
    );

    // The board's two orders. A second case, reported now and not signed for, is due within
    // hours; the first case's deadline was moved three days on. Most overdue first (the
    // default) puts the newer case on top; oldest first puts the first case there.
    let newer = submit(&gw, road_report("clock-2")).await.case_id;
    wait_for_row(&c, &base, &newer, "green").await;
    assert_eq!(
        board_order(&c, &base, "overdue").await,
        [newer.clone(), case.clone()]
    );
    assert_eq!(board_order(&c, &base, "opened").await, [case, newer]);
    c.close().await.unwrap();
}

/// The cases on the lights board in the order of its rows, sorted by `sort`.
async fn board_order(c: &Client, base: &str, sort: &str) -> Vec<String> {
    c.goto(&format!("{base}/console/lights?sort={sort}"))
        .await
        .unwrap();
    let mut order = Vec::new();
    for link in c
        .find_all(Locator::Css("tr a[href^='/console/cases/']"))
        .await
        .unwrap()
    {
        let href = link.attr("href").await.unwrap().unwrap_or_default();
        order.push(href["/console/cases/".len()..].to_owned());
    }
    order
}

/// A pothole report at the north gate, from `phone`: two of them are one problem.
fn pothole(id: &str, phone: &str, text: &str, lat: f64) -> pb::Request {
    let mut r = request(pb::Channel::Hotline12345, id, "road.pothole");
    r.description = text.into();
    if let Some(l) = r.location.as_mut() {
        (l.lat, l.lng) = (lat, 108.91230);
        (l.original_lat, l.original_lng) = (lat, 108.91230);
        l.coordinate_system = pb::CoordinateSystem::Wgs84 as i32;
        l.has_coordinates = true;
    }
    if let Some(p) = r.reporter.as_mut() {
        p.phone = phone.into();
    }
    r
}

#[tokio::test]
async fn the_centre_splits_and_re_dispatches_from_the_case_page_and_a_reader_cannot() {
    let vhost = TestVhost::new("console-act");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = config(true);
    let gw = Gateway::start(dir.path(), &opts).await;
    let base = format!("http://{}", gw.http);
    let first = submit(
        &gw,
        pothole("A-1", "13900000001", "大兴东路社区北门口路面塌陷", 34.27618),
    )
    .await;
    let second = submit(
        &gw,
        pothole(
            "A-2",
            "13900000002",
            "大兴东路社区北门口路面塌陷，有个坑",
            34.27630,
        ),
    )
    .await;
    assert_eq!(second.disposition, pb::Disposition::Merged as i32);
    assert_eq!(second.case_id, first.case_id);
    let case = first.case_id.clone();

    let driver = start_driver();
    let c = browser(&driver).await;

    // A reader (no console:act) sees no forms, and a posted form is refused.
    log_in(&c, &base, ECO).await;
    let token = csrf(&c).await;
    let body = format!("csrf={token}&version=1&to_department_id=water&reason=x");
    assert_eq!(
        post_status(&c, &format!("/console/cases/{case}/reassign"), &body).await,
        403
    );
    click_to(&c, "header form button", "/console/login").await;

    log_in(&c, &base, CENTRE).await;
    c.goto(&format!("{base}/console/cases/{case}"))
        .await
        .unwrap();
    shot(&c, "15-case-actions").await;
    // A form drawn before the department moved the case on is refused, and changes nothing.
    let token = csrf(&c).await;
    let drawn = c
        .find(Locator::Css("#reassign input[name=version]"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .expect("the form's version");
    let t = gw.ticket_as(&first.ticket_id, SUBMITTER).await;
    assert_eq!(drawn, t.case_version.to_string());
    handling(&gw)
        .await
        .sign_for(with_token(
            pb::SignForRequest {
                header: header(&case, "roads", t.case_version, "sign-1"),
                note: String::new(),
            },
            ROADS,
        ))
        .await
        .expect("sign for");
    // Without the session's CSRF token the action is refused before anything is read.
    let forged = format!("version={drawn}&to_department_id=water&reason=x");
    assert_eq!(
        post_status(&c, &format!("/console/cases/{case}/reassign"), &forged).await,
        403
    );
    let stale = format!("csrf={token}&version={drawn}&to_department_id=water&reason=x");
    assert_eq!(
        post_status(&c, &format!("/console/cases/{case}/reassign"), &stale).await,
        409
    );
    assert_eq!(
        gw.ticket_as(&first.ticket_id, SUBMITTER)
            .await
            .department_id,
        "roads"
    );

    // Split the second report out: the page that follows is its new case.
    fill(&c, "form.split input[name=reason]", "不是同一个坑").await;
    c.find(Locator::Css("form.split button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let moved = loop {
        let t = gw.ticket_as(&second.ticket_id, SUBMITTER).await;
        if t.case_id != case {
            break t;
        }
        assert!(Instant::now() < deadline, "the split did not happen");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    wait_for_path(
        &c,
        &format!("/console/cases/{}?done=split", moved.case_id),
        "the split",
    )
    .await;
    assert!(text_of(&c, "p.done").await.contains("Split"));
    let split = moved
        .history
        .iter()
        .find(|h| h.event == "split")
        .expect("the split in the moved ticket's history");
    let detail: serde_json::Value = serde_json::from_str(&split.detail_json).unwrap_or_default();
    assert_eq!(
        (&detail["caller"], &detail["operator_id"], &detail["via"]),
        (&"centre".into(), &"centre".into(), &"console".into()),
        "{detail}"
    );
    // Bad forms are refused and change nothing: a split without a reason, a report that is
    // not in the case the form names, a decision that is neither approve nor refuse.
    let new_case = format!("/console/cases/{}", moved.case_id);
    for (path, body) in [
        (
            format!("{new_case}/split"),
            format!("csrf={token}&ticket_id={}&reason=", second.ticket_id),
        ),
        (
            format!("{new_case}/split"),
            format!("csrf={token}&ticket_id={}&reason=x", first.ticket_id),
        ),
        (
            format!("/console/cases/{case}/extension"),
            format!("csrf={token}&version=9&decision=maybe"),
        ),
    ] {
        assert_eq!(post_status(&c, &path, &body).await, 400, "{path} {body}");
    }
    assert_eq!(
        gw.ticket_as(&first.ticket_id, SUBMITTER).await.case_id,
        case
    );
    assert_eq!(
        gw.ticket_as(&second.ticket_id, SUBMITTER).await.case_id,
        moved.case_id
    );
    shot(&c, "16-case-split").await;

    // Re-dispatch the first case to another department.
    c.goto(&format!("{base}/console/cases/{case}"))
        .await
        .unwrap();
    c.find(Locator::Css("#reassign select option[value=water]"))
        .await
        .expect("water among the departments")
        .click()
        .await
        .unwrap();
    fill(&c, "#reassign input[name=reason]", "地下管网渗漏所致").await;
    click_to(
        &c,
        "#reassign button",
        &format!("/console/cases/{case}?done=reassigned"),
    )
    .await;
    assert!(text_of(&c, "p.done").await.contains("Re-dispatched"));
    let t = gw.ticket_as(&first.ticket_id, SUBMITTER).await;
    assert_eq!(t.department_id, "water");
    let reassigned = t
        .history
        .iter()
        .find(|h| h.event == "reassign")
        .expect("the re-dispatch in the history");
    let detail: serde_json::Value =
        serde_json::from_str(&reassigned.detail_json).unwrap_or_default();
    assert_eq!(
        (&detail["caller"], &detail["via"]),
        (&"centre".into(), &"console".into()),
        "{detail}"
    );
    // The page's own trail names the operator.
    let page = c.source().await.unwrap();
    assert!(
        page.contains("地下管网渗漏所致") || page.contains("centre"),
        "{page}"
    );
    shot(&c, "17-case-reassigned").await;
    c.close().await.unwrap();
}

/// The caller `GetTicket` names on the extension's decision.
fn decided_caller(t: &pb::GetTicketResponse) -> &str {
    t.history
        .iter()
        .find(|h| h.event == "decide_extension")
        .map_or("", |h| h.caller.as_str())
}
