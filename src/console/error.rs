//! The console's errors and the one place they become HTTP answers. Pages get a short HTML
//! page (never the store's message: it may name tables or values), a missing session a
//! redirect to the login form.
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use thiserror::Error;

use crate::store::StoreError;

/// Why a console request was not answered with its page.
#[derive(Debug, Error)]
pub enum ConsoleError {
    /// No session, or it expired: log in first.
    #[error("login required")]
    LoginRequired,
    /// An action form without the session's CSRF token, or from another site.
    #[error("refused: {0}")]
    Forbidden(&'static str),
    /// No such page or case, or a case the operator may not see (not told apart, so that
    /// case numbers disclose nothing).
    #[error("not found")]
    NotFound,
    /// A malformed form or query.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// Too many open sessions to start another.
    #[error("too many console sessions")]
    Busy,
    /// An action the handling path or intake refused (stale version, wrong state, bad
    /// field): the status their JSON and gRPC answers carry, and their reason.
    #[error("{message}")]
    Refused { status: StatusCode, message: String },
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl From<crate::handling::HandlingError> for ConsoleError {
    fn from(e: crate::handling::HandlingError) -> Self {
        ConsoleError::Refused {
            status: crate::intake::error::handling_http_status(&e),
            message: e.to_string(),
        }
    }
}

impl From<crate::intake::IntakeError> for ConsoleError {
    fn from(e: crate::intake::IntakeError) -> Self {
        ConsoleError::Refused {
            status: crate::intake::error::intake_http_status(&e),
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, title) = match &self {
            ConsoleError::LoginRequired => {
                return Redirect::to("/console/login").into_response();
            }
            ConsoleError::Forbidden(_) => (StatusCode::FORBIDDEN, "拒绝 Forbidden"),
            ConsoleError::NotFound => (StatusCode::NOT_FOUND, "未找到 Not found"),
            ConsoleError::BadRequest(_) => (StatusCode::BAD_REQUEST, "请求有误 Bad request"),
            ConsoleError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "会话过多 Too many sessions",
            ),
            ConsoleError::Refused { status, message } if status.is_server_error() => {
                tracing::error!(error = %message, "console: action failed");
                (*status, "内部错误 Internal error")
            }
            ConsoleError::Refused { status, .. } => (*status, "未执行 Not done"),
            ConsoleError::Store(e) => {
                tracing::error!(error = %e, "console: store read failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "内部错误 Internal error")
            }
        };
        // The detail is ours (a static reason, or a refusal's reason as gRPC callers read it),
        // never the store's text.
        let detail = match &self {
            ConsoleError::Forbidden(why) | ConsoleError::BadRequest(why) => *why,
            ConsoleError::Refused { status, message } if !status.is_server_error() => message,
            _ => "",
        };
        let body = maud::html! {
            (maud::DOCTYPE)
            html lang="zh-CN" {
                head {
                    meta charset="utf-8";
                    title { (title) }
                    link rel="stylesheet" href="/console/static/console.css";
                }
                body {
                    main {
                        h1 { (title) }
                        @if !detail.is_empty() { p.error { (detail) } }
                        p { a href="/console/overview" { "返回总览 Back to the overview" } }
                    }
                }
            }
        };
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body.into_string(),
        )
            .into_response()
    }
}
