//! Loading: the service file plus `MINHU_<SECTION>__<KEY>` environment overrides, then the
//! routing file it points at, then validation of both. Every entry point (serve, check-config,
//! routes test) calls [`load`], so what `check-config` accepts is exactly what `serve` runs.
//! [`calendar_dir`] is the exception: the calendar tools read only the keys that lead to the
//! calendar folder, so they work while the rest of the config does not validate.
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};

use super::problem::{ConfigError, Problem, Problems};
use super::routing::RoutingConfig;
use super::service::ServiceConfig;
use crate::router::Router;

/// A validated configuration, ready to run.
#[derive(Debug)]
pub struct Loaded {
    pub service: ServiceConfig,
    /// The service file it came from.
    pub service_file: PathBuf,
    /// The routing file, resolved against the service file's folder.
    pub routing_file: PathBuf,
    /// The compiled routing rules.
    pub router: Router,
}

/// Reads, overrides and validates the service file at `path` and its routing file.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let service = read_service(path)?;
    let mut problems = Problems::new(path);
    validate_service(&service, &mut problems);

    let routing_file = beside(path, &service.routing.path);
    let mut all = problems.list;
    match read_routing(&routing_file) {
        Ok((routing, text)) => match Router::compile(&routing, &routing_file, &text) {
            Ok(router) if all.is_empty() => {
                return Ok(Loaded {
                    service,
                    service_file: path.to_path_buf(),
                    routing_file,
                    router,
                });
            }
            Ok(_) => {}
            Err(e) => all.extend(e.problems),
        },
        Err(e) => all.extend(e.problems),
    }
    super::lines::annotate(&mut all);
    Err(ConfigError { problems: all })
}

/// Reads and compiles the routing file alone (for reload: the service file is not re-read).
pub fn load_routing(routing_file: &Path) -> Result<Router, ConfigError> {
    let result = read_routing(routing_file)
        .and_then(|(routing, text)| Router::compile(&routing, routing_file, &text));
    result.map_err(|mut e| {
        super::lines::annotate(&mut e.problems);
        e
    })
}

/// The official calendar folder, found from the service file at `path` (and its
/// `MINHU_ROUTING__PATH` override) through the routing file's `calendar_dir`, reading no other
/// key of either: operators use the calendar tools to repair a config that does not load.
pub fn calendar_dir(path: &Path) -> Result<CalendarDir, ConfigError> {
    let default = super::service::RoutingFileConfig::default().path;
    let routing_path = match layered(path)?.get::<PathBuf>("routing.path") {
        Ok(p) => p,
        Err(config::ConfigError::NotFound(_)) => default,
        Err(e) => return Err(one(path, "routing.path", e.to_string())),
    };
    let routing_file = beside(path, &routing_path);
    let text = std::fs::read_to_string(&routing_file)
        .map_err(|e| one(&routing_file, "-", format!("cannot read: {e}")))?;
    /// Only the key wanted; serde skips the rest unchecked.
    #[derive(serde::Deserialize)]
    struct Only {
        calendar_dir: Option<PathBuf>,
    }
    let only = toml::from_str::<Only>(&text).map_err(|e| one(&routing_file, "-", e.to_string()))?;
    let dir = super::routing::official_calendar_dir(&routing_file, only.calendar_dir.as_deref());
    Ok(CalendarDir { routing_file, dir })
}

/// Where the official calendar folder is, and which routing file said so.
#[derive(Debug, Clone)]
pub struct CalendarDir {
    /// The routing file, resolved against the service file's folder.
    pub routing_file: PathBuf,
    /// Its `calendar_dir`, resolved against the routing file's folder.
    pub dir: PathBuf,
}

/// `target` as written in `file`: relative paths are relative to the file's folder.
fn beside(file: &Path, target: &Path) -> PathBuf {
    file.parent().unwrap_or_else(|| Path::new(".")).join(target)
}

fn one(file: &Path, key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        problems: vec![Problem {
            file: file.to_path_buf(),
            key: key.into(),
            line: None,
            message: message.into(),
        }],
    }
}

fn read_service(path: &Path) -> Result<ServiceConfig, ConfigError> {
    layered(path)?
        .try_deserialize::<ServiceConfig>()
        .map_err(|e| {
            one(
                path,
                "-",
                format!("{e} (environment overrides MINHU_<SECTION>__<KEY> count too)"),
            )
        })
}

/// The service file at `path` with the environment's `MINHU_<SECTION>__<KEY>` overrides on top.
fn layered(path: &Path) -> Result<Config, ConfigError> {
    if !path.is_file() {
        return Err(one(path, "-", "file not found"));
    }
    Config::builder()
        .add_source(File::from(path).format(FileFormat::Toml))
        .add_source(
            Environment::with_prefix("MINHU")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true),
        )
        .build()
        .map_err(|e| {
            one(
                path,
                "-",
                format!("{e} (environment overrides MINHU_<SECTION>__<KEY> count too)"),
            )
        })
}

fn read_routing(path: &Path) -> Result<(RoutingConfig, String), ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| one(path, "-", format!("cannot read: {e}")))?;
    // Parsed with `toml` itself (not the layered `config` crate: the routing file has no
    // environment overrides) so syntax and type errors carry their line and column.
    let routing =
        toml::from_str::<RoutingConfig>(&text).map_err(|e| one(path, "-", e.to_string()))?;
    Ok((routing, text))
}

fn validate_service(s: &ServiceConfig, p: &mut Problems) {
    s.adapters.wechat.check(p);
    s.adapters.citymgmt.check(p);
    s.adapters.hotline12345.check(p);
    s.adapters.emergency.check(p);
    s.adapters.sms_replies.check(p);
    s.merge.check(p);
    s.rate_limits.check(p);
    s.auth.check(p);
    s.notify.check(p);
    s.feedback.check(p);
    s.privacy.check(p);
    for problem in s.scores.problems() {
        p.add(problem.key, problem.message);
    }
    crate::protect::amqps::check(&s.amqp, p);
    if s.amqp.confirm_window == 0 {
        p.add("amqp.confirm_window", "must be at least 1");
    }
    if s.amqp.confirm_timeout.is_zero() {
        p.add("amqp.confirm_timeout", "must be longer than 0s");
    }
    if s.amqp.confirm_stall_after.is_zero() {
        p.add("amqp.confirm_stall_after", "must be longer than 0s");
    }
    if s.amqp.retry_backoff_min > s.amqp.retry_backoff_max {
        p.add(
            "amqp.retry_backoff_min",
            "must not exceed amqp.retry_backoff_max",
        );
    }
    if s.store.max_batch == 0 {
        p.add("store.max_batch", "must be at least 1");
    }
    if s.store.outbox_budget == 0 {
        p.add("store.outbox_budget", "must be at least 1");
    }
    if s.store.path.as_os_str().is_empty() {
        p.add("store.path", "must not be empty");
    }
    if let Some(url) = &s.store.url {
        if s.store.path != std::path::Path::new(super::service::DEFAULT_STORE_PATH) {
            p.add(
                "store.url",
                "set either store.url (PostgreSQL) or store.path (SQLite), not both",
            );
        }
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            p.add("store.url", "must be a postgres:// URL");
        } else if let Err(e) = url.parse::<tokio_postgres::Config>() {
            p.add("store.url", format!("not a PostgreSQL URL: {e}"));
        }
    }
    for (key, v) in [
        (
            "limits.max_description_chars",
            s.limits.max_description_chars,
        ),
        ("limits.max_field_chars", s.limits.max_field_chars),
    ] {
        if v == 0 {
            p.add(key, "must be at least 1");
        }
    }
    for (key, d) in [
        ("http.header_read_timeout", s.http.header_read_timeout),
        ("http.request_timeout", s.http.request_timeout),
        ("grpc.handshake_timeout", s.grpc.handshake_timeout),
        ("grpc.keepalive_interval", s.grpc.keepalive_interval),
        ("grpc.keepalive_timeout", s.grpc.keepalive_timeout),
    ] {
        if d.is_zero() {
            p.add(key, "must be longer than 0s");
        }
    }
    if s.grpc.max_stream_requests == 0 {
        p.add("grpc.max_stream_requests", "must be at least 1");
    }
    if s.grpc.max_message_bytes < 1024 {
        p.add("grpc.max_message_bytes", "must be at least 1024");
    }
    if s.grpc.listen == s.http.listen {
        p.add(
            "http.listen",
            format!("same address as grpc.listen ({})", s.grpc.listen),
        );
    }
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&s.log.level) {
        p.add("log.level", format!("not a valid filter: {e}"));
    }
}
