//! The supervision console in a real browser: Debian's headless Chromium driven over WebDriver
//! (`chromedriver`, `fantoccini`) against the real binary with `[auth]` on. An operator logs
//! in, a case submitted over gRPC shows on the overview (through its live updates) and on the
//! lights board, its page masks the reporter; another department's token cannot open it; an
//! action without the CSRF token is refused. Every page visited is saved as a screenshot in
//! `target/console-screenshots/` for a reviewer.
//!
//! Like the broker, the browser is never skipped: without `chromium` and `chromedriver`
//! (`scripts/install-deps.sh`) the test fails and says how to install them.
mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::broker::TestVhost;
use common::gateway::{Gateway, Options, request, with_token};
use common::http::send;
use fantoccini::{Client, ClientBuilder, Locator};
use minhu::pb;

const SUBMITTER: &str = "submit-token-5d1e";
const CENTRE: &str = "centre-console-token-a41c";
const ECO: &str = "eco-console-token-77b0";

fn sha256(token: &str) -> String {
    minhu_adapter_emergency::auth::token_sha256_hex(token)
}

fn auth_config() -> String {
    format!(
        "[auth]\nenabled = true\n\
         [[auth.callers]]\nid = \"hotline\"\ntoken_sha256 = \"{}\"\nchannels = [\"HOTLINE_12345\"]\nsource_systems = [\"test-system\"]\n\
         [[auth.callers]]\nid = \"centre\"\ntoken_sha256 = \"{}\"\ndepartments = [\"coordination-centre\"]\ncoordination = true\nscopes = [\"console:read\", \"console:act\"]\n\
         [[auth.callers]]\nid = \"eco-console\"\ntoken_sha256 = \"{}\"\ndepartments = [\"eco-env\"]\nscopes = [\"console:read\"]\n",
        sha256(SUBMITTER),
        sha256(CENTRE),
        sha256(ECO)
    )
}

/// A program on PATH (or in /usr/bin, where Debian puts both).
fn program(name: &str) -> PathBuf {
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} not found: the console's browser test needs Debian's chromium and \
                 chromium-driver (scripts/install-deps.sh, or apt-get install -y chromium \
                 chromium-driver); it never skips"
            )
        })
}

/// A running chromedriver, killed on drop (also when an assertion fails).
struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_driver() -> Driver {
    let chromedriver = program("chromedriver");
    let port = free_port();
    let log = std::env::temp_dir().join(format!("chromedriver-{port}.log"));
    let child = Command::new(chromedriver)
        .args([
            format!("--port={port}"),
            format!("--log-path={}", log.display()),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        port,
        profile: tempfile::tempdir().expect("profile dir"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    driver
}

async fn browser(driver: &Driver) -> Client {
    let chromium = program("chromium");
    // This machine's network is closed: without these flags Chromium waits on lookups.
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        &format!("--user-data-dir={}", driver.profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": chromium, "args": args }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session in headless Chromium")
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} not on the page: {e}"))
        .text()
        .await
        .expect("text")
}

async fn log_in(c: &Client, base: &str, token: &str) {
    c.goto(&format!("{base}/console/login")).await.unwrap();
    c.find(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys(token)
        .await
        .unwrap();
    click_to(c, "button[type=submit]", "/console/overview").await;
}

/// Clicks `css` and waits for the navigation it starts to reach `path`: a click returns
/// before the next page has loaded, so reading the URL at once races the browser.
async fn click_to(c: &Client, css: &str, path: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now_at = c.current_url().await.unwrap();
        if now_at.path() == path {
            // The URL changes when the response starts; wait for the document too.
            let _ = c
                .wait()
                .at_most(Duration::from_secs(15))
                .for_element(Locator::Css("body"))
                .await;
            return;
        }
        assert!(
            Instant::now() < deadline,
            "clicking {css} led to {} instead of {path}: {}",
            now_at.path(),
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the page's own script gets for a form POST to `path` with `body`.
async fn post_status(c: &Client, path: &str, body: &str) -> u64 {
    let script = "const done = arguments[arguments.length - 1];
        fetch(arguments[0], { method: 'POST', body: arguments[1],
              headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })
          .then(r => done(r.status), e => done(String(e)));";
    let v = c
        .execute_async(script, vec![path.into(), body.into()])
        .await
        .expect("fetch from the page");
    v.as_u64().unwrap_or_else(|| panic!("fetch failed: {v}"))
}

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
    let accepted = gw
        .client()
        .await
        .submit(with_token(
            pb::SubmitRequest {
                request: Some(request(pb::Channel::Hotline12345, "console-1", "")),
            },
            SUBMITTER,
        ))
        .await
        .expect("submit")
        .into_inner();
    assert_ne!(accepted.department_id, "eco-env");
    let deadline = Instant::now() + Duration::from_secs(15);
    while text_of(&c, "[data-live=new]").await != "1" {
        assert!(
            Instant::now() < deadline,
            "the overview did not show the new case"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        c.source().await.unwrap().contains("HOTLINE_12345") || {
            // The per-channel table appears on the next load.
            c.refresh().await.unwrap();
            c.source().await.unwrap().contains("HOTLINE_12345")
        }
    );
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
