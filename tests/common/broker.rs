//! Integration-test access to the real RabbitMQ: one throw-away vhost per test (so tests never
//! see each other's queues) and helpers to read what arrived.
//!
//! Tests that need the broker never skip: when it is not reachable they panic and say how to
//! start it. `rabbitmqctl` needs `RABBITMQ_NODENAME` (default here: `rabbit@localhost`).
//! Environment overrides: `MINHU_TEST_AMQP_HOST` (default `127.0.0.1`), `MINHU_TEST_AMQP_PORT`
//! (default `5672`), `MINHU_TEST_AMQP_USER`/`MINHU_TEST_AMQP_PASSWORD` (default guest/guest).
#![allow(dead_code)]

use std::net::{TcpStream, ToSocketAddrs};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};

const HOW_TO_START: &str = "start it with `RABBITMQ_NODENAME=rabbit@localhost \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached` and \
    `RABBITMQ_NODENAME=rabbit@localhost rabbitmqctl await_startup`";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn host() -> String {
    env_or("MINHU_TEST_AMQP_HOST", "127.0.0.1")
}

fn port() -> String {
    env_or("MINHU_TEST_AMQP_PORT", "5672")
}

fn nodename() -> String {
    env_or("RABBITMQ_NODENAME", "rabbit@localhost")
}

/// Panics with instructions when nothing listens on the AMQP port.
pub fn require_broker() {
    let addr = format!("{}:{}", host(), port());
    let reachable = addr
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(3)).is_ok());
    assert!(
        reachable,
        "RabbitMQ is not reachable at {addr}; these tests need a real broker (they never skip): {HOW_TO_START}"
    );
}

/// Runs `rabbitmqctl <args>` and returns its stdout; panics with its output on failure.
pub fn rabbitmqctl(args: &[&str]) -> String {
    let out = Command::new("rabbitmqctl")
        .env("RABBITMQ_NODENAME", nodename())
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run rabbitmqctl ({e}); is RabbitMQ installed? {HOW_TO_START}")
        });
    assert!(
        out.status.success(),
        "rabbitmqctl {} failed ({}):\n{}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A vhost that exists for the lifetime of the value; deleted (with its queues) on drop.
#[derive(Debug)]
pub struct TestVhost {
    /// The vhost's name.
    pub name: String,
    /// AMQP URL that connects to it as `guest`.
    pub url: String,
}

impl TestVhost {
    /// Creates a fresh vhost named `<prefix>-<pid>-<time>-<n>` and lets `guest` use it.
    pub fn new(prefix: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        require_broker();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "minhu-test-{}-{}-{nanos}-{}",
            prefix.replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let user = env_or("MINHU_TEST_AMQP_USER", "guest");
        let password = env_or("MINHU_TEST_AMQP_PASSWORD", "guest");
        rabbitmqctl(&["add_vhost", &name]);
        // Built before anything else can fail so Drop deletes the vhost on a panic below.
        let vhost = Self {
            url: format!("amqp://{user}:{password}@{}:{}/{name}", host(), port()),
            name,
        };
        rabbitmqctl(&[
            "set_permissions",
            "-p",
            &vhost.name,
            &user,
            ".*",
            ".*",
            ".*",
        ]);
        vhost
    }

    /// Messages ready in `queue`, from `rabbitmqctl list_queues` (None if there is no such
    /// queue).
    pub fn queue_depth(&self, queue: &str) -> Option<u64> {
        queue_depth(&self.name, queue)
    }

    /// Force-closes every client connection to this vhost (a broker-side connection drop).
    pub fn close_connections(&self) {
        rabbitmqctl(&[
            "close_all_connections",
            "--vhost",
            &self.name,
            "minhu test: simulated connection loss",
        ]);
    }
}

impl Drop for TestVhost {
    fn drop(&mut self) {
        // Best effort: a failure here must not turn a passing test into a double panic.
        let _ = Command::new("rabbitmqctl")
            .env("RABBITMQ_NODENAME", nodename())
            .args(["delete_vhost", &self.name])
            .output();
    }
}

/// Messages ready in `queue` of `vhost`, via `rabbitmqctl list_queues -p` (None if the queue
/// does not exist).
pub fn queue_depth(vhost: &str, queue: &str) -> Option<u64> {
    let out = rabbitmqctl(&[
        "list_queues",
        "-p",
        vhost,
        "name",
        "messages_ready",
        "--quiet",
        "--no-table-headers",
    ]);
    out.lines().find_map(|line| {
        let mut cols = line.split_whitespace();
        (cols.next() == Some(queue)).then(|| cols.next().and_then(|n| n.parse().ok()))?
    })
}

/// Opens a connection to `url`, panicking with a clear message if that fails.
pub async fn connect(url: &str) -> Connection {
    Connection::connect(url, ConnectionProperties::default())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}; {HOW_TO_START}"))
}

/// Consumes and acks messages from `queue` until `expected` arrived or `timeout` passed, and
/// returns them in arrival order (possibly fewer than `expected`: the caller asserts).
///
/// The queue may not exist yet (the gateway's relay declares it once it has connected): until
/// `timeout`, a missing queue is waited for rather than treated as an error. So is a queue still
/// being created: RabbitMQ 3.10 answers a consume on a quorum queue whose Raft cluster is not up
/// yet with a connection-level INTERNAL_ERROR, so that attempt gets a fresh connection.
pub async fn drain(url: &str, queue: &str, expected: usize, timeout: Duration) -> Vec<Delivery> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut conn = connect(url).await;
    let mut consumer = loop {
        // A failed consume closes the channel (or, mid-creation, the connection), so every
        // attempt gets a fresh channel, and a fresh connection when the last one was closed.
        let attempt = async {
            conn.create_channel()
                .await?
                .basic_consume(
                    queue.into(),
                    "minhu-test-drain".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
        };
        match attempt.await {
            Ok(consumer) => break consumer,
            Err(e) => {
                let text = e.to_string();
                let retry = text.contains("NOT_FOUND")
                    || text.contains("INTERNAL")
                    || !conn.status().connected();
                assert!(retry, "cannot consume from {queue}: {e}");
                if tokio::time::Instant::now() >= deadline {
                    let _ = conn.close(200, "done".into()).await;
                    return Vec::new();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                if !conn.status().connected() {
                    conn = connect(url).await;
                }
            }
        }
    };
    let mut got = Vec::new();
    while got.len() < expected {
        match tokio::time::timeout_at(deadline, consumer.next()).await {
            Ok(Some(Ok(delivery))) => {
                delivery
                    .ack(BasicAckOptions::default())
                    .await
                    .expect("ack delivery");
                got.push(delivery);
            }
            Ok(Some(Err(e))) => panic!("consuming from {queue} failed: {e}"),
            Ok(None) | Err(_) => break,
        }
    }
    let _ = conn.close(200, "done".into()).await;
    got
}

/// Messages ready in `queue`, asked over AMQP (a passive declare): exact and fast, for
/// polling loops.
pub async fn message_count(url: &str, queue: &str) -> u32 {
    let conn = connect(url).await;
    let channel = conn.create_channel().await.expect("create channel");
    let q = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("queue {queue} does not exist: {e}"));
    let _ = conn.close(200, "done".into()).await;
    q.message_count()
}

/// A string header of a delivery (Minhu's headers are long strings).
pub fn header(d: &Delivery, name: &str) -> Option<String> {
    match d.properties.headers().as_ref()?.inner().get(name) {
        Some(lapin::types::AMQPValue::LongString(s)) => Some(s.to_string()),
        _ => None,
    }
}

/// The `x-minhu-case-id` of every delivery.
pub fn case_ids(deliveries: &[Delivery]) -> std::collections::HashSet<String> {
    deliveries
        .iter()
        .filter_map(|d| header(d, "x-minhu-case-id"))
        .collect()
}

/// The `minhu.v1.Dispatch` in a delivery, in either encoding a department can choose
/// (protobuf, or proto3 JSON for `encoding = "json"`).
pub fn dispatch_of(d: &Delivery) -> minhu::pb::Dispatch {
    let json = d
        .properties
        .content_type()
        .as_ref()
        .is_some_and(|c| c.as_str() == "application/json");
    if json {
        minhu::json::dispatch_from_json(&d.data)
            .unwrap_or_else(|e| panic!("not a proto3 JSON minhu.v1.Dispatch: {e}"))
    } else {
        prost::Message::decode(d.data.as_slice()).expect("a minhu.v1.Dispatch")
    }
}

/// Consumes `queue` until it stays empty for two seconds: everything there, duplicates included.
pub async fn drain_all(url: &str, queue: &str) -> Vec<Delivery> {
    let mut all = Vec::new();
    loop {
        let got = drain(url, queue, usize::MAX, Duration::from_secs(2)).await;
        if got.is_empty() {
            return all;
        }
        all.extend(got);
    }
}

/// Publishes a department's update (an encoded `minhu.v1.CaseUpdate`) to `minhu.updates` as a
/// department's own AMQP client would, and waits for the broker's ack. `channel` must be in
/// confirm mode.
pub async fn publish_update(channel: &lapin::Channel, update_id: &str, body: &[u8]) {
    let confirm = channel
        .basic_publish(
            "".into(),
            "minhu.updates".into(),
            lapin::options::BasicPublishOptions {
                mandatory: true,
                ..lapin::options::BasicPublishOptions::default()
            },
            body,
            lapin::BasicProperties::default()
                .with_message_id(update_id.into())
                .with_content_type("application/x-protobuf".into())
                .with_type("minhu.v1.CaseUpdate".into())
                .with_delivery_mode(2),
        )
        .await
        .expect("publish an update")
        .await
        .expect("the broker's confirm");
    assert!(confirm.is_ack(), "{confirm:?}");
}

/// RabbitMQ's default memory watermark, restored when an alarm ends.
const DEFAULT_WATERMARK: &str = "0.4";

/// A broker-wide memory alarm (watermark 0: every publisher is blocked), raised by
/// [`MemoryAlarm::raise`] and lifted by [`MemoryAlarm::clear`] or, when an assertion fails
/// half-way, on drop, so later tests (and everyone sharing the broker) are not left blocked.
/// The alarm is broker-wide: a test that raises one must be alone in its binary (cargo runs
/// test binaries one after another).
pub struct MemoryAlarm {
    cleared: bool,
}

impl MemoryAlarm {
    pub fn raise() -> Self {
        rabbitmqctl(&["set_vm_memory_high_watermark", "0"]);
        Self { cleared: false }
    }

    /// Lifts the alarm, failing the test if the broker refuses.
    pub fn clear(mut self) {
        rabbitmqctl(&["set_vm_memory_high_watermark", DEFAULT_WATERMARK]);
        self.cleared = true;
    }
}

impl Drop for MemoryAlarm {
    fn drop(&mut self) {
        if !self.cleared {
            // Already failing: lift it without asserting again.
            let _ = Command::new("rabbitmqctl")
                .env("RABBITMQ_NODENAME", nodename())
                .args(["set_vm_memory_high_watermark", DEFAULT_WATERMARK])
                .output();
        }
    }
}

/// Everything in `queue`, on one consumer that stops after two quiet seconds. (Not
/// [`drain_all`]: it closes its consumer every two seconds with deliveries still arriving, and
/// a quorum queue may return messages acked just before a close, which would count as the
/// gateway's duplicates.)
pub async fn drain_until_idle(url: &str, queue: &str) -> Vec<Delivery> {
    let conn = connect(url).await;
    let channel = conn.create_channel().await.expect("a channel");
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            "minhu-test-drain-until-idle".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("cannot consume {queue}: {e}"));
    let mut got = Vec::new();
    while let Ok(Some(Ok(d))) = tokio::time::timeout(Duration::from_secs(2), consumer.next()).await
    {
        d.ack(BasicAckOptions::default()).await.expect("ack");
        got.push(d);
    }
    let _ = conn.close(200, "done".into()).await;
    got
}
