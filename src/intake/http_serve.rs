//! The HTTP listener's accept loop (in place of `axum::serve`, which cannot do either): TLS
//! with optional client certificates, and cuts for slow clients —
//!
//! - the TLS handshake and each request's head (request line and headers) must arrive within
//!   `[http] header_read_timeout`, the same limit that closes a keep-alive connection idling
//!   between requests (hyper counts it from the first byte it waits for): a slowloris client
//!   that trickles its headers, or opens connections and sends nothing, is disconnected;
//! - the whole request, body included, must be done within `request_timeout`, else 408.
//!
//! Graceful shutdown: on `stop` the listener closes and every connection finishes the request
//! it is on (bounded by the server's drain timeout).
//!
//! Every request carries its client address (`ConnectInfo<SocketAddr>`), for the console's
//! login throttle.
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::Layer;

use crate::config::service::HttpConfig;
use crate::protect::auth::PeerCerts;

/// Serves `app` on `listener` until `stop`, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    cfg: &HttpConfig,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let request_timeout = cfg.request_timeout;
    let app = app.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| within(request_timeout, req, next),
    ));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(cfg.header_read_timeout)
        .keep_alive(true);
    let builder = builder.http1_only();
    let acceptor = tls.map(TlsAcceptor::from);
    let handshake_timeout = cfg.header_read_timeout;
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stop.cancelled() => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let builder = builder.clone();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            match acceptor {
                None => {
                    let svc = TowerToHyperService::new(Extension(ConnectInfo(peer)).layer(app));
                    let conn = builder.serve_connection(TokioIo::new(tcp), svc);
                    let _ = watcher.watch(conn.into_owned()).await;
                }
                Some(acceptor) => {
                    let tls = match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp))
                        .await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!("TLS handshake not done in time; connection closed");
                            return;
                        }
                    };
                    let certs = tls.get_ref().1.peer_certificates().map(|c| {
                        PeerCerts(Arc::new(c.iter().map(|c| c.clone().into_owned()).collect()))
                    });
                    let app = match certs {
                        Some(certs) => app.layer(axum::Extension(certs)),
                        None => app,
                    };
                    let svc = TowerToHyperService::new(Extension(ConnectInfo(peer)).layer(app));
                    let conn = builder.serve_connection(TokioIo::new(tls), svc);
                    let _ = watcher.watch(conn.into_owned()).await;
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

async fn within(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            let body = serde_json::json!({
                "error": format!("request not complete within {limit:?} (request_timeout)"),
                "field": "",
            });
            (StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
        }
    }
}
