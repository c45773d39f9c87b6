//! `minhu serve`: opens the store, starts the relay, the background workers and both
//! listeners, and on SIGINT/SIGTERM hands all of them to `shutdown`, which stops them in the
//! order that loses nothing.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use thiserror::Error;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Loaded;
use crate::dispatch::topology::{DepartmentQueue, KnownQueues};
use crate::intake::Intake;
use crate::store::{Store, StoreError};
use crate::telemetry::Metrics;

mod grpc;
mod http;
mod shutdown;
mod task;
mod workers;

use shutdown::Running;
pub use shutdown::signal;
use task::Task;
use workers::Workers;

/// Why `serve` could not start or stopped abnormally.
#[derive(Debug, Error)]
pub enum ServeError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("gRPC reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("gRPC server: {0}")]
    Grpc(#[from] tonic::transport::Error),
    #[error("TLS: {0}")]
    Tls(#[from] crate::protect::tls::TlsError),
    #[error("HTTP server: {0}")]
    Http(std::io::Error),
    #[error("notifier: {0}")]
    Notify(#[from] crate::notify::NotifyError),
    #[error("[privacy]: {0}")]
    Privacy(String),
}

/// Runs the gateway until `shutdown` resolves, then shuts down gracefully.
pub async fn serve(
    loaded: Loaded,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let cfg = loaded.service;
    let metrics = Arc::new(Metrics::default());
    // Built before anything starts: a sender whose secret cannot be read stops the start.
    let senders = crate::notify::senders(&cfg.notify)?;
    // A key that cannot be read stops the start: contacts would be written in clear, or
    // sealed ones could not be opened.
    let keys = cfg.privacy.keyring().map_err(|p| {
        let list: Vec<String> = p.into_iter().map(|(k, m)| format!("{k}: {m}")).collect();
        ServeError::Privacy(list.join("; "))
    })?;
    for w in cfg.privacy.warnings() {
        tracing::warn!("{w}");
    }
    let (store, feed, writer) = Store::open_scored(
        &cfg.store,
        &cfg.merge,
        keys,
        cfg.scores.clone(),
        metrics.clone(),
    )?;
    let systems = crate::notify::systems::Systems::from_config(&cfg);
    let mut queues = DepartmentQueue::all_for(loaded.router.departments());
    queues.extend(
        systems
            .routing_keys()
            .iter()
            .map(|k| DepartmentQueue::for_return(k)),
    );
    store.answer_through(systems);
    let departments = KnownQueues::new(queues);
    let routing_version = loaded.router.version().to_owned();
    let live = crate::router::live::LiveRouter::new(loaded.router);
    let rate_limits = crate::protect::RateLimits::new(&cfg.rate_limits);
    let intake = Intake::new(
        store.clone(),
        live.clone(),
        cfg.limits.clone(),
        metrics.clone(),
    )
    .with_merge(&cfg.merge)
    .with_rate_limits(rate_limits.clone());
    let reloader = crate::router::reload::Reloader {
        routing_file: loaded.routing_file.clone(),
        live: live.clone(),
        metrics: metrics.clone(),
        amqp: cfg.amqp.clone(),
        declared: departments.clone(),
        store: Some(store.clone()),
        history: crate::router::history::ReloadHistory::starting(
            &routing_version,
            crate::time::now_ms(),
        ),
    };
    let reload_history = reloader.history.clone();
    reloader.init_metrics();
    // Official calendars added while the gateway was stopped count from the start.
    crate::router::recount::recount_logged(&store, &reloader.live.current(), &metrics).await;
    for p in reloader
        .live
        .current()
        .provisional_years(crate::time::now_ms())
    {
        tracing::warn!("{p}");
    }
    let reload = Task::spawn(|stop| reloader.run(stop));
    let sweeper = rate_limits.map(|l| Task::spawn(|stop| l.run_sweeper(stop)));

    let grpc_listener = bind(cfg.grpc.listen).await?;
    let http_listener = bind(cfg.http.listen).await?;

    // The bounce rate is the store's, not this process's: counted from it at start, in the
    // background (a scrape in the meantime waits for the count).
    let returns = Arc::new(crate::handling::metrics::ReturnMetrics::new(
        cfg.store.location(),
    ));
    tokio::spawn(returns.clone().refresh());
    let ratings = crate::handling::rating::Ratings::new(store.clone(), live.clone());
    let follow_up = crate::notify::worker::FollowUpLinks::from_config(&cfg.feedback);
    let updates = crate::handling::Updates::new(
        store.clone(),
        live.clone(),
        cfg.limits.clone(),
        returns.clone(),
    );
    let auth = crate::protect::auth::Authenticator::new(&cfg.auth);
    let workers = Workers::start(workers::Inputs {
        cfg: &cfg,
        store: &store,
        feed,
        departments,
        live: &live,
        metrics: &metrics,
        senders,
        follow_up: follow_up.clone(),
        updates: &updates,
        auth: &auth,
    });

    let tls = crate::protect::tls::TlsFiles::read(&cfg.auth)?;
    let http_tls = tls.as_ref().map(|t| t.http_config()).transpose()?;
    let stop = CancellationToken::new();
    let services = grpc::Services {
        intake: intake.clone(),
        updates: updates.clone(),
        ratings: ratings.clone(),
        auth: auth.clone(),
    };
    let grpc = grpc::start(
        &cfg.grpc,
        tls.as_ref(),
        services,
        grpc_listener,
        stop.clone(),
    )
    .await?;
    let closing = Arc::new(AtomicBool::new(false));
    let routes = http::Parts {
        store,
        intake: intake.clone(),
        updates,
        ratings,
        live,
        reloads: reload_history,
        routing_file: loaded.routing_file.clone(),
        auth,
        follow_up,
        returns,
        metrics: metrics.clone(),
        closing: closing.clone(),
    };
    let http_task = http::start(&cfg, http_tls, routes, http_listener, stop.clone());
    tracing::info!(grpc = %cfg.grpc.listen, http = %cfg.http.listen, routing_version, store = %cfg.store.location(), "minhu serving");

    shutdown.await;
    Running {
        reload,
        closing,
        intake,
        health: grpc.health,
        stop,
        grpc_task: grpc.task,
        http_task,
        sweeper,
        workers,
        writer,
        metrics,
    }
    .shut_down(&cfg.shutdown)
    .await
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}
