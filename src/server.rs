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
use crate::dispatch::relay;
use crate::dispatch::topology::{DepartmentQueue, KnownQueues};
use crate::intake::Intake;
use crate::intake::grpc::GatewayService;
use crate::intake::http::{self, HttpState};
use crate::pb::feedback_server::FeedbackServer;
use crate::pb::gateway_server::GatewayServer;
use crate::pb::handling_server::HandlingServer;
use crate::store::{Store, StoreError};
use crate::telemetry::Metrics;

mod shutdown;

use shutdown::Running;
pub use shutdown::signal;

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
    let reload_stop = CancellationToken::new();
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
    let reload_task = tokio::spawn(reloader.run(reload_stop.clone()));
    let sweeper_stop = CancellationToken::new();
    let sweeper = rate_limits.map(|l| l.spawn_sweeper(sweeper_stop.clone()));

    let grpc_listener = bind(cfg.grpc.listen).await?;
    let http_listener = bind(cfg.http.listen).await?;

    // The bounce rate is the store's, not this process's: counted from it at start, in the
    // background (a scrape in the meantime waits for the count).
    let returns = Arc::new(crate::handling::metrics::ReturnMetrics::new(
        cfg.store.location(),
    ));
    tokio::spawn(returns.clone().refresh());
    let ratings = crate::handling::rating::Ratings::new(store.clone(), live.clone());
    let replies =
        crate::intake::channels::rating_replies::ReplyRatings::new(ratings.clone(), store.clone());
    let verifications =
        crate::handling::verification::Verifications::new(store.clone(), live.clone());
    let follow_up = crate::notify::worker::FollowUpLinks::from_config(&cfg.feedback);
    let feedback_form = crate::handling::feedback_http::routes(
        follow_up.as_ref().map(|f| f.links.clone()),
        ratings.clone(),
        store.clone(),
    );
    let updates = crate::handling::Updates::new(
        store.clone(),
        live.clone(),
        cfg.limits.clone(),
        returns.clone(),
    );
    // Gateways sharing a PostgreSQL store: heartbeats, the timers lease, and the rows of stopped
    // gateways adopted (the store's opening took the first beat).
    let heartbeat_stop = CancellationToken::new();
    let heartbeat_task = tokio::spawn(store.clone().run_heartbeat(heartbeat_stop.clone()));
    let relay_stop = CancellationToken::new();
    let relay_task = tokio::spawn(relay::run(
        store.clone(),
        feed,
        cfg.amqp.clone(),
        departments,
        metrics.clone(),
        relay_stop.clone(),
    ));
    // Department queues' depths for the console and /metrics, on a connection of their own.
    let depth_stop = CancellationToken::new();
    let wanted_live = live.clone();
    let depth_task = tokio::spawn(crate::dispatch::depth::run(
        cfg.amqp.clone(),
        Arc::new(move || DepartmentQueue::all_for(wanted_live.current().departments())),
        metrics.clone(),
        depth_stop.clone(),
    ));
    // Lights and escalations: the first look is at once, so a restart catches up.
    let scheduler_stop = CancellationToken::new();
    let scheduler_task = tokio::spawn(
        crate::scheduler::Scheduler {
            store: store.clone(),
            router: live.clone(),
            clock: Arc::new(crate::clocks::SystemClock),
            tick: crate::scheduler::TICK,
            metrics: metrics.clone(),
        }
        .run(scheduler_stop.clone()),
    );
    // Answers to citizens: the first look is at once, so a restart sends what was pending.
    let notifier_stop = CancellationToken::new();
    let notifier_task = tokio::spawn(
        crate::notify::worker::Notifier {
            store: store.clone(),
            senders,
            router: live.clone(),
            clock: Arc::new(crate::clocks::SystemClock),
            policy: (&cfg.notify).into(),
            tick: crate::notify::worker::TICK,
            metrics: metrics.clone(),
            follow_up: follow_up.clone(),
        }
        .run(notifier_stop.clone()),
    );
    // Contacts of long-closed cases erased, old rows re-sealed after a key rotation.
    let eraser_stop = CancellationToken::new();
    let eraser_task = tokio::spawn(
        crate::store::Eraser {
            store: store.clone(),
            clock: Arc::new(crate::clocks::SystemClock),
            erase_after: cfg.privacy.erase_after,
            tick: crate::store::ERASE_TICK,
        }
        .run(eraser_stop.clone()),
    );
    // The console reads through the store's read connections; its handle is the last kept.
    let console_store = store.clone();
    drop(store);

    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<GatewayServer<GatewayService>>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(minhu_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let auth = crate::protect::auth::Authenticator::new(&cfg.auth);
    // Departments' updates over AMQP; stopped before the relay's last flush so their outcomes
    // go out with it.
    let consumer_stop = CancellationToken::new();
    let consumer_task = tokio::spawn(crate::handling::amqp::run(
        updates.clone(),
        auth.clone(),
        cfg.amqp.clone(),
        consumer_stop.clone(),
    ));
    let handling = tonic::service::interceptor::InterceptedService::new(
        HandlingServer::new(crate::handling::grpc::HandlingService::new(updates.clone()))
            .max_decoding_message_size(cfg.grpc.max_message_bytes),
        crate::protect::auth::grpc_interceptor(auth.clone()),
    );
    health
        .set_serving::<HandlingServer<crate::handling::grpc::HandlingService>>()
        .await;
    let feedback = tonic::service::interceptor::InterceptedService::new(
        FeedbackServer::new(crate::handling::feedback_grpc::FeedbackService::new(
            ratings,
        ))
        .max_decoding_message_size(cfg.grpc.max_message_bytes),
        crate::protect::auth::grpc_interceptor(auth.clone()),
    );
    health
        .set_serving::<FeedbackServer<crate::handling::feedback_grpc::FeedbackService>>()
        .await;
    let gateway = tonic::service::interceptor::InterceptedService::new(
        GatewayServer::new(
            GatewayService::new(intake.clone())
                .with_max_stream_requests(cfg.grpc.max_stream_requests),
        )
        .max_decoding_message_size(cfg.grpc.max_message_bytes),
        crate::protect::auth::grpc_interceptor(auth.clone()),
    );

    let tls = crate::protect::tls::TlsFiles::read(&cfg.auth)?;
    let mut grpc_server = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(cfg.grpc.keepalive_interval))
        .http2_keepalive_timeout(Some(cfg.grpc.keepalive_timeout));
    if let Some(t) = &tls {
        grpc_server =
            grpc_server.tls_config(t.grpc_config().timeout(cfg.grpc.handshake_timeout))?;
    }
    let http_tls = tls.as_ref().map(|t| t.http_config()).transpose()?;

    let stop = CancellationToken::new();
    let grpc_stop = stop.clone();
    let grpc_task = tokio::spawn(
        grpc_server
            .add_service(health_service)
            .add_service(reflection)
            .add_service(gateway)
            .add_service(handling)
            .add_service(feedback)
            .serve_with_incoming_shutdown(
                crate::intake::grpc_incoming::guarded(grpc_listener, cfg.grpc.handshake_timeout),
                async move { grpc_stop.cancelled().await },
            ),
    );
    let closing = Arc::new(AtomicBool::new(false));
    let console = crate::console::routes(crate::console::Parts {
        store: console_store,
        metrics: metrics.clone(),
        router: live.clone(),
        reloads: reload_history,
        auth: auth.clone(),
        tls: http_tls.is_some(),
        updates,
        intake: intake.clone(),
        routing_file: loaded.routing_file.clone(),
    });
    let channels = crate::intake::channels::routes(crate::intake::channels::ChannelContext {
        intake: intake.clone(),
        config: Arc::new(cfg.adapters.clone()),
        metrics: metrics.clone(),
        auth,
        replies,
        verifications,
    })
    .merge(feedback_form)
    .merge(console);
    let http_state = HttpState {
        router: live,
        metrics: metrics.clone(),
        returns,
        closing: closing.clone(),
    };
    let http_stop = stop.clone();
    let http_cfg = cfg.http.clone();
    let http_task = tokio::spawn(async move {
        let app = http::router(http_state, channels);
        crate::intake::http_serve::serve(http_listener, app, http_tls, &http_cfg, http_stop).await
    });
    tracing::info!(grpc = %cfg.grpc.listen, http = %cfg.http.listen, routing_version, store = %cfg.store.location(), "minhu serving");

    shutdown.await;
    Running {
        reload_stop,
        reload_task,
        closing,
        intake,
        health,
        stop,
        grpc_task,
        http_task,
        sweeper_stop,
        sweeper,
        consumer_stop,
        consumer_task,
        scheduler_stop,
        scheduler_task,
        depth_stop,
        depth_task,
        eraser_stop,
        eraser_task,
        notifier_stop,
        notifier_task,
        relay_stop,
        relay_task,
        heartbeat_stop,
        heartbeat_task,
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
