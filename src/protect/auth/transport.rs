//! The transport side of authentication: the caller carried from a listener to the pipeline
//! as a task-local, the axum middleware and gRPC interceptor that authenticate each request,
//! and the bearer token the local tools send. Apart from [`super::Authenticator`] because
//! these are the only parts that know axum and tonic.
use std::future::Future;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rustls::pki_types::CertificateDer;

use super::{Authenticator, Caller};

tokio::task_local! {
    static CALLER: Arc<Caller>;
}

/// Runs `f` with `caller` as the current caller (nothing when None).
pub async fn scope<F: Future>(caller: Option<Arc<Caller>>, f: F) -> F::Output {
    match caller {
        Some(c) => CALLER.scope(c, f).await,
        None => f.await,
    }
}

/// The caller the current request was authenticated as, if any.
pub fn current() -> Option<Arc<Caller>> {
    CALLER.try_with(|c| c.clone()).ok()
}

/// The TLS peer's certificate chain, put in each HTTP request's extensions by the listener.
#[derive(Clone, Debug)]
pub struct PeerCerts(pub Arc<Vec<CertificateDer<'static>>>);

/// axum middleware for the adapter endpoints that need a known caller.
pub async fn require_caller(
    State(auth): State<Arc<Authenticator>>,
    req: Request,
    next: Next,
) -> Response {
    if !auth.enabled() {
        return next.run(req).await;
    }
    let header = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    let certs = req.extensions().get::<PeerCerts>().map(|c| c.0.clone());
    match auth.authenticate(header, certs.as_deref().map(Vec::as_slice)) {
        Ok(caller) => scope(caller, next.run(req)).await,
        Err(e) => {
            tracing::info!(path = %req.uri().path(), error = %e, "HTTP request refused");
            let mut r = e.into_response();
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
            r
        }
    }
}

/// The gRPC side: authenticates each call and leaves the caller in the request's extensions.
pub fn grpc_interceptor(
    auth: Arc<Authenticator>,
) -> impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Clone {
    move |mut req: tonic::Request<()>| {
        let certs = req.peer_certs();
        let header = req.metadata().get("authorization").map(|v| v.as_bytes());
        match auth.authenticate(header, certs.as_deref().map(Vec::as_slice)) {
            Ok(Some(c)) => {
                req.extensions_mut().insert(c);
                Ok(req)
            }
            Ok(None) => Ok(req),
            Err(e) => {
                tracing::info!(error = %e, "gRPC call refused");
                Err(e.into())
            }
        }
    }
}

/// The caller the gRPC interceptor found, for [`scope`].
pub fn grpc_caller<T>(req: &tonic::Request<T>) -> Option<Arc<Caller>> {
    req.extensions().get::<Arc<Caller>>().cloned()
}

/// The local tools' side (`minhu ingest mail`, `minhu import hotline`): adds
/// `authorization: Bearer <token>` to every call when a token file was given.
#[derive(Clone, Default)]
pub struct Bearer(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl Bearer {
    /// The token on the first line of `path`, or no token when `path` is None.
    pub fn from_file(path: Option<&std::path::Path>) -> Result<Self, String> {
        let Some(path) = path else {
            return Ok(Self(None));
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
        let token = text.lines().next().unwrap_or("").trim();
        if token.is_empty() {
            return Err(format!("the token file {} is empty", path.display()));
        }
        format!("Bearer {token}")
            .parse()
            .map(|v| Self(Some(v)))
            .map_err(|_| format!("the token in {} is not printable ASCII", path.display()))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}
