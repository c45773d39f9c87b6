//! The supervision console in a real browser: Debian's headless Chromium driven over WebDriver
//! (`chromedriver`, `fantoccini`) against the real binary with `[auth]` on. An operator logs
//! in, a case submitted over gRPC shows on the overview (through its live updates, with its
//! department queue's depth read from the broker, and "missing" once the queue is deleted)
//! and on the lights board, its page masks the reporter; another department's token cannot
//! open it; an action without the CSRF token is refused. Every page visited is saved as a screenshot in
//! `target/console-screenshots/` for a reviewer.
//!
//! The browser and the console's callers are in `common::browser`.
mod common;

use std::time::{Duration, Instant};

use common::broker::{TestVhost, rabbitmqctl};
use common::browser::{
    CENTRE, ECO, SUBMITTER, auth_config, browser, click_to, log_in, post_status, shot,
    start_driver, text_of, wait_for_text,
};
use common::gateway::{Gateway, Options, request, with_token};
use common::http::send;
use fantoccini::Locator;
use minhu::pb;

#[tokio::test]
async fn an_operator_sees_a_new_case_live_and_departments_stay_apart() {
    let vhost = TestVhost::new("console");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = auth_config();
    let gw = Gateway::start(dir.path(), &opts).await;
    let base = format!("http://{}", gw.http);

    // Headers, without a browser: every console page carries the policy.
    let login = send(gw.http, "GET", "/console/login", "", "", b"").await;
    assert_eq!(login.status, 200);
    let csp = login.header("content-security-policy").unwrap_or("");
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp:?}");
    }
    // Nothing loosens it: no inline code, no eval, no source beyond the gateway itself.
    for loose in [
        "unsafe-inline",
        "unsafe-eval",
        "unsafe-hashes",
        "*",
        "http:",
        "https:",
    ] {
        assert!(!csp.contains(loose), "{loose} in {csp:?}");
    }
    for directive in csp.split(';').map(str::trim) {
        let sources = directive.split_whitespace().skip(1);
        for s in sources {
            assert!(
                ["'self'", "'none'", "data:"].contains(&s),
                "{directive:?} allows {s}"
            );
        }
    }
    let form = format!("token={CENTRE}");
    let cookie = send(
        gw.http,
        "POST",
        "/console/login",
        "application/x-www-form-urlencoded",
        "",
        form.as_bytes(),
    )
    .await;
    assert_eq!(cookie.status, 303, "{}", cookie.body);
    let set = cookie.header("set-cookie").unwrap_or("");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(!set.contains(CENTRE), "the token is not the session id");

    let driver = start_driver();
    let c = browser(&driver).await;

    // Not logged in: the login form.
    c.goto(&format!("{base}/console/overview")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/console/login");
    shot(&c, "01-login").await;
    log_in(&c, &base, CENTRE).await;
    assert_eq!(text_of(&c, "[data-live=new]").await, "0");
    // Nothing waits for the broker: the relay card says so (a stall shows there too).
    assert_eq!(text_of(&c, "[data-live=relay]").await, "正常 ok");

    // A case arrives over gRPC; the open overview shows it without a reload.
    let accepted = submit_hotline(&gw, "console-1").await;
    assert_ne!(accepted.department_id, "eco-env");
    let deadline = Instant::now() + Duration::from_secs(15);
    while text_of(&c, "[data-live=new]").await != "1" {
        assert!(
            Instant::now() < deadline,
            "the overview did not show the new case"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The per-channel table, empty when the page loaded, gains the channel's row live too,
    // with its sparkline.
    wait_live(&c, "[data-cell=ch-HOTLINE_12345]", "1").await;
    assert!(
        c.find(Locator::Css("#intake svg.spark rect")).await.is_ok(),
        "a bar per minute"
    );
    // The department's queue holds the dispatch (no consumer reads it here): the overview
    // shows it once the poller has read the broker (every 10 s), still without a reload, and
    // so does /metrics.
    let queued = format!("[data-cell=q-{}]", accepted.department_id);
    wait_live(&c, &queued, "1").await;
    let consumers = format!("[data-cell=qc-{}]", accepted.department_id);
    assert_eq!(text_of(&c, &consumers).await, "0");
    let metrics = send(gw.http, "GET", "/metrics", "", "", b"").await;
    let line = format!(
        "minhu_queue_messages{{department=\"{0}\",queue=\"minhu.dept.{0}\"}} 1\n",
        accepted.department_id
    );
    assert!(metrics.body.contains(&line), "{}", metrics.body);

    // The other cards: the broker connected, the outbox empty once the dispatch is confirmed,
    // the calendar as /metrics reports it; a repeated Submit counts as a replay, live.
    assert_eq!(text_of(&c, "[data-live=broker]").await, "已连接 connected");
    assert_eq!(text_of(&c, "[data-live=outbox]").await, "0");
    let years: Vec<&str> = metrics
        .body
        .lines()
        .filter_map(|l| l.strip_prefix("minhu_calendar_provisional{year=\""))
        .filter_map(|l| l.split('"').next())
        .collect();
    let calendar = if years.is_empty() {
        "正式 official".to_owned()
    } else {
        format!("临时 provisional: {}", years.join(", "))
    };
    assert_eq!(text_of(&c, "[data-live=calendar]").await, calendar);
    let again = submit_hotline(&gw, "console-1").await;
    assert_eq!(again.ticket_id, accepted.ticket_id);
    let deadline = Instant::now() + Duration::from_secs(15);
    while text_of(&c, "[data-live=replayed]").await != "1" {
        assert!(
            Instant::now() < deadline,
            "the overview did not count the replay"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(text_of(&c, "[data-live=new]").await, "1");
    assert_eq!(text_of(&c, "[data-live=merged]").await, "0");
    shot(&c, "02-overview").await;

    // The lights board lists it; its row opens the case.
    c.goto(&format!("{base}/console/lights")).await.unwrap();
    let link = format!("a[href='/console/cases/{}']", accepted.case_id);
    shot(&c, "03-lights").await;
    click_to(&c, &link, &format!("/console/cases/{}", accepted.case_id)).await;
    let page = c.source().await.unwrap();
    assert!(page.contains("139****5678"), "masked phone shown");
    assert!(
        !page.contains("13912345678") && !page.contains("王小明"),
        "no contact in clear"
    );
    shot(&c, "04-case").await;

    // The filters narrow the board: another district shows nothing.
    c.goto(&format!(
        "{base}/console/lights?district=999999&light=&level=&channel=&sort=overdue"
    ))
    .await
    .unwrap();
    assert!(!c.source().await.unwrap().contains(&accepted.case_id));
    // Its own level and channel keep it; another level or channel leaves it out.
    let letter = &pb::Level::try_from(accepted.level)
        .expect("a level")
        .as_str_name()["LEVEL_".len()..][..1];
    let other = if letter == "D" { "A" } else { "D" };
    for (query, shown) in [
        (format!("level={letter}&channel=HOTLINE_12345"), true),
        (format!("level={other}"), false),
        ("channel=WECHAT".to_owned(), false),
        ("light=green&sort=opened".to_owned(), true),
        ("light=red".to_owned(), false),
    ] {
        c.goto(&format!("{base}/console/lights?{query}"))
            .await
            .unwrap();
        assert_eq!(
            c.source().await.unwrap().contains(&accepted.case_id),
            shown,
            "{query}"
        );
    }

    // A queue deleted by hand shows as missing, not as empty, and leaves /metrics.
    let queue = format!("minhu.dept.{}", accepted.department_id);
    rabbitmqctl(&["delete_queue", "-p", &vhost.name, &queue]);
    c.goto(&format!("{base}/console/overview")).await.unwrap();
    wait_live(&c, &queued, "缺失 missing").await;
    let metrics = send(gw.http, "GET", "/metrics", "", "", b"").await;
    assert!(
        !metrics.body.contains(&format!("queue=\"{queue}\"")),
        "{}",
        metrics.body
    );
    shot(&c, "02b-overview-queue-missing").await;

    // An action without the session's CSRF token is refused, and changes nothing.
    assert_eq!(post_status(&c, "/console/logout", "").await, 403);
    assert_eq!(post_status(&c, "/console/logout", "csrf=forged").await, 403);
    c.goto(&format!("{base}/console/overview")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/console/overview");
    // With it (the page's own form) the operator logs out.
    click_to(&c, "header form button", "/console/login").await;

    // Another department's token: the case is neither listed nor readable.
    log_in(&c, &base, ECO).await;
    c.goto(&format!("{base}/console/lights")).await.unwrap();
    assert!(!c.source().await.unwrap().contains(&accepted.case_id));
    shot(&c, "05-lights-other-department").await;
    c.goto(&format!("{base}/console/cases/{}", accepted.case_id))
        .await
        .unwrap();
    let denied = c.source().await.unwrap();
    assert!(denied.contains("Not found"), "{denied}");
    assert!(!denied.contains("139****5678"));
    shot(&c, "06-case-other-department").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn the_console_is_off_without_auth() {
    let vhost = TestVhost::new("console-off");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let r = send(gw.http, "GET", "/console/overview", "", "", b"").await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("[auth]"), "{}", r.body);
}

#[tokio::test]
async fn login_attempts_from_one_address_are_throttled() {
    let vhost = TestVhost::new("console-throttle");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = auth_config();
    let gw = Gateway::start(dir.path(), &opts).await;
    let login = |token: &str| {
        let form = format!("token={token}");
        async move {
            send(
                gw.http,
                "POST",
                "/console/login",
                "application/x-www-form-urlencoded",
                "",
                form.as_bytes(),
            )
            .await
        }
    };
    // A burst of ten, wrong or right, then a wait; the right token does not skip it.
    for i in 0..9 {
        assert_eq!(login("guess").await.status, 401, "attempt {i}");
    }
    assert_eq!(login(CENTRE).await.status, 303);
    let held = login(CENTRE).await;
    assert_eq!(held.status, 429, "{}", held.body);
    let wait: u64 = held
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=10).contains(&wait), "{wait}");
    assert!(held.body.contains("Too many attempts"), "{}", held.body);
    assert!(held.header("set-cookie").is_none());
}

/// Submits a 12345 report with `source_id` over gRPC as the call-centre.
/// Waits (up to 40 s: the queue poller reads every 10 s) until the element at `css` reads
/// `want`, without reloading the page.
async fn wait_live(c: &fantoccini::Client, css: &str, want: &str) {
    wait_for_text(c, css, |t| t == want, Duration::from_secs(40)).await;
}

async fn submit_hotline(gw: &Gateway, source_id: &str) -> pb::SubmitResponse {
    gw.client()
        .await
        .submit(with_token(
            pb::SubmitRequest {
                request: Some(request(pb::Channel::Hotline12345, source_id, "")),
            },
            SUBMITTER,
        ))
        .await
        .expect("submit")
        .into_inner()
}
