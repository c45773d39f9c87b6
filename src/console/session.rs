//! Console sessions: a login turns a console token into a random session id, kept only in
//! memory and mapped here to the caller, with a CSRF token and an expiry. The cookie carries
//! the id alone (`HttpOnly`, `SameSite=Strict`, `Secure` and the `__Host-` prefix when the
//! listener speaks TLS). A restart logs everyone out, which is the safe direction.
//!
//! [`Operator`] is the extractor every page takes; [`ActionForm`] the one every state-changing
//! POST takes: it refuses a form without the session's CSRF token, or one sent from another
//! site, before the handler runs.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, header, request::Parts};
use rand::RngCore;
use subtle::ConstantTimeEq;

use super::ConsoleState;
use super::error::ConsoleError;
use crate::protect::auth::{Caller, Console};

/// How long a login lasts: one working shift. Absolute, not sliding, so a stolen cookie ends.
pub const LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// Sessions held at most; a login beyond it (after dropping expired ones) is refused.
const MAX_SESSIONS: usize = 10_000;
/// Largest action form read.
const MAX_FORM_BYTES: usize = 16 * 1024;

#[derive(Debug)]
struct Session {
    caller: Arc<Caller>,
    csrf: String,
    expires: Instant,
}

/// The live sessions. Share as `Arc<Sessions>`.
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
    /// The listener speaks TLS: the cookie is `Secure` with the `__Host-` prefix.
    tls: bool,
}

/// A logged-in operator: who, and the CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct Operator {
    pub caller: Arc<Caller>,
    pub csrf: String,
}

impl Operator {
    /// The departments whose cases it sees; None for the coordination centre (all).
    pub fn departments(&self) -> Option<Vec<String>> {
        (!self.caller.coordinates()).then(|| self.caller.departments().to_vec())
    }

    /// Whether it may see a case held by `department_id`.
    pub fn may_see(&self, department_id: &str) -> bool {
        self.caller.coordinates() || self.caller.acts_for(department_id)
    }

    /// Whether it may act (approve, re-dispatch, split) from the console.
    pub fn may_act(&self) -> bool {
        self.caller.console() >= Console::Act
    }
}

/// 32 random bytes from the thread's CSPRNG, as hex.
fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Sessions {
    pub fn new(tls: bool) -> Arc<Self> {
        Arc::new(Self {
            by_id: Mutex::new(HashMap::new()),
            tls,
        })
    }

    fn cookie_name(&self) -> &'static str {
        if self.tls {
            "__Host-minhu-console"
        } else {
            "minhu-console"
        }
    }

    /// Starts a session for `caller`; the `Set-Cookie` value to answer with.
    pub fn start(&self, caller: Arc<Caller>) -> Result<String, ConsoleError> {
        let id = random_token();
        let now = Instant::now();
        let mut map = self.by_id.lock().map_err(|_| ConsoleError::Busy)?;
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.expires > now);
        }
        if map.len() >= MAX_SESSIONS {
            return Err(ConsoleError::Busy);
        }
        map.insert(
            id.clone(),
            Session {
                caller,
                csrf: random_token(),
                expires: now + LIFETIME,
            },
        );
        Ok(self.cookie(&id, LIFETIME.as_secs()))
    }

    fn cookie(&self, value: &str, max_age: u64) -> String {
        // `__Host-` cookies must be Secure with Path=/; without TLS the cookie stays on /console.
        let (path, secure) = if self.tls {
            ("/", "; Secure")
        } else {
            ("/console", "")
        };
        format!(
            "{}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}",
            self.cookie_name()
        )
    }

    /// Ends the session named in `headers`; the `Set-Cookie` value that clears the cookie.
    pub fn end(&self, headers: &HeaderMap) -> String {
        if let Some(id) = self.id_in(headers)
            && let Ok(mut map) = self.by_id.lock()
        {
            map.remove(&id);
        }
        self.cookie("", 0)
    }

    fn id_in(&self, headers: &HeaderMap) -> Option<String> {
        let name = self.cookie_name();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }

    /// The operator of the session named in `headers`, if it is live.
    pub fn operator(&self, headers: &HeaderMap) -> Option<Operator> {
        let id = self.id_in(headers)?;
        let mut map = self.by_id.lock().ok()?;
        let s = map.get(&id)?;
        if s.expires <= Instant::now() {
            map.remove(&id);
            return None;
        }
        Some(Operator {
            caller: s.caller.clone(),
            csrf: s.csrf.clone(),
        })
    }
}

impl FromRequestParts<ConsoleState> for Operator {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, Self::Rejection> {
        state
            .sessions
            .operator(&parts.headers)
            .ok_or(ConsoleError::LoginRequired)
    }
}

/// Refuses a POST that a browser says came from another site. `SameSite=Strict` already keeps
/// the cookie off such requests; this also covers the login form, which has no session yet.
pub fn same_origin(headers: &HeaderMap) -> Result<(), ConsoleError> {
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if site == "cross-site" || site == "same-site" {
        return Err(ConsoleError::Forbidden(
            "the form was sent from another site",
        ));
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let origin_host = origin.split_once("://").map(|(_, h)| h);
        if origin_host.is_none() || origin_host != host {
            return Err(ConsoleError::Forbidden(
                "the form was sent from another origin",
            ));
        }
    }
    Ok(())
}

/// Reads an urlencoded form body of at most [`MAX_FORM_BYTES`].
pub async fn read_form(req: Request) -> Result<HashMap<String, String>, ConsoleError> {
    let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
        .await
        .map_err(|_| ConsoleError::BadRequest("the form is too large or unreadable"))?;
    Ok(form_urlencoded::parse(&body).into_owned().collect())
}

/// A state-changing form from a logged-in operator, its CSRF token checked.
pub struct ActionForm {
    pub operator: Operator,
    pub fields: HashMap<String, String>,
}

impl FromRequest<ConsoleState> for ActionForm {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &ConsoleState) -> Result<Self, Self::Rejection> {
        same_origin(req.headers())?;
        let operator = state
            .sessions
            .operator(req.headers())
            .ok_or(ConsoleError::LoginRequired)?;
        let fields = read_form(req).await?;
        let sent = fields.get("csrf").map(String::as_bytes).unwrap_or_default();
        if sent.is_empty() || !bool::from(sent.ct_eq(operator.csrf.as_bytes())) {
            tracing::info!(caller = %operator.caller.id, "console: action refused without a valid CSRF token");
            return Err(ConsoleError::Forbidden(
                "the form lacks this session's CSRF token: reload the page and try again",
            ));
        }
        Ok(Self { operator, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::auth::{AuthConfig, CallerConfig, Scope};
    use crate::protect::auth::Authenticator;
    use axum::http::HeaderValue;

    fn caller() -> Arc<Caller> {
        let auth = Authenticator::new(&AuthConfig {
            enabled: true,
            callers: vec![CallerConfig {
                id: "water-console".into(),
                token_sha256: Some(minhu_adapter_emergency::auth::token_sha256_hex("t")),
                departments: vec!["water".into()],
                scopes: vec![Scope::ConsoleRead],
                ..Default::default()
            }],
            ..Default::default()
        });
        auth.authenticate(Some(b"Bearer t"), None)
            .ok()
            .flatten()
            .expect("the test caller")
    }

    fn with_cookie(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().unwrap_or("");
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(pair).expect("ascii"));
        h
    }

    #[test]
    fn a_session_cookie_names_the_operator_until_logout() {
        let s = Sessions::new(false);
        let set = s.start(caller()).expect("a session");
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
        assert!(!set.contains("Secure") && set.contains("Path=/console"));
        let h = with_cookie(&set);
        let op = s.operator(&h).expect("logged in");
        assert_eq!(op.caller.id, "water-console");
        assert_eq!(op.csrf.len(), 64);
        assert!(op.may_see("water") && !op.may_see("roads") && !op.may_act());
        assert_eq!(op.departments(), Some(vec!["water".to_owned()]));
        // Another id, or none, is nobody.
        assert!(s.operator(&with_cookie("minhu-console=00")).is_none());
        assert!(s.operator(&HeaderMap::new()).is_none());
        let cleared = s.end(&h);
        assert!(cleared.contains("Max-Age=0"));
        assert!(s.operator(&h).is_none());
    }

    #[test]
    fn with_tls_the_cookie_is_secure_and_host_only() {
        let s = Sessions::new(true);
        let set = s.start(caller()).expect("a session");
        assert!(set.starts_with("__Host-minhu-console="), "{set}");
        assert!(set.contains("; Secure") && set.contains("Path=/;"), "{set}");
        assert!(s.operator(&with_cookie(&set)).is_some());
    }

    #[test]
    fn posts_from_other_sites_are_refused() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_static(v));
            }
            m
        };
        assert!(same_origin(&h(&[("host", "gw:8080"), ("origin", "http://gw:8080")])).is_ok());
        assert!(same_origin(&h(&[("host", "gw:8080")])).is_ok());
        for bad in [
            h(&[("host", "gw:8080"), ("origin", "http://evil.example")]),
            h(&[("host", "gw:8080"), ("origin", "null")]),
            h(&[("host", "gw:8080"), ("sec-fetch-site", "cross-site")]),
        ] {
            assert!(matches!(same_origin(&bad), Err(ConsoleError::Forbidden(_))));
        }
    }
}
