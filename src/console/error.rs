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
    #[error("store: {0}")]
    Store(#[from] StoreError),
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
            ConsoleError::Store(e) => {
                tracing::error!(error = %e, "console: store read failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "内部错误 Internal error")
            }
        };
        // The detail is ours (a static reason), never the store's text.
        let detail = match &self {
            ConsoleError::Forbidden(why) | ConsoleError::BadRequest(why) => *why,
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
