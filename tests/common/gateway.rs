//! Runs the real `minhu` binary as a child process on loopback ports, with its own store
//! directory and broker vhost (and, if asked, a moved clock), so tests can restart it, SIGTERM it
//! or SIGKILL it.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use minhu::pb;
use minhu::pb::gateway_client::GatewayClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;

use super::faketime::FakeClock;

/// Settings for one gateway run.
#[derive(Debug, Clone)]
pub struct Options {
    /// AMQP URL (a test vhost, or an unreachable address to hold everything in the outbox).
    pub amqp_url: String,
    /// A cluster's node URLs: when not empty, written as `[amqp] urls` instead of `amqp_url`.
    pub amqp_urls: Vec<String>,
    /// Outbox budget.
    pub outbox_budget: u64,
    /// A PostgreSQL store (`[store] url`) instead of the SQLite file in the gateway's folder.
    pub store_url: Option<String>,
    /// Extra `[section] key = value` lines appended to the service file.
    pub extra: String,
    /// Extra `key = value` lines inside the file's `[amqp]` table (which `extra` cannot reopen).
    pub amqp_extra: String,
    /// The routing file (default: the shipped sample).
    pub routing: Option<PathBuf>,
    /// Start the gateway's wall clock at this instant (libfaketime; any form the `faketime`
    /// command takes, e.g. `2026-12-28 10:00 +08:00`). Restarts keep the clock running on.
    pub faketime: Option<String>,
    /// Run the gateway on this clock instead (e.g. [`FakeClock::movable`], which the test
    /// moves).
    pub clock: Option<FakeClock>,
}

impl Options {
    pub fn new(amqp_url: &str) -> Self {
        Self {
            amqp_url: amqp_url.to_owned(),
            amqp_urls: Vec::new(),
            outbox_budget: 1_000_000,
            store_url: None,
            extra: String::new(),
            amqp_extra: String::new(),
            routing: None,
            faketime: None,
            clock: None,
        }
    }

    /// A gateway on a cluster: `[amqp] urls` lists `urls`.
    pub fn cluster(urls: &[String]) -> Self {
        Self {
            amqp_urls: urls.to_vec(),
            ..Self::new("")
        }
    }

    /// The `[amqp]` line naming the broker.
    fn broker_line(&self) -> String {
        if self.amqp_urls.is_empty() {
            format!("url = \"{}\"", self.amqp_url)
        } else {
            let quoted: Vec<_> = self.amqp_urls.iter().map(|u| format!("\"{u}\"")).collect();
            format!("urls = [{}]", quoted.join(", "))
        }
    }
}

/// A running gateway.
pub struct Gateway {
    child: Option<Child>,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub dir: PathBuf,
    pub log: PathBuf,
    pub config: PathBuf,
    /// The listeners speak TLS: readiness is read from the log, not from plain `/readyz`.
    tls: bool,
    /// The moved wall clock it runs on, if any.
    pub clock: Option<FakeClock>,
}

fn free_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr")
}

/// The real `minhu` binary, without the test environment's `MINHU_*` variables (the binary
/// reads them as config overrides).
pub fn minhu_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minhu"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MINHU_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// The sample routing file shipped in `config/`.
pub fn sample_routing() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/routing.toml")
}

impl Gateway {
    /// Writes a service file into `dir` and starts `minhu serve` on fresh ports.
    pub async fn start(dir: &Path, opts: &Options) -> Gateway {
        Self::start_with(dir, opts, false).await
    }

    /// Like [`Gateway::start`] for a config whose `[auth]` turns TLS on.
    pub async fn start_tls(dir: &Path, opts: &Options) -> Gateway {
        Self::start_with(dir, opts, true).await
    }

    async fn start_with(dir: &Path, opts: &Options, tls: bool) -> Gateway {
        let grpc = free_port();
        let http = free_port();
        let config = dir.join("minhu.toml");
        let text = format!(
            "[grpc]\nlisten = \"{grpc}\"\n[http]\nlisten = \"{http}\"\n[amqp]\n{}\nconfirm_timeout = \"5s\"\nreconnect_delay = \"200ms\"\n{}[shutdown]\ndrain_timeout = \"2s\"\n\
             [store]\n{}\noutbox_budget = {}\n[routing]\npath = \"{}\"\n{}",
            opts.broker_line(),
            opts.amqp_extra,
            match &opts.store_url {
                Some(url) => format!("url = \"{url}\""),
                None => format!("path = \"{}\"", dir.join("minhu.db").display()),
            },
            opts.outbox_budget,
            opts.routing
                .clone()
                .unwrap_or_else(sample_routing)
                .display(),
            opts.extra
        );
        std::fs::write(&config, text).expect("write test config");
        let clock = opts
            .clock
            .clone()
            .or_else(|| opts.faketime.as_deref().map(FakeClock::starting_at));
        Self::spawn(dir, config, grpc, http, tls, clock).await
    }

    /// Starts the gateway again on the same directory, config and ports.
    pub async fn restart(&mut self) {
        self.kill();
        let next = Self::spawn(
            &self.dir,
            self.config.clone(),
            self.grpc,
            self.http,
            self.tls,
            self.clock.clone(),
        )
        .await;
        *self = next;
    }

    async fn spawn(
        dir: &Path,
        config: PathBuf,
        grpc: SocketAddr,
        http: SocketAddr,
        tls: bool,
        clock: Option<FakeClock>,
    ) -> Gateway {
        let log = dir.join(format!(
            "minhu-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let log_file = std::fs::File::create(&log).expect("create log file");
        let mut cmd = minhu_command();
        if let Some(clock) = &clock {
            clock.apply(&mut cmd);
        }
        let child = cmd
            .args(["--config", &config.to_string_lossy(), "serve"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            // Both streams into one file, so tests can scan everything the binary printed.
            .stdout(log_file.try_clone().expect("clone log file"))
            .stderr(log_file)
            .spawn()
            .expect("spawn minhu");
        let mut gw = Gateway {
            child: Some(child),
            grpc,
            http,
            dir: dir.to_path_buf(),
            log,
            config,
            tls,
            clock,
        };
        gw.wait_ready().await;
        gw
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.tls && self.log_text().contains("minhu serving") {
                return;
            }
            if let Some(body) = self.http_get("/readyz").await
                && body.contains("\"accepting\":true")
            {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "minhu exited with {status} before becoming ready; log:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "minhu not ready after 30 s; log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The gateway's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A plain HTTP/1.0 GET on the HTTP listener; the body, or None if it is not answering.
    pub async fn http_get(&self, path: &str) -> Option<String> {
        let mut s = tokio::net::TcpStream::connect(self.http).await.ok()?;
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: test\r\n\r\n").as_bytes())
            .await
            .ok()?;
        let mut buf = String::new();
        s.read_to_string(&mut buf).await.ok()?;
        buf.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())
    }

    /// The value of a metric from `/metrics`.
    pub async fn metric(&self, name: &str) -> i64 {
        let body = self.http_get("/metrics").await.unwrap_or_default();
        body.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("metric {name} not found in /metrics"))
    }

    /// Waits until `/metrics` contains `needle` anywhere (end it with `\n` to match a whole
    /// value).
    pub async fn wait_for_metrics(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let m = self.http_get("/metrics").await.unwrap_or_default();
            if m.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} not in /metrics after {timeout:?}:\n{m}\nlog:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the outbox is empty (everything confirmed by the broker).
    pub async fn wait_outbox_empty(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let depth = self.metric("minhu_outbox_depth").await;
            if depth == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "outbox still holds {depth} after {timeout:?}; log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn client(&self) -> GatewayClient<Channel> {
        GatewayClient::connect(format!("http://{}", self.grpc))
            .await
            .expect("connect to gRPC")
    }

    /// `GetTicket` for `ticket_id`, without credentials (a gateway with `[auth]` off).
    pub async fn ticket(&self, ticket_id: &str) -> pb::GetTicketResponse {
        self.get_ticket(tonic::Request::new(pb::GetTicketRequest {
            ticket_id: ticket_id.into(),
        }))
        .await
    }

    /// `GetTicket` for `ticket_id` with a bearer `token`.
    pub async fn ticket_as(&self, ticket_id: &str, token: &str) -> pb::GetTicketResponse {
        self.get_ticket(with_token(
            pb::GetTicketRequest {
                ticket_id: ticket_id.into(),
            },
            token,
        ))
        .await
    }

    async fn get_ticket(&self, r: tonic::Request<pb::GetTicketRequest>) -> pb::GetTicketResponse {
        self.client()
            .await
            .get_ticket(r)
            .await
            .expect("GetTicket")
            .into_inner()
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.grpc))
            .expect("uri")
            .connect()
            .await
            .expect("connect")
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL: no shutdown, no flush: what a crash or the OOM killer does.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            if self.clock.is_some() {
                super::faketime::forget_killed(c.id());
            }
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a graceful exit; returns the exit status's success.
    pub fn terminate(&mut self) -> bool {
        let Some(mut c) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = c.try_wait() {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Counts rows of a table in the gateway's store, read with sqlite directly.
    pub fn count(&self, table: &str) -> i64 {
        let conn = rusqlite::Connection::open(self.dir.join("minhu.db")).expect("open store");
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A valid request; `n` makes its source_id unique.
pub fn request(channel: pb::Channel, source_id: &str, category: &str) -> pb::Request {
    pb::Request {
        channel: channel as i32,
        source_system: "test-system".into(),
        source_id: source_id.into(),
        request_type: pb::RequestType::Complaint as i32,
        category: category.into(),
        description: "莲湖区大兴东路社区北门口路面塌陷，有一个大坑".into(),
        location: Some(pb::Location {
            address: "莲湖区大兴东路社区北门口".into(),
            district_code: "610104".into(),
            ..Default::default()
        }),
        reporter: Some(pb::Reporter {
            name: "王小明".into(),
            phone: "13912345678".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Submits and unwraps.
pub async fn submit(
    client: &mut GatewayClient<Channel>,
    req: pb::Request,
) -> Result<pb::SubmitResponse, tonic::Status> {
    client
        .submit(pb::SubmitRequest { request: Some(req) })
        .await
        .map(|r| r.into_inner())
}

/// A gRPC request carrying `token` as its bearer credential.
pub fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}
