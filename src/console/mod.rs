//! The supervision console (督办台): pages for the coordination centre and operations staff,
//! served by the gateway's HTTP listener under `/console`, rendered on the server (maud), with
//! one hand-written stylesheet and one small script (live updates over `EventSource`) served
//! from the binary. No front-end build, nothing from another origin: it works offline.
//!
//! - [`session`]: login with a console token, the session cookie, CSRF on every action form.
//! - [`headers`]: the Content-Security-Policy and other headers on every answer.
//! - [`error`]: the one place errors become HTTP answers.
//! - [`layout`]: the shared page frame, navigation, labels and the static files.
//! - [`login`]: the login and logout forms; [`throttle`]: login attempts per address.
//! - [`overview`]: 总览, with its server-sent events; [`lights`]: 督办台; [`case`]: one case.
//! - [`actions`]: the coordination centre's forms on a case (extension, re-dispatch, split),
//!   through the same paths as their gRPC calls.
//! - [`departments`]: 部门排名, the 谁呼谁评 ranking; [`routing`]: 路由, the live version, its
//!   reload history and `routes explain` for a pasted request; [`chart`]: server-side SVG bars.
//! - [`analysis`]: 分析, with the district [`map`] and the [`rising`]-problem test.
//!
//! A department's token sees its own departments' cases only; the coordination centre's sees
//! every case. With `[auth]` off there is no way to tell operators apart, so the console is off
//! (every `/console` path answers 404 saying why) rather than open to whoever reaches the port.
pub mod actions;
pub mod analysis;
pub mod case;
pub mod chart;
pub mod departments;
pub mod error;
pub mod headers;
pub mod layout;
pub mod lights;
pub mod login;
pub mod map;
pub mod overview;
pub mod rising;
pub mod routing;
pub mod session;
pub mod throttle;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::handling::Updates;
use crate::intake::Intake;
use crate::protect::auth::Authenticator;
use crate::router::history::ReloadHistory;
use crate::router::live::LiveRouter;
use crate::store::Store;
use crate::telemetry::Metrics;
use session::Sessions;

/// What the console's handlers share.
#[derive(Clone)]
pub struct ConsoleState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub router: LiveRouter,
    pub reloads: Arc<ReloadHistory>,
    pub auth: Arc<Authenticator>,
    pub sessions: Arc<Sessions>,
    /// Login attempts per client address.
    pub logins: Arc<throttle::LoginThrottle>,
    /// The handling path the actions take (as `minhu.v1.Handling` does).
    pub updates: Updates,
    /// The intake path a split takes (as `minhu.v1.Gateway.SplitTicket` does).
    pub intake: Intake,
    /// The district map of the Analysis page.
    pub map: Arc<map::MapFile>,
}

/// What the console is built from.
pub struct Parts {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub router: LiveRouter,
    /// The routing file's loads and reloads, shared with the reloader that records them.
    pub reloads: Arc<ReloadHistory>,
    pub auth: Arc<Authenticator>,
    /// The HTTP listener speaks TLS (the session cookie is then `Secure`).
    pub tls: bool,
    /// The handling path, for the actions.
    pub updates: Updates,
    /// The intake path, for a split.
    pub intake: Intake,
    /// The routing file: the district map is found beside it ([`map::FILE`]).
    pub routing_file: PathBuf,
}

/// Why the console is off, for the 404 body.
const OFF: &str = "The console is off: it needs [auth] enabled and a caller with \
    scopes = [\"console:read\"] (docs/operators.md, \"Console\").\n";

/// The console's routes, to merge into the HTTP listener's router.
pub fn routes(p: Parts) -> Router {
    if !p.auth.enabled() {
        let off = || async { (StatusCode::NOT_FOUND, OFF) };
        return Router::new()
            .route("/console", get(off))
            .route("/console/{*rest}", get(off).post(off));
    }
    let state = ConsoleState {
        sessions: Sessions::new(p.tls),
        logins: Arc::default(),
        map: Arc::new(map::MapFile::beside(&p.routing_file)),
        store: p.store,
        metrics: p.metrics,
        router: p.router,
        reloads: p.reloads,
        auth: p.auth,
        updates: p.updates,
        intake: p.intake,
    };
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/overview") }),
        )
        .route("/console/login", get(login::form).post(login::submit))
        .route("/console/logout", post(login::logout))
        .route("/console/overview", get(overview::page))
        .route("/console/events", get(overview::events))
        .route("/console/lights", get(lights::page))
        .route("/console/cases/{case_id}", get(case::page))
        .route(
            "/console/cases/{case_id}/extension",
            post(actions::extension),
        )
        .route("/console/cases/{case_id}/reassign", post(actions::reassign))
        .route("/console/cases/{case_id}/split", post(actions::split))
        .route("/console/departments", get(departments::page))
        .route(
            "/console/routing",
            get(routing::page).post(routing::explain),
        )
        .route("/console/analysis", get(analysis::page))
        .route("/console/static/console.css", get(layout::css))
        .route("/console/static/console.js", get(layout::js))
        .route(
            "/console/{*rest}",
            get(|| async { error::ConsoleError::NotFound }),
        )
        .layer(axum::middleware::map_response(headers::secure))
        .with_state(state)
}
