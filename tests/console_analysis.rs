//! The console's 分析 Analysis page in a real browser (headless Chromium over WebDriver, as in
//! `tests/console.rs`) against the real binary: cases submitted over gRPC show in the top
//! categories of the week and shade their districts on the map (with the count in each
//! shape's hover title), a district opens its streets (街道) shaded the same way, the
//! rising-problem rule is printed, and a department's operator counts only its own cases. Rising problems need weeks of history: the gateway runs on a
//! moved clock (libfaketime) while a test feeds it a quiet baseline and then a busy week.
mod common;

use std::time::Duration;

use common::broker::TestVhost;
use common::browser::{CENTRE, ECO, SUBMITTER, auth_config, browser, log_in, shot, start_driver};
use common::faketime::FakeClock;
use common::gateway::{Gateway, Options, request, with_token};
use fantoccini::{Client, Locator};
use minhu::pb;

/// Submits one case of `category` in `district` (and `street`, if not empty) and returns the
/// department holding it.
async fn submit(
    gw: &Gateway,
    n: u32,
    category: &str,
    (district, street): (&str, &str),
    text: &str,
) -> String {
    let mut req = request(
        pb::Channel::Hotline12345,
        &format!("analysis-{n}"),
        category,
    );
    req.description = text.into();
    if let Some(loc) = req.location.as_mut() {
        loc.district_code = district.into();
        loc.street_code = street.into();
        loc.address = format!("{district} 测试地址 {n} 号");
    }
    gw.client()
        .await
        .submit(with_token(
            pb::SubmitRequest { request: Some(req) },
            SUBMITTER,
        ))
        .await
        .expect("submit")
        .into_inner()
        .department_id
}

/// An element's attribute (or DOM property, for `textContent`), which must be there.
async fn attr(c: &Client, css: &str, name: &str) -> String {
    let el = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} not on the page: {e}"));
    let v = if name == "textContent" {
        el.prop(name).await
    } else {
        el.attr(name).await
    };
    v.expect("read")
        .unwrap_or_else(|| panic!("{css} has no {name}"))
}

/// The fill the browser paints a district with (the stylesheet applies under the CSP).
async fn fill(c: &Client, code: &str) -> String {
    let v = c
        .execute(
            "return getComputedStyle(document.querySelector(arguments[0])).fill;",
            vec![format!("path[data-code='{code}']").into()],
        )
        .await
        .expect("computed style");
    v.as_str().unwrap_or_default().to_owned()
}

/// Clicks `district` on the district map and waits for its streets: the page's path stays
/// `/console/analysis`, only the query changes, so `click_to` cannot tell when it has loaded.
async fn open_streets(c: &Client, district: &str) {
    let link = format!("svg.districts a[href='/console/analysis?district={district}#streets']");
    c.find(Locator::Css(&format!("{link} path")))
        .await
        .unwrap_or_else(|e| panic!("{district} does not link to its streets: {e}"))
        .click()
        .await
        .expect("click the district");
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("svg.streets"))
        .await
        .expect("the street map");
}

async fn cell(c: &Client, category: &str) -> Option<String> {
    match c
        .find(Locator::Css(&format!(
            "tr[data-category='{category}'] td.this"
        )))
        .await
    {
        Ok(el) => Some(el.text().await.expect("text")),
        Err(_) => None,
    }
}

#[tokio::test]
async fn the_week_the_map_and_the_rule_within_each_operators_scope() {
    let vhost = TestVhost::new("console-analysis");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = auth_config();
    let gw = Gateway::start(dir.path(), &opts).await;
    let base = format!("http://{}", gw.http);

    // Three potholes in 莲湖 (roads), two of them in 北院门街道 and one reported without a
    // street; two restaurant fumes in 雁塔 (the environment bureau).
    for n in 0..3 {
        let street = if n < 2 { "610104001" } else { "" };
        let at = ("610104", street);
        let dept = submit(&gw, n, "road.pothole", at, "路面塌陷，有一个大坑").await;
        assert_eq!(dept, "roads");
    }
    for n in 3..5 {
        let at = ("610113", "");
        let dept = submit(&gw, n, "env.fume", at, "饭店油烟直排，窗户不敢开").await;
        assert_eq!(dept, "eco-env");
    }

    let driver = start_driver();
    let c = browser(&driver).await;
    log_in(&c, &base, CENTRE).await;
    // The navigation links to the page.
    c.find(Locator::Css("nav a[href='/console/analysis']"))
        .await
        .expect("an Analysis link in the navigation");
    c.goto(&format!("{base}/console/analysis")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("类别前十"), "{page}");

    // The week's top categories.
    assert_eq!(cell(&c, "road.pothole").await.as_deref(), Some("3"));
    assert_eq!(cell(&c, "env.fume").await.as_deref(), Some("2"));

    // The map: 莲湖 is the busiest (darkest), 雁塔 one step lighter, 新城 has none.
    let lianhu = "path[data-code='610104']";
    assert_eq!(attr(&c, lianhu, "class").await, "district shade-5");
    assert_eq!(attr(&c, lianhu, "data-open").await, "3");
    let title = attr(&c, &format!("{lianhu} title"), "textContent").await;
    assert_eq!(title, "莲湖区 610104 · 在办 3 open");
    assert_eq!(
        attr(&c, "path[data-code='610113']", "class").await,
        "district shade-4"
    );
    assert_eq!(
        attr(&c, "path[data-code='610102']", "class").await,
        "district shade-0"
    );
    assert_eq!(fill(&c, "610104").await, "rgb(168, 38, 27)");
    assert_eq!(fill(&c, "610102").await, "rgb(233, 236, 241)");
    assert!(
        page.contains(">莲湖区</text>"),
        "district names label the map"
    );

    // The rising test is written out; nothing has a baseline yet, so nothing rises.
    let rule = attr(&c, "p.rule", "textContent").await;
    for part in [
        "单侧泊松检验",
        "P(X ≥ k | λ) < 0.01",
        "k ≥ 5",
        "Poisson",
        "at least 0.5",
    ] {
        assert!(rule.contains(part), "{part} missing from the rule: {rule}");
    }
    let none = attr(&c, "p.no-rising", "textContent").await;
    assert!(none.contains("Nothing is rising"), "{none}");
    shot(&c, "30-analysis").await;

    // 莲湖 opens its streets: 北院门 holds both street cases, the third has no street code.
    assert!(
        c.find(Locator::Css("svg.streets")).await.is_err(),
        "streets wait for a district"
    );
    let hint = attr(&c, "p.streets-hint", "textContent").await;
    assert!(hint.contains("see its streets"), "{hint}");
    let lianhu_streets = format!("{base}/console/analysis?district=610104");
    open_streets(&c, "610104").await;
    assert_eq!(
        c.current_url().await.unwrap().as_str(),
        format!("{lianhu_streets}#streets")
    );
    let beiyuanmen = "svg.streets path[data-code='610104001']";
    assert_eq!(attr(&c, beiyuanmen, "class").await, "street shade-5");
    assert_eq!(attr(&c, beiyuanmen, "data-open").await, "2");
    let title = attr(&c, &format!("{beiyuanmen} title"), "textContent").await;
    assert_eq!(title, "北院门街道 610104001 · 在办 2 open");
    assert_eq!(fill(&c, "610104001").await, "rgb(168, 38, 27)");
    assert_eq!(
        attr(&c, "svg.streets path[data-code='610104008']", "class").await,
        "street shade-0"
    );
    let streets = c.find_all(Locator::Css("svg.streets path")).await.unwrap();
    assert_eq!(streets.len(), 9, "莲湖's streets only");
    let outside = attr(&c, "p.outside", "textContent").await;
    assert!(outside.contains("no street code (1)"), "{outside}");
    let heading = attr(&c, "h2#streets", "textContent").await;
    assert!(heading.contains("莲湖区 610104"), "{heading}");
    c.execute(
        "document.querySelector('h2#streets').scrollIntoView();",
        vec![],
    )
    .await
    .expect("scroll");
    shot(&c, "33-analysis-streets").await;

    // The environment bureau's operator counts its own cases only.
    c.goto(&format!("{base}/console/overview")).await.unwrap();
    common::browser::click_to(&c, "header form button", "/console/login").await;
    log_in(&c, &base, ECO).await;
    c.goto(&format!("{base}/console/analysis")).await.unwrap();
    assert_eq!(cell(&c, "env.fume").await.as_deref(), Some("2"));
    assert_eq!(cell(&c, "road.pothole").await, None, "another department's");
    assert_eq!(attr(&c, lianhu, "data-open").await, "0");
    assert_eq!(attr(&c, lianhu, "class").await, "district shade-0");
    assert_eq!(
        attr(&c, "path[data-code='610113']", "class").await,
        "district shade-5"
    );
    shot(&c, "31-analysis-department").await;
    // Nor does it count another department's cases in a street.
    c.goto(&lianhu_streets).await.unwrap();
    assert_eq!(attr(&c, beiyuanmen, "data-open").await, "0");
    assert_eq!(attr(&c, beiyuanmen, "class").await, "street shade-0");
    c.close().await.unwrap();
}

/// 2026-03-02 (a Monday) 10:00 in Shanghai, in seconds.
const MARCH_2: i64 = 1_772_416_800;
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// Moves the gateway's clock and waits until it reads the new time (libfaketime rereads its
/// file every second).
async fn move_clock(clock: &FakeClock, at: i64) {
    clock.move_to(at);
    tokio::time::sleep(Duration::from_millis(2500)).await;
}

#[tokio::test]
async fn a_category_well_above_its_baseline_is_flagged_with_its_numbers() {
    let vhost = TestVhost::new("console-rising");
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::movable(&dir.path().join("faketime.rc"), MARCH_2);
    let mut opts = Options::new(&vhost.url);
    opts.extra = auth_config();
    opts.clock = Some(clock.clone());
    let gw = Gateway::start(dir.path(), &opts).await;
    let base = format!("http://{}", gw.http);

    // One pothole a week in 碑林 for eight weeks: the baseline.
    for w in 0..8 {
        move_clock(&clock, MARCH_2 + w * WEEK).await;
        submit(&gw, w as u32, "road.pothole", ("610103", ""), "路面坑洼").await;
    }
    // Then six in two days, and the page is read a day later. The first period of the
    // eight began before the store's first case, so seven periods make the baseline.
    let now = MARCH_2 + 8 * WEEK + 3 * DAY;
    move_clock(&clock, now - 2 * DAY).await;
    for n in 100..106 {
        submit(&gw, n, "road.pothole", ("610103", ""), "路面坑洼").await;
    }
    move_clock(&clock, now).await;

    let driver = start_driver();
    let c = browser(&driver).await;
    log_in(&c, &base, CENTRE).await;
    c.goto(&format!("{base}/console/analysis")).await.unwrap();
    let row = attr(&c, "table.rising tbody tr", "textContent").await;
    assert!(
        row.contains("road.pothole") && row.contains("碑林区 610103"),
        "{row}"
    );
    // k = 6, λ = 1 (seven weeks of one), P(X ≥ 6 | 1) = 5.94e-4.
    assert_eq!(attr(&c, "table.rising td.k", "textContent").await, "6");
    assert_eq!(
        attr(&c, "table.rising td.lambda", "textContent").await,
        "1.00"
    );
    assert_eq!(
        attr(&c, "table.rising td.p", "textContent").await,
        "5.94e-4"
    );
    // The week's table counts by the moved clock's week: the six are this week's.
    assert_eq!(cell(&c, "road.pothole").await.as_deref(), Some("6"));
    c.execute("document.querySelector('p.rule').scrollIntoView();", vec![])
        .await
        .expect("scroll");
    shot(&c, "32-analysis-rising").await;

    // The environment bureau holds no road case: nothing rises for it.
    c.goto(&format!("{base}/console/overview")).await.unwrap();
    common::browser::click_to(&c, "header form button", "/console/login").await;
    log_in(&c, &base, ECO).await;
    c.goto(&format!("{base}/console/analysis")).await.unwrap();
    assert!(c.find(Locator::Css("table.rising")).await.is_err());
    c.find(Locator::Css("p.no-rising"))
        .await
        .expect("nothing rising");
    c.close().await.unwrap();
}
