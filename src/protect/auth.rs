//! Caller authentication and authorization (`[auth]`). A caller proves who it is with a bearer
//! token (compared as SHA-256 digests, in constant time) or a TLS client certificate (already
//! verified against `client_ca_file` by the handshake; its DNS subjectAltNames name the
//! caller). The listeners authenticate ([`Authenticator::authenticate`]); the pipeline
//! authorizes each request against the caller's channels and source systems
//! ([`Caller::authorize`]), so a system cannot submit as an emergency line it is not.
//!
//! The caller travels from the listener to the pipeline as a task-local ([`scope`],
//! [`current`]): every door calls the same `Intake::submit` without a new parameter.
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use minhu_adapter_emergency::auth::{parse_digest, token_matches};
use rustls::pki_types::{CertificateDer, ServerName};

use super::metrics as m;
use crate::config::auth::AuthConfig;
use crate::intake::IntakeError;
use crate::pb;

/// An authenticated calling system and what it may do.
#[derive(Debug)]
pub struct Caller {
    pub id: String,
    channels: Vec<i32>,
    source_systems: Vec<String>,
    /// Departments it acts for in `minhu.v1.Handling`.
    departments: Vec<String>,
    /// The coordination centre's role.
    coordination: bool,
    /// What it may do in the supervision console.
    console: Console,
}

/// A caller's access to the supervision console, from its `[auth]` scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Console {
    /// No console login.
    None,
    /// Pages only.
    Read,
    /// Pages and actions.
    Act,
}

fn channel_name(c: i32) -> String {
    pb::Channel::try_from(c).map_or_else(
        |_| c.to_string(),
        |c| c.as_str_name().trim_start_matches("CHANNEL_").to_owned(),
    )
}

impl Caller {
    /// Whether this caller may submit `req`: its channel and source system must be allowed.
    pub fn authorize(&self, req: &pb::Request) -> Result<(), IntakeError> {
        match self.denial(req) {
            None => Ok(()),
            Some(why) => {
                m::AUTH_DENIED.fetch_add(1, Relaxed);
                Err(IntakeError::PermissionDenied(why))
            }
        }
    }

    /// Whether this caller may act for (update, list the cases of) `department_id`.
    pub fn acts_for(&self, department_id: &str) -> bool {
        self.departments.iter().any(|d| d == department_id)
    }

    /// Whether this caller acts for at least one department (a department's system).
    pub fn acts_for_any(&self) -> bool {
        !self.departments.is_empty()
    }

    /// Whether this caller has the coordination centre's role (decide extensions, reassign,
    /// list any department).
    pub fn coordinates(&self) -> bool {
        self.coordination
    }

    /// The departments it acts for; the console shows their cases (all, with [`Self::coordinates`]).
    pub fn departments(&self) -> &[String] {
        &self.departments
    }

    /// What it may do in the supervision console.
    pub fn console(&self) -> Console {
        self.console
    }

    /// Whether this caller may read or act on a stored ticket: only one it could have
    /// submitted. Tickets carry citizens' personal data, and ticket numbers are sequential.
    pub fn may_see(&self, req: &pb::Request) -> bool {
        self.denial(req).is_none()
    }

    fn denial(&self, req: &pb::Request) -> Option<String> {
        if !self.channels.contains(&req.channel) {
            return Some(format!(
                "caller {} may not submit on channel {}",
                self.id,
                channel_name(req.channel)
            ));
        }
        let allowed = self
            .source_systems
            .iter()
            .any(|p| match p.strip_suffix('*') {
                Some(prefix) => req.source_system.starts_with(prefix),
                None => *p == req.source_system,
            });
        (!allowed).then(|| {
            format!(
                "caller {} may not submit as source_system {:?}",
                self.id, req.source_system
            )
        })
    }
}

struct Entry {
    caller: Arc<Caller>,
    digest: Option<[u8; 32]>,
    cert_names: Vec<ServerName<'static>>,
    amqp_user: Option<String>,
}

/// The configured callers. Share as `Arc<Authenticator>`.
pub struct Authenticator {
    enabled: bool,
    entries: Vec<Entry>,
}

impl Authenticator {
    pub fn new(cfg: &AuthConfig) -> Arc<Self> {
        let entries = cfg
            .callers
            .iter()
            .map(|c| Entry {
                caller: Arc::new(Caller {
                    id: c.id.clone(),
                    channels: c.channel_values(),
                    source_systems: c.source_systems.clone(),
                    departments: c.departments.clone(),
                    coordination: c.coordination,
                    console: console_access(&c.scopes),
                }),
                amqp_user: c.amqp_user.clone(),
                digest: c.token_sha256.as_deref().and_then(parse_digest),
                cert_names: c
                    .cert_names
                    .iter()
                    .filter_map(|n| ServerName::try_from(n.clone()).ok())
                    .collect(),
            })
            .collect();
        Arc::new(Self {
            enabled: cfg.enabled,
            entries,
        })
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Who is calling, from the `Authorization` header and the TLS peer's certificate chain.
    /// `Ok(None)` when authentication is off; UNAUTHENTICATED when on and neither names a
    /// caller. Never echoes the presented token.
    pub fn authenticate(
        &self,
        authorization: Option<&[u8]>,
        certs: Option<&[CertificateDer<'_>]>,
    ) -> Result<Option<Arc<Caller>>, IntakeError> {
        if !self.enabled {
            return Ok(None);
        }
        let refuse = |why: &str| {
            m::AUTH_UNAUTHENTICATED.fetch_add(1, Relaxed);
            Err(IntakeError::Unauthenticated(why.to_owned()))
        };
        if let Some(leaf) = certs.and_then(|c| c.first()) {
            if let Some(c) = self.by_certificate(leaf) {
                return Ok(Some(c));
            }
            if authorization.is_none() {
                return refuse("the client certificate names no configured caller");
            }
        }
        let Some(header) = authorization else {
            return refuse("credentials required: a bearer token or a client certificate");
        };
        let Some(token) = std::str::from_utf8(header)
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
        else {
            return refuse("the Authorization header must be \"Bearer <token>\"");
        };
        // Every digest is compared (no early exit), each in constant time.
        let mut found = None;
        for e in &self.entries {
            if let Some(d) = &e.digest
                && token_matches(token, d)
            {
                found = Some(e.caller.clone());
            }
        }
        match found {
            Some(c) => Ok(Some(c)),
            None => refuse("bearer token not recognised"),
        }
    }

    /// Who published an update to `minhu.updates`, from its `user_id` property (RabbitMQ
    /// refuses a publish whose `user_id` is not the connection's user, so it cannot be forged).
    /// `Ok(None)` when authentication is off; UNAUTHENTICATED when on and no caller has that
    /// `amqp_user`.
    pub fn authenticate_amqp(
        &self,
        user_id: Option<&str>,
    ) -> Result<Option<Arc<Caller>>, IntakeError> {
        if !self.enabled {
            return Ok(None);
        }
        let Some(user) = user_id else {
            m::AUTH_UNAUTHENTICATED.fetch_add(1, Relaxed);
            return Err(IntakeError::Unauthenticated(
                "an update on minhu.updates needs the user_id property (the RabbitMQ user)".into(),
            ));
        };
        match self
            .entries
            .iter()
            .find(|e| e.amqp_user.as_deref() == Some(user))
        {
            Some(e) => Ok(Some(e.caller.clone())),
            None => {
                m::AUTH_UNAUTHENTICATED.fetch_add(1, Relaxed);
                Err(IntakeError::Unauthenticated(format!(
                    "no caller has amqp_user {user:?}"
                )))
            }
        }
    }

    fn by_certificate(&self, leaf: &CertificateDer<'_>) -> Option<Arc<Caller>> {
        let cert = webpki::EndEntityCert::try_from(leaf).ok()?;
        self.entries
            .iter()
            .find(|e| {
                e.cert_names
                    .iter()
                    .any(|n| cert.verify_is_valid_for_subject_name(n).is_ok())
            })
            .map(|e| e.caller.clone())
    }
}

fn console_access(scopes: &[crate::config::auth::Scope]) -> Console {
    use crate::config::auth::Scope;
    if scopes.contains(&Scope::ConsoleAct) {
        Console::Act
    } else if scopes.contains(&Scope::ConsoleRead) {
        Console::Read
    } else {
        Console::None
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::auth::CallerConfig;
    use minhu_adapter_emergency::auth::token_sha256_hex;

    fn auth(enabled: bool) -> Arc<Authenticator> {
        Authenticator::new(&AuthConfig {
            enabled,
            callers: vec![CallerConfig {
                id: "hotline-xian".into(),
                token_sha256: Some(token_sha256_hex("s3cret")),
                cert_names: vec![],
                channels: vec!["HOTLINE_12345".into()],
                source_systems: vec!["hotline:xian".into(), "hotline:xian-*".into()],
                ..Default::default()
            }],
            ..Default::default()
        })
    }

    fn req(channel: pb::Channel, source_system: &str) -> pb::Request {
        pb::Request {
            channel: channel as i32,
            source_system: source_system.into(),
            ..Default::default()
        }
    }

    #[test]
    fn tokens_identify_callers_and_everything_else_is_refused() {
        let a = auth(true);
        let c = a
            .authenticate(Some(b"Bearer s3cret"), None)
            .unwrap()
            .unwrap();
        assert_eq!(c.id, "hotline-xian");
        for bad in [
            None,
            Some(&b"Bearer wrong"[..]),
            Some(&b"s3cret"[..]),
            Some(&b"Basic czNjcmV0"[..]),
            Some(&b"Bearer \xff"[..]),
        ] {
            let e = a.authenticate(bad, None).unwrap_err();
            assert!(matches!(e, IntakeError::Unauthenticated(_)), "{bad:?}");
            assert!(!e.to_string().contains("s3cret"));
        }
        // Off: nobody is asked.
        assert!(auth(false).authenticate(None, None).unwrap().is_none());
    }

    #[test]
    fn callers_stay_within_their_channels_and_source_systems() {
        let a = auth(true);
        let c = a
            .authenticate(Some(b"Bearer s3cret"), None)
            .unwrap()
            .unwrap();
        assert!(
            c.authorize(&req(pb::Channel::Hotline12345, "hotline:xian"))
                .is_ok()
        );
        assert!(
            c.authorize(&req(pb::Channel::Hotline12345, "hotline:xian-night"))
                .is_ok()
        );
        for (ch, sys, want) in [
            (pb::Channel::Emergency110, "hotline:xian", "EMERGENCY_110"),
            (
                pb::Channel::Hotline12345,
                "hotline:xianyang",
                "source_system",
            ),
            (pb::Channel::Hotline12345, "", "source_system"),
        ] {
            let e = c.authorize(&req(ch, sys)).unwrap_err();
            assert!(matches!(e, IntakeError::PermissionDenied(_)));
            assert!(e.to_string().contains(want), "{e}");
        }
    }

    #[test]
    fn department_callers_act_for_their_departments_and_amqp_users_name_them() {
        let a = Authenticator::new(&AuthConfig {
            enabled: true,
            callers: vec![
                CallerConfig {
                    id: "water-cases".into(),
                    token_sha256: Some(token_sha256_hex("w")),
                    departments: vec!["water".into()],
                    amqp_user: Some("dept-water".into()),
                    ..Default::default()
                },
                CallerConfig {
                    id: "centre".into(),
                    token_sha256: Some(token_sha256_hex("c")),
                    departments: vec!["coordination-centre".into()],
                    coordination: true,
                    ..Default::default()
                },
            ],
            ..Default::default()
        });
        let water = a.authenticate_amqp(Some("dept-water")).unwrap().unwrap();
        assert_eq!(water.id, "water-cases");
        assert!(water.acts_for("water") && !water.acts_for("roads") && !water.coordinates());
        // A department caller submits nothing.
        assert!(
            water
                .authorize(&req(pb::Channel::Hotline12345, "water"))
                .is_err()
        );
        let centre = a.authenticate(Some(b"Bearer c"), None).unwrap().unwrap();
        assert!(centre.coordinates() && centre.acts_for("coordination-centre"));
        for user in [None, Some("guest")] {
            let e = a.authenticate_amqp(user).unwrap_err();
            assert!(matches!(e, IntakeError::Unauthenticated(_)), "{user:?}");
        }
        // Off: nobody is asked.
        assert!(auth(false).authenticate_amqp(None).unwrap().is_none());
    }
}
