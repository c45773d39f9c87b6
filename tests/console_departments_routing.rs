//! The console's 部门排名 and 路由 pages in a real browser (headless Chromium over WebDriver)
//! against the real binary, a real broker and `[auth]` on.
//!
//! Departments: a case completed by roads and rated 满意 over gRPC shows in the ranking with
//! its bars; the coordination centre opens roads' scored cases, another department's operator
//! sees the table but not roads' cases. Routing: the version shown is the one in force, a
//! refused reload shows with its reason while the old version keeps serving, and a pasted
//! request is explained as `minhu routes explain` explains it; bad input and a form without
//! the CSRF token are refused.
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::broker::TestVhost;
use common::browser::{
    CENTRE, ECO, SUBMITTER, auth_config, browser, click_to, log_in, post_status, sha256, shot,
    start_driver, text_of,
};
use common::gateway::{Gateway, Options, with_token};
use common::handling::{handling, header, road_report};
use fantoccini::{Client, Locator};
use minhu::pb;
use minhu::pb::feedback_client::FeedbackClient;

/// Acts for roads over `minhu.v1.Handling` (no console scope).
const ROADS: &str = "roads-handling-token-3f9a";
/// The sample routing file's version.
const SAMPLE_VERSION: &str = "sample-2026-11";

/// A copy of the sample routing folder under `dir/routing/`: the gateway watches the folder
/// of its routing file, and the test writes a broken file there.
fn routing_copy(dir: &Path) -> PathBuf {
    let r = dir.join("routing");
    common::routing::copy_companions(&r);
    let file = r.join("routing.toml");
    std::fs::write(&file, common::routing::sample_text()).unwrap();
    file
}

/// How editors save (a new file renamed over the old), so no reload reads a half-written file.
fn write_atomically(file: &Path, text: &str) {
    let tmp = file.with_extension("toml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

/// Roads signs for `case` and completes it; the hotline's reporter rates it 满意.
async fn complete_and_rate(gw: &Gateway, case: &str, ticket: &str) {
    let mut h = handling(gw).await;
    let signed = pb::SignForRequest {
        header: header(case, "roads", 0, &format!("s-{case}")),
        note: String::new(),
    };
    h.sign_for(with_token(signed, ROADS))
        .await
        .expect("sign for");
    let done = pb::CompleteRequest {
        header: header(case, "roads", 1, &format!("c-{case}")),
        result: "已修复".into(),
        handling_type: pb::HandlingType::Promised as i32,
        ..Default::default()
    };
    h.complete(with_token(done, ROADS)).await.expect("complete");
    let rating = pb::RateRequest {
        ticket_id: ticket.into(),
        satisfaction: pb::Satisfaction::Satisfied as i32,
        solved: pb::Solved::Yes as i32,
        text: String::new(),
        rating_id: format!("r-{ticket}"),
        via: "hotline".into(),
    };
    FeedbackClient::new(gw.channel().await)
        .rate(with_token(rating, SUBMITTER))
        .await
        .expect("rate");
}

/// Waits for `css` on the page (a form's answer replaces the page after the click returns).
async fn wait_for(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"));
}

#[tokio::test]
async fn departments_ranking_and_routing_history_and_explain() {
    let vhost = TestVhost::new("console-dept-routing");
    let dir = tempfile::tempdir().unwrap();
    let routing = routing_copy(dir.path());
    let mut opts = Options::new(&vhost.url);
    opts.routing = Some(routing.clone());
    opts.extra = format!(
        "{}[[auth.callers]]\nid = \"roads-cases\"\ntoken_sha256 = \"{}\"\ndepartments = [\"roads\"]\n",
        auth_config(),
        sha256(ROADS)
    );
    let gw = Gateway::start(dir.path(), &opts).await;
    let base = format!("http://{}", gw.http);

    let accepted = gw
        .client()
        .await
        .submit(with_token(
            pb::SubmitRequest {
                request: Some(road_report("dept-rank-1")),
            },
            SUBMITTER,
        ))
        .await
        .expect("submit")
        .into_inner();
    assert_eq!(accepted.department_id, "roads");
    complete_and_rate(&gw, &accepted.case_id, &accepted.ticket_id).await;

    let driver = start_driver();
    let c = browser(&driver).await;
    log_in(&c, &base, CENTRE).await;

    // 部门排名: roads ranks first with 100.00, and its bar fills the average-score chart.
    click_to(
        &c,
        "nav a[href='/console/departments']",
        "/console/departments",
    )
    .await;
    let row = text_of(&c, "tr[data-department=roads]").await;
    assert!(
        row.contains("100.00") && row.contains("100.00% 1/1"),
        "{row}"
    );
    let bar = c
        .find(Locator::Css("svg.bars g[data-label=roads] rect"))
        .await
        .expect("roads' bar");
    assert_eq!(bar.attr("width").await.unwrap().as_deref(), Some("300"));
    assert_eq!(
        bar.attr("data-value").await.unwrap().as_deref(),
        Some("10000")
    );
    assert_eq!(
        c.find_all(Locator::Css("svg.bars")).await.unwrap().len(),
        4,
        "a chart per measure"
    );
    shot(&c, "20-departments").await;

    // The centre opens roads' scored cases, each linking to its case page.
    c.find(Locator::Css("tr[data-department=roads] a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#cases").await;
    let link = format!("table.scores a[href='/console/cases/{}']", accepted.case_id);
    wait_for(&c, &link).await;
    shot(&c, "21-departments-cases").await;

    // Its case page tells the whole story: the rule that routed it, who moved it when, the
    // reporter's rating and the score.
    let t = gw.ticket_as(&accepted.ticket_id, SUBMITTER).await;
    c.find(Locator::Css(&link))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "dl.facts").await;
    let facts = text_of(&c, "body").await;
    assert!(!t.rule_id.is_empty());
    assert!(
        facts.contains(&t.rule_id) && facts.contains(SAMPLE_VERSION),
        "the routing decision: {facts}"
    );
    let rows = c.find_all(Locator::Css("tbody tr")).await.unwrap();
    let mut texts = Vec::new();
    for r in rows {
        texts.push(r.text().await.unwrap());
    }
    for event in ["sign_for", "complete"] {
        assert!(
            texts
                .iter()
                .any(|r| r.contains(event) && r.contains("roads")),
            "{event} by roads in the transitions: {texts:?}"
        );
    }
    assert!(
        texts
            .iter()
            .any(|r| r.contains("SATISFACTION_SATISFIED") && r.contains("SOLVED_YES")),
        "the rating: {texts:?}"
    );
    assert!(facts.contains("roads: 100.00"), "the score: {facts}");
    shot(&c, "21b-case-story").await;

    // A period before the case: nothing scored; a nonsense period is refused.
    c.goto(&format!(
        "{base}/console/departments?from=2020-01-01&to=2020-01-31"
    ))
    .await
    .unwrap();
    assert!(c.source().await.unwrap().contains("No case was scored"));
    c.goto(&format!("{base}/console/departments?from=2026-02-30"))
        .await
        .unwrap();
    let bad = c.source().await.unwrap();
    assert!(bad.contains("from must be a date"), "{bad}");

    // 路由: the version in force is the gateway's.
    c.goto(&format!("{base}/console/routing")).await.unwrap();
    assert_eq!(text_of(&c, "#routing-version").await, SAMPLE_VERSION);
    let metrics = gw.http_get("/metrics").await.unwrap_or_default();
    assert!(
        metrics.contains(&format!(
            "minhu_config_version{{version=\"{SAMPLE_VERSION}\"}}"
        )),
        "{metrics}"
    );
    assert!(
        text_of(&c, "table.reloads tr.started")
            .await
            .contains(SAMPLE_VERSION)
    );

    // A broken routing file is refused, and the page says why; the old version serves on.
    let broken = common::routing::sample_text()
        .replace(
            &format!("version = \"{SAMPLE_VERSION}\""),
            "version = \"v-broken\"",
        )
        .replace(
            "id = \"roads\"\ncategories = [\"road.*\"]\ndepartment = \"roads\"",
            "id = \"roads\"\ncategories = [\"road.*\"]\ndepartment = \"no-such-department\"",
        );
    assert!(broken.contains("no-such-department"), "the sample changed");
    write_atomically(&routing, &broken);
    gw.wait_for_metrics(
        "minhu_config_last_reload_successful 0",
        Duration::from_secs(20),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        c.refresh().await.unwrap();
        if let Ok(row) = c.find(Locator::Css("table.reloads tr.refused")).await {
            break row.text().await.unwrap();
        }
        assert!(Instant::now() < deadline, "no refused reload listed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(refused.contains("no-such-department"), "{refused}");
    assert!(
        refused.contains(&format!("still serving {SAMPLE_VERSION}")),
        "{refused}"
    );
    assert_eq!(text_of(&c, "#routing-version").await, SAMPLE_VERSION);
    shot(&c, "22-routing").await;

    // A pasted request is explained as `routes explain` does: the roads rule decides.
    let pasted = r#"{"channel":"CHANNEL_HOTLINE_12345","requestType":"REQUEST_TYPE_COMPLAINT","category":"road.pothole","description":"大兴东路路面塌陷","location":{"districtCode":"610104"}}"#;
    c.find(Locator::Css("#request"))
        .await
        .unwrap()
        .send_keys(pasted)
        .await
        .unwrap();
    c.find(Locator::Css("form.explain button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#explanation").await;
    let report = text_of(&c, "#explanation").await;
    assert!(
        report.contains(&format!("routing version {SAMPLE_VERSION}")),
        "{report}"
    );
    assert!(report.contains("MATCH roads"), "{report}");
    assert!(report.contains("decision: roads"), "{report}");
    shot(&c, "23-routing-explain").await;

    // Not a request: a specific error, and the text kept to fix it.
    let area = c.find(Locator::Css("#request")).await.unwrap();
    area.clear().await.unwrap();
    area.send_keys(r#"{"channel": 12345678, "#).await.unwrap();
    c.find(Locator::Css("form.explain button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "#explain-error").await;
    let why = text_of(&c, "#explain-error").await;
    assert!(
        why.contains("not a minhu.v1.Request in proto3 JSON"),
        "{why}"
    );
    shot(&c, "24-routing-bad-request").await;
    // The box is a form with the session's CSRF token; without it the POST is refused.
    let body = "request=%7B%7D";
    assert_eq!(post_status(&c, "/console/routing", body).await, 403);

    // A good file goes into force: newest first, loaded above refused above the start.
    let fixed = common::routing::sample_text().replace(
        &format!("version = \"{SAMPLE_VERSION}\""),
        "version = \"v-fixed\"",
    );
    write_atomically(&routing, &fixed);
    gw.wait_for_metrics(
        "minhu_config_version{version=\"v-fixed\"}",
        Duration::from_secs(20),
    )
    .await;
    c.goto(&format!("{base}/console/routing")).await.unwrap();
    assert_eq!(text_of(&c, "#routing-version").await, "v-fixed");
    let mut outcomes = Vec::new();
    for row in c
        .find_all(Locator::Css("table.reloads tbody tr"))
        .await
        .unwrap()
    {
        outcomes.push(row.attr("class").await.unwrap().unwrap_or_default());
    }
    assert_eq!(outcomes, ["loaded", "refused", "started"]);
    assert!(
        text_of(&c, "table.reloads tr.loaded")
            .await
            .contains("v-fixed")
    );

    // Another department's operator sees the table, not roads' cases.
    c.goto(&format!("{base}/console/overview")).await.unwrap();
    click_to(&c, "header form button", "/console/login").await;
    log_in(&c, &base, ECO).await;
    c.goto(&format!("{base}/console/departments"))
        .await
        .unwrap();
    assert!(
        text_of(&c, "tr[data-department=roads]")
            .await
            .contains("100.00")
    );
    assert!(
        c.find(Locator::Css("tr[data-department=roads] a"))
            .await
            .is_err(),
        "no link to roads' cases"
    );
    c.goto(&format!("{base}/console/departments?department=roads"))
        .await
        .unwrap();
    let denied = c.source().await.unwrap();
    assert!(denied.contains("Forbidden"), "{denied}");
    assert!(!denied.contains(&accepted.case_id));
    shot(&c, "25-departments-other-department").await;
    c.close().await.unwrap();
}
