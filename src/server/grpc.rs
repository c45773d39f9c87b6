//! The gRPC listener: the Gateway, Handling and Feedback services behind the caller check,
//! with health and reflection, over TLS when `[auth]` names certificates. Health says SERVING
//! for each service from the start and NOT_SERVING from the first step of a shutdown.
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic::service::interceptor::InterceptedService;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use super::ServeError;
use crate::config::service::GrpcConfig;
use crate::handling::Updates;
use crate::handling::feedback_grpc::FeedbackService;
use crate::handling::grpc::HandlingService;
use crate::handling::rating::Ratings;
use crate::intake::Intake;
use crate::intake::grpc::GatewayService;
use crate::pb::feedback_server::FeedbackServer;
use crate::pb::gateway_server::GatewayServer;
use crate::pb::handling_server::HandlingServer;
use crate::protect::auth::{Authenticator, grpc_interceptor};
use crate::protect::tls::TlsFiles;

/// What the services answer from.
pub(super) struct Services {
    pub(super) intake: Intake,
    pub(super) updates: Updates,
    pub(super) ratings: Ratings,
    pub(super) auth: Arc<Authenticator>,
}

/// The serving gRPC listener.
pub(super) struct Grpc {
    pub(super) health: HealthReporter,
    pub(super) task: JoinHandle<Result<(), tonic::transport::Error>>,
}

/// Starts serving on `listener` until `stop`, finishing the calls under way.
pub(super) async fn start(
    cfg: &GrpcConfig,
    tls: Option<&TlsFiles>,
    s: Services,
    listener: TcpListener,
    stop: CancellationToken,
) -> Result<Grpc, ServeError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    set_serving(&health, true).await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(minhu_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let checked = || grpc_interceptor(s.auth.clone());
    let gateway = InterceptedService::new(
        GatewayServer::new(
            GatewayService::new(s.intake).with_max_stream_requests(cfg.max_stream_requests),
        )
        .max_decoding_message_size(cfg.max_message_bytes),
        checked(),
    );
    let handling = InterceptedService::new(
        HandlingServer::new(HandlingService::new(s.updates))
            .max_decoding_message_size(cfg.max_message_bytes),
        checked(),
    );
    let feedback = InterceptedService::new(
        FeedbackServer::new(FeedbackService::new(s.ratings))
            .max_decoding_message_size(cfg.max_message_bytes),
        checked(),
    );

    let mut server = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(cfg.keepalive_interval))
        .http2_keepalive_timeout(Some(cfg.keepalive_timeout));
    if let Some(t) = tls {
        server = server.tls_config(t.grpc_config().timeout(cfg.handshake_timeout))?;
    }
    let task = tokio::spawn(
        server
            .add_service(health_service)
            .add_service(reflection)
            .add_service(gateway)
            .add_service(handling)
            .add_service(feedback)
            .serve_with_incoming_shutdown(
                crate::intake::grpc_incoming::guarded(listener, cfg.handshake_timeout),
                async move { stop.cancelled().await },
            ),
    );
    Ok(Grpc { health, task })
}

/// Marks every service SERVING or NOT_SERVING for gRPC health checks.
pub(super) async fn set_serving(health: &HealthReporter, serving: bool) {
    let status = if serving {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    };
    for service in [
        GatewayServer::<GatewayService>::NAME,
        HandlingServer::<HandlingService>::NAME,
        FeedbackServer::<FeedbackService>::NAME,
    ] {
        health.set_service_status(service, status).await;
    }
}
