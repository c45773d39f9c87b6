//! Caller authentication and authorization (`[auth]`). A caller proves who it is with a bearer
//! token (compared as SHA-256 digests, in constant time) or a TLS client certificate (already
//! verified against `client_ca_file` by the handshake; its DNS subjectAltNames name the
//! caller). The listeners authenticate ([`Authenticator::authenticate`]); the pipeline
//! authorizes each request against the caller's channels and source systems
//! ([`Caller::authorize`]), so a system cannot submit as an emergency line it is not.
//!
//! The caller travels from the listener to the pipeline as a task-local ([`scope`],
//! [`current`]): every door calls the same `Intake::submit` without a new parameter.
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use minhu_adapter_emergency::auth::{parse_digest, token_matches};
use rustls::pki_types::{CertificateDer, ServerName};

use super::metrics as m;
use crate::config::auth::AuthConfig;
use crate::intake::IntakeError;

mod caller;
mod transport;

pub use caller::{Caller, Console};
pub use transport::{
    Bearer, PeerCerts, current, grpc_caller, grpc_interceptor, require_caller, scope,
};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::auth::CallerConfig;
    use crate::pb;
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
