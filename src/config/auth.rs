//! `[auth]`: who may call the gateway. Off by default (a gateway on loopback behind the city's
//! own network edge); on, every gRPC `Gateway` call and every 12345, mailbox and
//! city-management HTTP endpoint needs a known caller — by bearer token (`Authorization:
//! Bearer <token>`, stored here only as its SHA-256) or by a TLS client certificate — and each
//! caller may submit only on its channels and as its source systems. WeChat keeps its
//! signature, Open311 its `api_key`, emergency centres their own tokens.
//!
//! ```toml
//! [auth]
//! enabled = true
//! tls_cert_file = "tls/server.pem"     # both listeners speak TLS when set
//! tls_key_file = "tls/server.key"
//! client_ca_file = "tls/clients-ca.pem" # client certificates are verified against it
//!
//! [[auth.callers]]
//! id = "hotline-xian"
//! token_sha256 = "…"                    # minhu auth hash-token
//! cert_names = ["hotline.xian.gov.example"]
//! channels = ["HOTLINE_12345"]
//! source_systems = ["hotline:xian", "hotline:xian-*"]
//!
//! [[auth.callers]]                      # a department's case system (minhu.v1.Handling)
//! id = "water-cases"
//! token_sha256 = "…"
//! departments = ["water"]               # may act on cases held by these departments
//! amqp_user = "dept-water"              # its RabbitMQ user, for updates over minhu.updates
//!
//! [[auth.callers]]                      # the coordination centre (协调中心)
//! id = "coordination"
//! token_sha256 = "…"
//! departments = ["coordination-centre"]
//! coordination = true                   # decides extensions, reassigns, lists any department
//! scopes = ["console:read", "console:act"] # may log in to the console (/console) and act there
//! ```
//!
//! A caller submits reports (channels and source systems), acts for departments, or both.
//! With a `console:*` scope its token also logs an operator in to the supervision console,
//! which then shows the cases of its departments (all of them for the coordination centre).
use std::path::PathBuf;

use serde::Deserialize;

use super::problem::Problems;
use crate::pb;

/// Caller authentication and transport security.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Whether callers must authenticate. Off: anyone who reaches the listeners may submit as
    /// any source system (the sample config; only for networks where that holds).
    pub enabled: bool,
    /// PEM certificate chain of the listeners; with `tls_key_file`, gRPC and HTTP speak TLS
    /// only. Relative paths are relative to the working directory.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,
    /// PEM CA certificates client certificates must chain to. Clients without a certificate
    /// may still connect (and use a bearer token); a certificate that does not verify ends the
    /// handshake.
    pub client_ca_file: Option<PathBuf>,
    /// The systems allowed to call.
    pub callers: Vec<CallerConfig>,
}

/// One calling system.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CallerConfig {
    /// Short name, for logs, metrics and the per-system rate limit (e.g. `hotline-xian`).
    pub id: String,
    /// Lower-case hex SHA-256 of the caller's bearer token (`minhu auth hash-token`); never the
    /// token itself. Optional when the caller uses a certificate.
    #[serde(default)]
    pub token_sha256: Option<String>,
    /// DNS names (subjectAltName) a client certificate may carry to be this caller.
    #[serde(default)]
    pub cert_names: Vec<String>,
    /// Channels the caller may submit on, as in routing rules (`HOTLINE_12345`, `WECHAT`,
    /// `EMERGENCY_120`, ...). Empty for a caller that only acts for departments.
    #[serde(default)]
    pub channels: Vec<String>,
    /// `source_system` values the caller may use; a trailing `*` matches any suffix.
    #[serde(default)]
    pub source_systems: Vec<String>,
    /// Departments (routing ids) the caller acts for in `minhu.v1.Handling`: it may update
    /// and list the cases these departments hold, and only those.
    #[serde(default)]
    pub departments: Vec<String>,
    /// The coordination centre's role (协调中心): decide extensions, reassign any open case,
    /// list any department's cases. Its own department goes in `departments` as usual.
    #[serde(default)]
    pub coordination: bool,
    /// The RabbitMQ user this caller publishes to `minhu.updates` as. An update's `user_id`
    /// property, which RabbitMQ checks against the connection's user, names the caller.
    #[serde(default)]
    pub amqp_user: Option<String>,
    /// What the caller's token may do in the supervision console (`/console`): nothing when
    /// empty. `console:read` shows the pages; `console:act` also allows the actions (the
    /// coordination centre's: decide extensions, re-dispatch, split) and implies read.
    #[serde(default)]
    pub scopes: Vec<Scope>,
}

/// A permission beyond the gRPC and HTTP doors. Unknown names are errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Scope {
    /// Log in to the console and read its pages (the caller's departments' cases only).
    #[serde(rename = "console:read")]
    ConsoleRead,
    /// Also act from the console: coordination-centre callers only.
    #[serde(rename = "console:act")]
    ConsoleAct,
}

impl CallerConfig {
    /// The configured channels as protobuf values; names that are not channels are skipped
    /// (and reported by [`AuthConfig::check`]).
    pub fn channel_values(&self) -> Vec<i32> {
        self.channels
            .iter()
            .filter_map(|c| pb::Channel::from_str_name(&format!("CHANNEL_{c}")))
            .map(|c| c as i32)
            .collect()
    }
}

impl AuthConfig {
    /// Whether the listeners speak TLS.
    pub fn tls(&self) -> bool {
        self.tls_cert_file.is_some()
    }

    /// Records every problem under `auth.*`.
    pub fn check(&self, p: &mut Problems) {
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            p.add(
                "auth.tls_key_file",
                "tls_cert_file and tls_key_file go together",
            );
        }
        if self.client_ca_file.is_some() && !self.tls() {
            p.add(
                "auth.client_ca_file",
                "client certificates need TLS: set tls_cert_file and tls_key_file",
            );
        }
        for (key, path) in [
            ("auth.tls_cert_file", &self.tls_cert_file),
            ("auth.tls_key_file", &self.tls_key_file),
            ("auth.client_ca_file", &self.client_ca_file),
        ] {
            if let Some(path) = path
                && !path.is_file()
            {
                p.add(key, format!("{} is not a readable file", path.display()));
            }
        }
        if self.enabled && self.callers.is_empty() {
            p.add(
                "auth.callers",
                "auth is enabled but no caller is configured: nobody could submit",
            );
        }
        let mut ids = std::collections::HashSet::new();
        for (i, c) in self.callers.iter().enumerate() {
            let key = |k: &str| format!("auth.callers[{i}].{k}");
            if c.id.trim().is_empty() {
                p.add(key("id"), "must not be empty");
            } else if !ids.insert(c.id.as_str()) {
                p.add(key("id"), format!("duplicate caller id {:?}", c.id));
            }
            match &c.token_sha256 {
                Some(d) if minhu_adapter_emergency::auth::parse_digest(d).is_none() => p.add(
                    key("token_sha256"),
                    "must be 64 hex digits (minhu auth hash-token), not the token",
                ),
                None if c.cert_names.is_empty() => p.add(
                    key("token_sha256"),
                    "a caller needs token_sha256 or cert_names to authenticate",
                ),
                _ => {}
            }
            if !c.cert_names.is_empty() && self.client_ca_file.is_none() {
                p.add(
                    key("cert_names"),
                    "certificates are only verified with auth.client_ca_file set",
                );
            }
            for n in &c.cert_names {
                if rustls::pki_types::ServerName::try_from(n.as_str()).is_err() {
                    p.add(key("cert_names"), format!("{n:?} is not a DNS name"));
                }
            }
            let handles = !c.departments.is_empty() || c.coordination;
            if c.channels.is_empty() && !handles {
                p.add(
                    key("channels"),
                    "must name at least one channel (or the caller acts for departments: set departments)",
                );
            }
            if c.departments.iter().any(|d| d.trim().is_empty()) {
                p.add(key("departments"), "department ids must not be empty");
            }
            if !c.scopes.is_empty() {
                // The console shows a caller its departments' cases: one with none and without
                // the coordination role would log in to empty pages.
                if !handles {
                    p.add(
                        key("scopes"),
                        "console scopes need departments (or coordination = true): the console shows only their cases",
                    );
                }
                if c.token_sha256.is_none() {
                    p.add(
                        key("scopes"),
                        "console scopes need token_sha256: an operator logs in with the token",
                    );
                }
                if c.scopes.contains(&Scope::ConsoleAct) && !c.coordination {
                    p.add(
                        key("scopes"),
                        "console:act is the coordination centre's (extensions, re-dispatch, split): set coordination = true or use console:read",
                    );
                }
            }
            if c.amqp_user.as_deref().is_some_and(|u| u.trim().is_empty()) {
                p.add(key("amqp_user"), "must not be empty when set");
            }
            for ch in &c.channels {
                if pb::Channel::from_str_name(&format!("CHANNEL_{ch}")).is_none() {
                    p.add(
                        key("channels"),
                        format!("{ch:?} is not a channel (e.g. HOTLINE_12345, WECHAT)"),
                    );
                }
            }
            if c.source_systems.is_empty() && !c.channels.is_empty() {
                p.add(
                    key("source_systems"),
                    "must name at least one source system (a trailing * matches any suffix)",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(cfg: &AuthConfig) -> Vec<String> {
        let mut p = Problems::new(std::path::Path::new("minhu.toml"));
        cfg.check(&mut p);
        p.list.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_caller_submits_or_acts_for_departments() {
        let caller = |channels: Vec<String>, departments: Vec<String>| AuthConfig {
            enabled: true,
            callers: vec![CallerConfig {
                id: "c".into(),
                token_sha256: Some("0".repeat(64)),
                channels,
                source_systems: Vec::new(),
                departments,
                ..Default::default()
            }],
            ..Default::default()
        };
        // Acting for a department needs no channels or source systems.
        assert!(problems(&caller(vec![], vec!["water".into()])).is_empty());
        // Neither: the caller could do nothing.
        let p = problems(&caller(vec![], vec![]));
        assert!(
            p.iter().any(|x| x.contains("auth.callers[0].channels")),
            "{p:?}"
        );
        // A console scope needs someone to show cases of, and a token to log in with.
        let mut cfg = caller(vec![], vec!["water".into()]);
        cfg.callers[0].scopes = vec![Scope::ConsoleAct];
        let p = problems(&cfg);
        assert!(
            p.iter()
                .any(|x| x.contains("auth.callers[0].scopes") && x.contains("coordination")),
            "{p:?}"
        );
        cfg.callers[0].scopes = vec![Scope::ConsoleRead];
        assert!(problems(&cfg).is_empty());
        cfg.callers[0].token_sha256 = None;
        cfg.callers[0].cert_names = vec!["a.example".into()];
        let p = problems(&cfg);
        assert!(
            p.iter()
                .any(|x| x.contains("auth.callers[0].scopes") && x.contains("token")),
            "{p:?}"
        );
        // Submitting still needs source systems.
        let p = problems(&caller(vec!["WECHAT".into()], vec![]));
        assert!(
            p.iter()
                .any(|x| x.contains("auth.callers[0].source_systems")),
            "{p:?}"
        );
    }
}
