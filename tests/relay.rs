//! The outbox relay against a real RabbitMQ, one vhost per test, with an in-memory outbox.
//!
//! What a department and an operator rely on: every dispatch arrives with the contract's
//! properties; emergency rows leave a backlog first; an unroutable or nacked publish keeps its
//! row (retried, never deleted); a row is deleted only after a clean ack; the topology can be
//! declared again and again; shutdown and connection loss lose nothing.
#[path = "common/broker.rs"]
mod broker;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use broker::{TestVhost, drain, message_count};
use lapin::options::{QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use minhu::config::service::{AmqpConfig, QueueType};
use minhu::dispatch::relay::{self, RelayError};
use minhu::dispatch::topology::{self, DepartmentQueue};
use minhu::outbox::{OutboxEntry, OutboxMessage, OutboxSource, SourceError};
use minhu::pb;

use minhu::telemetry::Metrics;
use prost::Message as _;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

// ---------------------------------------------------------------------------------------------
// An in-memory outbox that records what the relay asks of it.

#[derive(Default)]
struct State {
    rows: BTreeMap<i64, OutboxMessage>,
    delivered: Vec<i64>,
    failed: Vec<(i64, String)>,
}

#[derive(Clone, Default)]
struct FakeOutbox(Arc<Mutex<State>>);

impl FakeOutbox {
    fn with(rows: impl IntoIterator<Item = OutboxMessage>) -> Self {
        let outbox = Self::default();
        outbox.state().rows = rows.into_iter().map(|m| (m.id, m)).collect();
        outbox
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remaining(&self) -> Vec<i64> {
        self.state().rows.keys().copied().collect()
    }

    fn delivered(&self) -> Vec<i64> {
        self.state().delivered.clone()
    }

    fn failures(&self, id: i64) -> Vec<String> {
        let s = self.state();
        s.failed
            .iter()
            .filter(|(i, _)| *i == id)
            .map(|(_, r)| r.clone())
            .collect()
    }
}

impl OutboxSource for FakeOutbox {
    async fn pending(&self) -> Result<Vec<OutboxEntry>, SourceError> {
        Ok(self
            .state()
            .rows
            .values()
            .map(|m| OutboxEntry {
                id: m.id,
                priority: m.priority,
            })
            .collect())
    }

    async fn load(&self, ids: Vec<i64>) -> Result<Vec<OutboxMessage>, SourceError> {
        let s = self.state();
        Ok(ids
            .iter()
            .filter_map(|id| s.rows.get(id).cloned())
            .collect())
    }

    async fn delivered(&self, ids: Vec<i64>) -> Result<(), SourceError> {
        let mut s = self.state();
        for id in ids {
            if s.rows.remove(&id).is_some() {
                s.delivered.push(id);
            }
        }
        Ok(())
    }

    async fn failed(&self, id: i64, reason: String) -> Result<(), SourceError> {
        let mut s = self.state();
        if let Some(row) = s.rows.get_mut(&id) {
            row.attempts += 1;
        }
        s.failed.push((id, reason));
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn dispatch_id(id: i64) -> String {
    format!("D2026112200{id:04}")
}

/// A row whose body is a real encoded `minhu.v1.Dispatch`.
fn row(id: i64, priority: u8, routing_key: &str) -> OutboxMessage {
    let body = pb::Dispatch {
        dispatch_id: dispatch_id(id),
        department_id: routing_key.trim_start_matches("dept.").to_owned(),
        rule_id: "test".into(),
        ..Default::default()
    };
    OutboxMessage {
        id,
        dispatch_id: dispatch_id(id),
        routing_key: routing_key.to_owned(),
        priority,
        case_id: format!("C{id}"),
        channel: if priority >= 9 {
            "CHANNEL_EMERGENCY_119".into()
        } else {
            "CHANNEL_WECHAT".into()
        },
        level: "B".into(),
        created_at_ms: 1_795_000_000_000 + id,
        payload: body.encode_to_vec(),
        attempts: 0,
        content: None,
    }
}

fn dept(id: &str) -> DepartmentQueue {
    DepartmentQueue {
        id: id.into(),
        queue: format!("minhu.dept.{id}"),
        routing_key: format!("dept.{id}"),
    }
}

fn config(url: &str) -> AmqpConfig {
    AmqpConfig {
        url: Some(url.to_owned()),
        confirm_timeout: Duration::from_secs(5),
        retry_backoff_min: Duration::from_millis(50),
        retry_backoff_max: Duration::from_millis(300),
        reconnect_delay: Duration::from_millis(200),
        ..AmqpConfig::default()
    }
}

/// A running relay and the handles a test needs.
struct Running {
    feed: mpsc::UnboundedSender<OutboxEntry>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), RelayError>>,
}

impl Running {
    /// Requests shutdown and waits for the relay to return.
    async fn stop(self) -> Result<(), RelayError> {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("relay did not stop within 30s")
            .expect("relay task panicked")
    }
}

fn start(outbox: &FakeOutbox, cfg: AmqpConfig, departments: Vec<DepartmentQueue>) -> Running {
    // The relay's log is shown for failing tests (RUST_LOG overrides the level).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "minhu=info".into()),
        )
        .with_test_writer()
        .try_init();
    let (feed, rx) = mpsc::unbounded_channel();
    let metrics = Arc::new(Metrics::default());
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(relay::run(
        outbox.clone(),
        rx,
        cfg,
        topology::KnownQueues::new(departments),
        metrics.clone(),
        shutdown.clone(),
    ));
    Running {
        feed,
        metrics,
        shutdown,
        task,
    }
}

/// Polls `cond` every 20 ms; panics with `what` after `timeout`.
async fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn long(v: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(v.as_bytes()))
}

fn message_id(d: &lapin::message::Delivery) -> String {
    d.properties
        .message_id()
        .as_ref()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default()
}

/// Declares a queue the relay does not know about and binds it to `minhu.dispatch`.
async fn bind_extra_queue(url: &str, queue: &str, routing_key: &str, args: FieldTable) {
    let conn = broker::connect(url).await;
    let ch = conn.create_channel().await.expect("channel");
    ch.queue_declare(queue.into(), QueueDeclareOptions::durable(), args)
        .await
        .expect("declare extra queue");
    ch.queue_bind(
        queue.into(),
        "minhu.dispatch".into(),
        routing_key.into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("bind extra queue");
    let _ = conn.close(200, "done".into()).await;
}

async fn declare_topology(url: &str, cfg: &AmqpConfig, departments: &[DepartmentQueue]) {
    let conn = broker::connect(url).await;
    let ch = conn.create_channel().await.expect("channel");
    topology::declare(&ch, cfg, departments)
        .await
        .expect("declare topology");
    let _ = conn.close(200, "done".into()).await;
}

/// A TCP forwarder to the broker that can be switched off (broker unreachable), cut (network
/// failure) or frozen (a hung broker: what it sends is held back, so confirms never arrive).
struct Switch {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    frozen: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Switch {
    async fn new(up: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let switch = Self {
            addr,
            up: Arc::new(AtomicBool::new(up)),
            frozen: Arc::new(AtomicBool::new(false)),
            live: Arc::new(Mutex::new(Vec::new())),
        };
        let (on, frozen, tasks) = (
            switch.up.clone(),
            switch.frozen.clone(),
            switch.live.clone(),
        );
        let target = format!(
            "{}:{}",
            std::env::var("MINHU_TEST_AMQP_HOST").unwrap_or_else(|_| "127.0.0.1".into()),
            std::env::var("MINHU_TEST_AMQP_PORT").unwrap_or_else(|_| "5672".into())
        );
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if !on.load(Relaxed) {
                    continue; // dropped: the client sees the connection closed at once
                }
                let (target, frozen) = (target.clone(), frozen.clone());
                let task = tokio::spawn(async move {
                    let Ok(out) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let (client_rx, client_tx) = inbound.into_split();
                    let (broker_rx, broker_tx) = out.into_split();
                    let up = pump(client_rx, broker_tx, Arc::new(AtomicBool::new(false)));
                    let down = pump(broker_rx, client_tx, frozen);
                    tokio::join!(up, down);
                });
                tasks.lock().unwrap_or_else(|e| e.into_inner()).push(task);
            }
        });
        switch
    }

    fn url(&self, vhost: &TestVhost) -> String {
        format!("amqp://guest:guest@{}/{}", self.addr, vhost.name)
    }

    /// Cuts every forwarded connection at once, like a network failure (no AMQP close).
    fn cut(&self) {
        for task in self
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }
}

/// Copies bytes one way, holding them back while `frozen` is set.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while frozen.load(Relaxed) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatches_arrive_with_every_contract_property() {
    let vhost = TestVhost::new("relay-props");
    let outbox = FakeOutbox::with([
        row(1, 0, "dept.cgj"),
        row(2, 9, "dept.cgj"),
        row(3, 3, "dept.jtj"),
    ]);
    let relay = start(&outbox, config(&vhost.url), vec![dept("cgj"), dept("jtj")]);

    wait_for("all rows delivered", Duration::from_secs(20), || {
        outbox.remaining().is_empty()
    })
    .await;
    assert_eq!(relay.metrics.broker_connected.load(Relaxed), 1);
    assert_eq!(relay.metrics.broker_connects.load(Relaxed), 1);

    let cgj = drain(&vhost.url, "minhu.dept.cgj", 2, Duration::from_secs(10)).await;
    let jtj = drain(&vhost.url, "minhu.dept.jtj", 1, Duration::from_secs(10)).await;
    assert_eq!(cgj.len(), 2);
    assert_eq!(jtj.len(), 1);
    // The emergency row (id 2) was published before the older ordinary one.
    assert_eq!(message_id(&cgj[0]), dispatch_id(2));
    assert_eq!(message_id(&cgj[1]), dispatch_id(1));

    let d = &jtj[0];
    let p = &d.properties;
    assert_eq!(d.exchange.as_str(), "minhu.dispatch");
    assert_eq!(d.routing_key.as_str(), "dept.jtj");
    assert_eq!(
        p.content_type().as_ref().map(|s| s.as_str()),
        Some("application/x-protobuf")
    );
    assert_eq!(
        p.kind().as_ref().map(|s| s.as_str()),
        Some("minhu.v1.Dispatch")
    );
    assert_eq!(*p.delivery_mode(), Some(2));
    assert_eq!(message_id(d), dispatch_id(3));
    assert_eq!(*p.timestamp(), Some(1_795_000_000));
    assert_eq!(*p.priority(), Some(3));
    let headers = p.headers().as_ref().expect("headers").inner();
    assert_eq!(headers.get("x-minhu-case-id"), Some(&long("C3")));
    assert_eq!(
        headers.get("x-minhu-channel"),
        Some(&long("CHANNEL_WECHAT"))
    );
    assert_eq!(headers.get("x-minhu-level"), Some(&long("B")));
    let body = pb::Dispatch::decode(d.data.as_slice()).expect("body is a minhu.v1.Dispatch");
    assert_eq!(body.dispatch_id, dispatch_id(3));

    let m = relay.metrics.clone();
    relay.stop().await.expect("clean shutdown");
    assert_eq!(m.publishes.load(Relaxed), 3);
    assert_eq!(m.publishes_confirmed.load(Relaxed), 3);
    assert_eq!(m.broker_connected.load(Relaxed), 0);
    assert!(outbox.state().failed.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emergency_rows_leave_a_backlog_first_after_an_outage() {
    let vhost = TestVhost::new("relay-backlog");
    let switch = Switch::new(false).await;
    let outbox = FakeOutbox::default();
    let relay = start(&outbox, config(&switch.url(&vhost)), vec![dept("cgj")]);

    // The backlog builds up while the broker is unreachable: ordinary rows first, then a few
    // emergency (9) and urgent (5) ones committed later.
    let mut rows = Vec::new();
    for id in 1..=300 {
        let priority = match id {
            120 | 250 | 299 => 9,
            60 | 200 => 5,
            _ => 0,
        };
        rows.push(row(id, priority, "dept.cgj"));
    }
    for r in &rows {
        outbox.state().rows.insert(r.id, r.clone());
        relay
            .feed
            .send(OutboxEntry {
                id: r.id,
                priority: r.priority,
            })
            .expect("feed");
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(relay.metrics.broker_connected.load(Relaxed), 0);
    assert_eq!(relay.metrics.publishes.load(Relaxed), 0);
    assert_eq!(
        outbox.remaining().len(),
        300,
        "nothing may leave while the broker is away"
    );

    switch.up.store(true, Relaxed);
    wait_for("backlog delivered", Duration::from_secs(30), || {
        outbox.remaining().is_empty()
    })
    .await;
    let got = drain(&vhost.url, "minhu.dept.cgj", 300, Duration::from_secs(10)).await;
    let order: Vec<String> = got.iter().map(message_id).collect();
    let mut want: Vec<&OutboxMessage> = rows.iter().collect();
    want.sort_by_key(|r| (std::cmp::Reverse(r.priority), r.id));
    let want: Vec<String> = want.iter().map(|r| r.dispatch_id.clone()).collect();
    assert_eq!(
        order, want,
        "publish order must be priority first, then age"
    );
    relay.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unroutable_rows_are_returned_and_retried_not_deleted() {
    let vhost = TestVhost::new("relay-return");
    let outbox = FakeOutbox::with([row(1, 0, "dept.cgj"), row(2, 9, "dept.nobody")]);
    let relay = start(&outbox, config(&vhost.url), vec![dept("cgj")]);

    wait_for(
        "the unroutable row to fail three times",
        Duration::from_secs(20),
        || outbox.failures(2).len() >= 3,
    )
    .await;
    assert_eq!(
        outbox.delivered(),
        vec![1],
        "only the routable row is deleted"
    );
    assert_eq!(
        outbox.remaining(),
        vec![2],
        "the returned row stays in the outbox"
    );
    assert!(outbox.failures(2).iter().all(|r| r.contains("returned")));
    assert!(relay.metrics.publishes_returned.load(Relaxed) >= 3);
    // Returns are not acks: a returned publish never counts as confirmed.
    assert_eq!(relay.metrics.publishes_confirmed.load(Relaxed), 1);

    // An operator adds the missing binding: the next retry goes through.
    bind_extra_queue(
        &vhost.url,
        "late-binding",
        "dept.nobody",
        FieldTable::default(),
    )
    .await;
    wait_for(
        "the row to be delivered once routable",
        Duration::from_secs(20),
        || outbox.remaining().is_empty(),
    )
    .await;
    let got = drain(&vhost.url, "late-binding", 1, Duration::from_secs(10)).await;
    assert_eq!(
        got.iter().map(message_id).collect::<Vec<_>>(),
        vec![dispatch_id(2)]
    );
    relay.stop().await.expect("clean shutdown");
}

/// Binds queue `full` to `dept.full`, refusing every message: the broker nacks publishes
/// routed to it.
async fn bind_refusing_queue(url: &str) {
    let mut full = FieldTable::default();
    full.insert("x-max-length".into(), AMQPValue::LongLongInt(0));
    full.insert("x-overflow".into(), long("reject-publish"));
    bind_extra_queue(url, "full", "dept.full", full).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_deleted_only_after_a_clean_ack() {
    let vhost = TestVhost::new("relay-nack");
    let cfg = config(&vhost.url);
    declare_topology(&vhost.url, &cfg, &[dept("cgj")]).await;
    bind_refusing_queue(&vhost.url).await;

    let outbox = FakeOutbox::with([row(1, 0, "dept.full"), row(2, 0, "dept.cgj")]);
    let relay = start(&outbox, cfg, vec![dept("cgj")]);
    wait_for(
        "the refused row to be nacked twice",
        Duration::from_secs(20),
        || outbox.failures(1).len() >= 2,
    )
    .await;
    assert!(outbox.failures(1).iter().all(|r| r.contains("nacked")));
    assert_eq!(outbox.delivered(), vec![2]);
    assert_eq!(outbox.remaining(), vec![1]);
    assert!(relay.metrics.publishes_nacked.load(Relaxed) >= 2);

    // Once the queue accepts again, the same row is delivered and only then deleted.
    let conn = broker::connect(&vhost.url).await;
    let ch = conn.create_channel().await.expect("channel");
    ch.queue_delete("full".into(), Default::default())
        .await
        .expect("delete full queue");
    let _ = conn.close(200, "done".into()).await;
    bind_extra_queue(&vhost.url, "roomy", "dept.full", FieldTable::default()).await;
    wait_for(
        "delivery after the queue has room",
        Duration::from_secs(20),
        || outbox.remaining().is_empty(),
    )
    .await;
    assert_eq!(message_count(&vhost.url, "roomy").await, 1);
    relay.stop().await.expect("clean shutdown");
}

/// A channel the broker nacks everything on is given up after 100 nacks in a row, and the
/// relay connects again (after a quorum queue's leader died, RabbitMQ 3.10 was seen nacking
/// every publish on such a channel for minutes, while a new connection was served at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_that_nacks_everything_is_connected_again() {
    let vhost = TestVhost::new("relay-nack-streak");
    let cfg = config(&vhost.url);
    declare_topology(&vhost.url, &cfg, &[dept("cgj")]).await;
    bind_refusing_queue(&vhost.url).await;

    let outbox = FakeOutbox::with((1..=150).map(|i| row(i, 0, "dept.full")));
    let relay = start(&outbox, cfg, vec![dept("cgj")]);
    wait_for(
        "a new connection after 100 nacks in a row",
        Duration::from_secs(30),
        || relay.metrics.broker_connects.load(Relaxed) >= 2,
    )
    .await;
    assert!(relay.metrics.publishes_nacked.load(Relaxed) >= 100);
    assert_eq!(
        outbox.remaining().len(),
        150,
        "nothing nacked leaves the outbox"
    );
    relay.stop().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topology_can_be_declared_again_and_again() {
    let vhost = TestVhost::new("relay-topology");
    let cfg = config(&vhost.url);
    let departments = [dept("cgj"), dept("jtj")];
    for _ in 0..2 {
        declare_topology(&vhost.url, &cfg, &departments).await;
    }
    // Twice on one channel, too.
    let conn = broker::connect(&vhost.url).await;
    let ch = conn.create_channel().await.expect("channel");
    for _ in 0..2 {
        topology::declare(&ch, &cfg, &departments)
            .await
            .expect("redeclare on the same channel");
    }
    let _ = conn.close(200, "done".into()).await;

    let queues = broker::rabbitmqctl(&[
        "list_queues",
        "-p",
        &vhost.name,
        "name",
        "type",
        "durable",
        "--quiet",
        "--no-table-headers",
    ]);
    for q in ["minhu.dept.cgj", "minhu.dept.jtj", "minhu.dead"] {
        assert!(
            queues.lines().any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols == [q, "quorum", "true"]
            }),
            "{q} should be a durable quorum queue:\n{queues}"
        );
    }
    let exchanges = broker::rabbitmqctl(&[
        "list_exchanges",
        "-p",
        &vhost.name,
        "name",
        "type",
        "durable",
        "--quiet",
        "--no-table-headers",
    ]);
    for x in ["minhu.dispatch", "minhu.dlx"] {
        assert!(
            exchanges
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == [x, "topic", "true"]),
            "{x} should be a durable topic exchange:\n{exchanges}"
        );
    }
    let bindings = broker::rabbitmqctl(&[
        "list_bindings",
        "-p",
        &vhost.name,
        "source_name",
        "destination_name",
        "routing_key",
        "--quiet",
        "--no-table-headers",
    ]);
    for (src, dst, key) in [
        ("minhu.dispatch", "minhu.dept.cgj", "dept.cgj"),
        ("minhu.dispatch", "minhu.dept.jtj", "dept.jtj"),
        ("minhu.dlx", "minhu.dead", "#"),
    ] {
        assert!(
            bindings
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == [src, dst, key]),
            "missing binding {src} -> {dst} ({key}):\n{bindings}"
        );
    }
    let args = broker::rabbitmqctl(&[
        "list_queues",
        "-p",
        &vhost.name,
        "name",
        "arguments",
        "--quiet",
        "--no-table-headers",
    ]);
    let cgj = args
        .lines()
        .find(|l| l.starts_with("minhu.dept.cgj"))
        .unwrap_or_default();
    assert!(
        cgj.contains("x-dead-letter-exchange") && cgj.contains("minhu.dlx"),
        "{cgj}"
    );
    assert!(
        cgj.contains("x-delivery-limit") && cgj.contains("20"),
        "{cgj}"
    );

    // Classic queues, in their own vhost, redeclare just as well.
    let classic_vhost = TestVhost::new("relay-topology-classic");
    let classic = AmqpConfig {
        queue_type: QueueType::Classic,
        ..config(&classic_vhost.url)
    };
    for _ in 0..2 {
        declare_topology(&classic_vhost.url, &classic, &departments).await;
    }
    assert_eq!(classic_vhost.queue_depth("minhu.dept.cgj"), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_with_rows_in_flight_loses_nothing() {
    let vhost = TestVhost::new("relay-shutdown");
    let all: Vec<OutboxMessage> = (1..=3000)
        .map(|id| row(id, (id % 10) as u8, "dept.cgj"))
        .collect();
    let outbox = FakeOutbox::with(all.clone());
    let relay = start(&outbox, config(&vhost.url), vec![dept("cgj")]);
    let m = relay.metrics.clone();
    // Stop as soon as the first window is on its way: those publishes are awaiting confirms.
    wait_for("publishing to start", Duration::from_secs(20), || {
        m.publishes.load(Relaxed) > 0
    })
    .await;
    relay.stop().await.expect("clean shutdown");

    // Every row is either deleted after its ack or still in the outbox; nothing in between.
    let delivered: HashSet<i64> = outbox.delivered().into_iter().collect();
    let remaining: HashSet<i64> = outbox.remaining().into_iter().collect();
    assert!(delivered.is_disjoint(&remaining));
    assert_eq!(delivered.len() + remaining.len(), all.len());
    assert_eq!(
        m.publishes_confirmed.load(Relaxed) as usize,
        delivered.len()
    );
    // The window in flight at shutdown was settled (acked rows deleted), and no new publish
    // started after the request: the rest is still waiting in the outbox.
    assert!(!delivered.is_empty() && !remaining.is_empty());
    assert_eq!(
        m.publishes.load(Relaxed),
        m.publishes_confirmed.load(Relaxed) + m.publishes_timed_out.load(Relaxed),
        "every publish in flight at shutdown was settled one way or the other"
    );
    assert_eq!(m.broker_connected.load(Relaxed), 0);

    // A restarted relay finishes the job; the queue then holds every dispatch (duplicates
    // allowed: consumers dedupe by message_id).
    let again = start(&outbox, config(&vhost.url), vec![dept("cgj")]);
    wait_for(
        "the rest delivered after restart",
        Duration::from_secs(60),
        || outbox.remaining().is_empty(),
    )
    .await;
    again.stop().await.expect("clean shutdown");
    let depth = message_count(&vhost.url, "minhu.dept.cgj").await as usize;
    let got = drain(&vhost.url, "minhu.dept.cgj", depth, Duration::from_secs(30)).await;
    let ids: HashSet<String> = got.iter().map(message_id).collect();
    let want: HashSet<String> = all.iter().map(|r| r.dispatch_id.clone()).collect();
    assert_eq!(ids, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_reestablished_without_loss() {
    let vhost = TestVhost::new("relay-drop");
    let switch = Switch::new(true).await;
    let outbox = FakeOutbox::default();
    let relay = start(&outbox, config(&switch.url(&vhost)), vec![dept("cgj")]);
    let m = relay.metrics.clone();
    wait_for("the first connection", Duration::from_secs(20), || {
        m.broker_connects.load(Relaxed) == 1
    })
    .await;

    // Rows keep arriving while the network fails twice under the relay's feet.
    let total = 6000i64;
    for id in 1..=total {
        let r = row(id, 0, "dept.cgj");
        outbox.state().rows.insert(id, r);
        relay
            .feed
            .send(OutboxEntry { id, priority: 0 })
            .expect("feed");
        if id % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        if id == total / 3 || id == 2 * total / 3 {
            switch.cut();
        }
    }
    wait_for("every row delivered", Duration::from_secs(60), || {
        outbox.remaining().is_empty()
    })
    .await;
    assert!(
        m.broker_connects.load(Relaxed) >= 2,
        "the relay must have reconnected"
    );
    assert_eq!(m.broker_connected.load(Relaxed), 1);

    // A broker-side close (e.g. an operator or a node restart) is noticed as well.
    let before = m.broker_connects.load(Relaxed);
    vhost.close_connections();
    wait_for(
        "a reconnect after the broker closed us",
        Duration::from_secs(20),
        || m.broker_connects.load(Relaxed) > before && m.broker_connected.load(Relaxed) == 1,
    )
    .await;
    relay.stop().await.expect("clean shutdown");

    let depth = message_count(&vhost.url, "minhu.dept.cgj").await as usize;
    let got = drain(&vhost.url, "minhu.dept.cgj", depth, Duration::from_secs(30)).await;
    let ids: HashSet<String> = got.iter().map(message_id).collect();
    assert_eq!(ids.len() as i64, total, "every dispatch reached the queue");
    assert_eq!(
        m.publishes_confirmed.load(Relaxed) as i64,
        total,
        "each row deleted exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirms_that_never_come_time_out_and_the_rows_are_kept() {
    let vhost = TestVhost::new("relay-timeout");
    let switch = Switch::new(true).await;
    let outbox = FakeOutbox::default();
    let cfg = AmqpConfig {
        confirm_timeout: Duration::from_secs(1),
        ..config(&switch.url(&vhost))
    };
    let relay = start(&outbox, cfg, vec![dept("cgj")]);
    let m = relay.metrics.clone();
    wait_for("the first connection", Duration::from_secs(20), || {
        m.broker_connected.load(Relaxed) == 1
    })
    .await;

    // The broker stops answering: publishes go out, confirms never come back.
    switch.frozen.store(true, Relaxed);
    for id in 1..=50 {
        outbox.state().rows.insert(id, row(id, 0, "dept.cgj"));
        relay
            .feed
            .send(OutboxEntry { id, priority: 0 })
            .expect("feed");
    }
    // The first overdue confirm fails its row and the connection is distrusted: the others in
    // flight are failed with it and everything waits for a healthy connection.
    wait_for("confirms to time out", Duration::from_secs(20), || {
        m.publishes_timed_out.load(Relaxed) >= 1 && m.broker_connected.load(Relaxed) == 0
    })
    .await;
    assert!(outbox.delivered().is_empty(), "no confirm, no delete");
    assert_eq!(outbox.remaining().len(), 50);
    // Failure reports reach the store in the background.
    wait_for(
        "every unconfirmed publish reported failed",
        Duration::from_secs(5),
        || {
            let failed: HashSet<i64> = outbox.state().failed.iter().map(|(id, _)| *id).collect();
            failed.len() == 50
        },
    )
    .await;
    assert!(
        outbox
            .state()
            .failed
            .iter()
            .any(|(_, r)| r.contains("no confirm within"))
    );

    // The broker recovers: the relay reconnects and the same rows go through.
    switch.frozen.store(false, Relaxed);
    wait_for(
        "delivery after the broker recovered",
        Duration::from_secs(30),
        || outbox.remaining().is_empty(),
    )
    .await;
    assert!(m.broker_connects.load(Relaxed) >= 2);
    relay.stop().await.expect("clean shutdown");
    let depth = message_count(&vhost.url, "minhu.dept.cgj").await as usize;
    let got = drain(&vhost.url, "minhu.dept.cgj", depth, Duration::from_secs(30)).await;
    let ids: HashSet<String> = got.iter().map(message_id).collect();
    assert_eq!(
        ids.len(),
        50,
        "every dispatch arrived (duplicates are allowed)"
    );
}
