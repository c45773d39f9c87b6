//! The service file, `config/minhu.toml`: where Minhu listens, which broker and store it uses,
//! and its limits. Every key can be overridden by `MINHU_<SECTION>__<KEY>` (see [`super::load`]).
use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde::Deserialize;

/// The whole service configuration.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    /// gRPC listener (`minhu.v1.Gateway`, health, reflection).
    pub grpc: GrpcConfig,
    /// HTTP listener (health, metrics, channel adapters).
    pub http: HttpConfig,
    /// The RabbitMQ broker departments consume from.
    pub amqp: AmqpConfig,
    /// The embedded SQLite store.
    pub store: StoreConfig,
    /// Where the routing rules live.
    pub routing: RoutingFileConfig,
    /// Input limits applied to every request before anything is written.
    pub limits: LimitsConfig,
    /// Caller authentication (tokens, client certificates) and TLS on the listeners.
    pub auth: super::auth::AuthConfig,
    /// Rate limits per reporter, calling system and channel.
    pub rate_limits: super::rate_limits::RateLimitsConfig,
    /// Logging.
    pub log: LogConfig,
    /// Graceful shutdown.
    pub shutdown: ShutdownConfig,
    /// Channel adapters on the HTTP listener.
    pub adapters: super::adapters::AdaptersConfig,
    /// Merging reports of one problem into one case.
    pub merge: crate::merge::MergeConfig,
    /// Answering citizens on their own channels (see [`crate::notify`]).
    pub notify: super::notify::NotifyConfig,
    /// Follow-up links (回访) and the rating form behind them.
    pub feedback: super::feedback::FeedbackConfig,
    /// Reporters' contacts at rest: sealing keys and erasure after closure.
    pub privacy: super::privacy::PrivacyConfig,
    /// 谁呼谁评: the weights, deductions and points case scores are computed with (defaults:
    /// the seeds' 10/20/30/40; see [`crate::scores::rules`]).
    pub scores: crate::scores::Rules,
}

/// How long each phase of a graceful shutdown may take.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownConfig {
    /// Time for requests already inside to finish after the listeners stop. Clients that keep
    /// idle connections open would otherwise hold the shutdown forever; past this, connections
    /// are dropped (an unanswered caller retries, and the retry is an idempotent replay).
    #[serde(with = "humantime_serde")]
    pub drain_timeout: Duration,
    /// Time the relay gets to empty the outbox before it stops (while the broker is reachable).
    /// What is left is published by the next start.
    #[serde(with = "humantime_serde")]
    pub flush_timeout: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            drain_timeout: Duration::from_secs(10),
            flush_timeout: Duration::from_secs(15),
        }
    }
}

/// gRPC listener settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcConfig {
    /// Address to listen on, e.g. `127.0.0.1:50051`.
    pub listen: SocketAddr,
    /// Largest accepted gRPC message in bytes.
    pub max_message_bytes: usize,
    /// Time a new connection gets to send its first bytes (the HTTP/2 preface, or the TLS
    /// handshake with TLS on); silent connections are closed (slowloris).
    #[serde(with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// Interval of HTTP/2 pings on an established connection; a peer that does not answer one
    /// within `keepalive_timeout` is disconnected.
    #[serde(with = "humantime_serde")]
    pub keepalive_interval: Duration,
    /// How long to wait for a ping's answer.
    #[serde(with = "humantime_serde")]
    pub keepalive_timeout: Duration,
    /// Most requests in one SubmitStream; past it the stream ends with RESOURCE_EXHAUSTED
    /// (answers already sent stand). Split larger imports into several streams.
    pub max_stream_requests: usize,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        Self {
            listen: ([127, 0, 0, 1], 50051).into(),
            max_message_bytes: 4 * 1024 * 1024,
            handshake_timeout: Duration::from_secs(10),
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(10),
            max_stream_requests: 1_000_000,
        }
    }
}

/// HTTP listener settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Time a client gets for the TLS handshake and for each request's line and headers, and
    /// the longest a keep-alive connection may idle between requests. Slower clients are
    /// disconnected (slowloris).
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Time for a whole request, body included; past it the answer is 408.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: ([127, 0, 0, 1], 8080).into(),
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Which RabbitMQ queue type department queues are declared as.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum QueueType {
    /// Replicated, durable queues (the default; RabbitMQ's recommendation for data safety).
    #[default]
    Quorum,
    /// Classic durable queues, for single-node brokers that cannot run quorum queues.
    Classic,
}

/// Broker settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AmqpConfig {
    /// AMQP URL including vhost, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f` (the default).
    /// One broker node; for a cluster use `urls` instead (the two are exclusive).
    pub url: Option<String>,
    /// The nodes of a RabbitMQ cluster, one AMQP URL each, all with the same vhost, e.g.
    /// `["amqp://minhu:…@10.0.0.1:5672/minhu", "amqp://minhu:…@10.0.0.2:5672/minhu"]`. Every
    /// connection goes to one node and moves to the next live one when its node dies (see
    /// [`crate::protect::amqps::connect`]).
    pub urls: Option<Vec<String>>,
    /// Queue type for `minhu.dept.*` queues.
    pub queue_type: QueueType,
    /// Publishes awaiting a broker confirm at once (the publisher-confirm window).
    pub confirm_window: usize,
    /// How long to wait for one publish's confirm before treating it as failed and retrying.
    #[serde(with = "humantime_serde")]
    pub confirm_timeout: Duration,
    /// How long rows may wait in the outbox without any confirm from the broker before
    /// `/readyz` reports `"status": "degraded"` (`minhu_relay_stalled` 1). A connected broker
    /// can stop confirming (quorum queues recovering a backlog, a resource alarm); this is how
    /// that shows.
    #[serde(with = "humantime_serde")]
    pub confirm_stall_after: Duration,
    /// First retry delay after a nack, a return or a timeout; doubles per attempt.
    #[serde(with = "humantime_serde")]
    pub retry_backoff_min: Duration,
    /// Longest retry delay.
    #[serde(with = "humantime_serde")]
    pub retry_backoff_max: Duration,
    /// Delay between reconnection attempts while the broker is unreachable.
    #[serde(with = "humantime_serde")]
    pub reconnect_delay: Duration,
    /// Deliveries of one message before a quorum queue dead-letters it to `minhu.dead`.
    pub delivery_limit: u32,
    /// PEM CA certificate(s) the broker's certificate must chain to, for an `amqps://` URL
    /// (a city's private CA); unset: the system's trust roots.
    pub tls_ca_file: Option<PathBuf>,
}

/// The broker a config that names none connects to: a local RabbitMQ's default vhost.
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

impl AmqpConfig {
    /// The broker nodes to connect to, in the configured order: `urls`, or `url` as a one-node
    /// list, or [`DEFAULT_AMQP_URL`]. (Validation refuses both keys at once; `url` wins here.)
    pub fn nodes(&self) -> Vec<&str> {
        match (&self.url, &self.urls) {
            (Some(url), _) => vec![url.as_str()],
            (None, Some(urls)) => urls.iter().map(String::as_str).collect(),
            (None, None) => vec![DEFAULT_AMQP_URL],
        }
    }
}

impl Default for AmqpConfig {
    fn default() -> Self {
        Self {
            url: None,
            urls: None,
            queue_type: QueueType::Quorum,
            confirm_window: 1024,
            confirm_timeout: Duration::from_secs(15),
            confirm_stall_after: Duration::from_secs(60),
            retry_backoff_min: Duration::from_millis(200),
            retry_backoff_max: Duration::from_secs(30),
            reconnect_delay: Duration::from_secs(1),
            delivery_limit: 20,
            tls_ca_file: None,
        }
    }
}

/// `[store] path` when none is given.
pub const DEFAULT_STORE_PATH: &str = "data/minhu.db";

/// Store settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// SQLite database file; relative paths are relative to the working directory. Not used
    /// when `url` is set.
    pub path: PathBuf,
    /// PostgreSQL instead of SQLite: `postgres://user:password@host:port/dbname`. Several
    /// gateways may share one database. A multi-host URL
    /// (`postgres://h1:5432,h2:5432/minhu?target_session_attrs=read-write`) follows the primary
    /// across a failover.
    pub url: Option<String>,
    /// Most tickets committed in one transaction (one fsync).
    pub max_batch: usize,
    /// Most dispatches waiting in the outbox for the broker. Past it, non-emergency Submits are
    /// refused with RESOURCE_EXHAUSTED at once; emergency channels are never refused.
    pub outbox_budget: u64,
}

impl StoreConfig {
    /// Which database this is.
    pub fn location(&self) -> crate::store::Location {
        match &self.url {
            Some(url) => crate::store::Location::Postgres(url.clone()),
            None => crate::store::Location::Sqlite(self.path.clone()),
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from(DEFAULT_STORE_PATH),
            url: None,
            max_batch: 512,
            outbox_budget: 1_000_000,
        }
    }
}

/// Where to find the routing file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoutingFileConfig {
    /// Path of `routing.toml`; relative paths are relative to the service file's folder.
    pub path: PathBuf,
}

impl Default for RoutingFileConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("routing.toml"),
        }
    }
}

/// Input limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Longest description, in characters (not bytes: Chinese text is 3 bytes a character).
    pub max_description_chars: usize,
    /// Longest title, address or name, in characters.
    pub max_field_chars: usize,
    /// Most attachments on one request.
    pub max_attachments: usize,
    /// Most `extra` entries on one request.
    pub max_extra_entries: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_description_chars: 10_000,
            max_field_chars: 500,
            max_attachments: 20,
            max_extra_entries: 50,
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line, for log shippers.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `minhu=debug,lapin=warn`; `RUST_LOG` wins if set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}
