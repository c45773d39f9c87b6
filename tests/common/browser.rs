//! A real browser for the console's tests: Debian's headless Chromium driven over WebDriver
//! (`chromedriver`, `fantoccini`), with the steps every console test takes (log in, click and
//! wait for the next page, read an element, post a form from the page's own script) and a
//! screenshot of each page visited, saved to `target/console-screenshots/` for a reviewer.
//!
//! Like the broker, the browser is never skipped: without `chromium` and `chromedriver`
//! (`scripts/install-deps.sh`) a test fails and says how to install them.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// The console's callers: a submitting system, the coordination centre (read and act) and the
/// environment bureau's console (read, its own cases).
pub const SUBMITTER: &str = "submit-token-5d1e";
pub const CENTRE: &str = "centre-console-token-a41c";
pub const ECO: &str = "eco-console-token-77b0";

pub fn sha256(token: &str) -> String {
    minhu_adapter_emergency::auth::token_sha256_hex(token)
}

pub fn auth_config() -> String {
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
pub fn program(name: &str) -> PathBuf {
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
pub struct Driver {
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn start_driver() -> Driver {
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

pub async fn browser(driver: &Driver) -> Client {
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

pub fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

pub async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("write screenshot");
}

/// The text of the element at `css`. The overview's live feed replaces its tables whole
/// every 2 s, so an element found may be gone before its text is read; it is found again.
pub async fn text_of(c: &Client, css: &str) -> String {
    let mut tries = 0;
    loop {
        let el = c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} not on the page: {e}"));
        match el.text().await {
            Ok(t) => return t,
            Err(e) if tries < 5 => {
                tries += 1;
                eprintln!("{css}: {e}; reading it again");
            }
            Err(e) => panic!("{css}: no text: {e}"),
        }
    }
}

/// Waits up to `timeout` until the element at `css`, which may not be on the page yet, has a
/// text that `want` accepts, and returns that text. The page is never reloaded: only its live
/// feed can bring the change.
pub async fn wait_for_text(
    c: &Client,
    css: &str,
    want: impl Fn(&str) -> bool,
    timeout: Duration,
) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(el) = c.find(Locator::Css(css)).await
            && let Ok(text) = el.text().await
            && want(&text)
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never read as wanted on the open page: {}",
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn log_in(c: &Client, base: &str, token: &str) {
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
pub async fn click_to(c: &Client, css: &str, path: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(c, path, css).await;
}

/// Waits until the browser has loaded `path` (after `what` started the navigation); with a
/// query in `path`, the query must match too.
pub async fn wait_for_path(c: &Client, path: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now_at = c.current_url().await.unwrap();
        // A form that leads back to its own page differs only in the query (`?done=`).
        let here = match now_at.query() {
            Some(q) if path.contains('?') => format!("{}?{q}", now_at.path()),
            _ => now_at.path().to_owned(),
        };
        if here == path {
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
            "{what} led to {} instead of {path}: {}",
            now_at.path(),
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the page's own script gets for a form POST to `path` with `body`.
pub async fn post_status(c: &Client, path: &str, body: &str) -> u64 {
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
