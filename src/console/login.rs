//! Logging in and out. The operator pastes the console token of its caller (the same token
//! the caller's system uses, or one issued to the operator as its own caller); the token is
//! checked as every bearer token is (SHA-256, constant time) and never stored or echoed.
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, html};

use super::ConsoleState;
use super::error::ConsoleError;
use super::session::{ActionForm, read_form, same_origin};
use crate::protect::auth::Console;

fn login_page(message: Option<&str>) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="zh-CN" {
                head {
                    meta charset="utf-8";
                    title { "登录 Log in · 民呼 Minhu" }
                    link rel="stylesheet" href="/console/static/console.css";
                }
                body.login {
                    main {
                        h1 { "民呼督办台 " small { "Minhu console" } }
                        @if let Some(m) = message { p.error role="alert" { (m) } }
                        form method="post" action="/console/login" {
                            label for="token" { "控制台令牌 Console token" }
                            input #token type="password" name="token" autocomplete="off" required autofocus;
                            button type="submit" { "登录 Log in" }
                        }
                    }
                }
            }
        }
        .into_string(),
    )
}

pub async fn form() -> Html<String> {
    login_page(None)
}

pub async fn submit(
    State(s): State<ConsoleState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Result<Response, ConsoleError> {
    same_origin(req.headers())?;
    if let Err(wait) = s.logins.attempt(peer.ip()) {
        tracing::warn!(peer = %peer.ip(), "console: login attempts throttled");
        let secs = wait.as_secs().max(1);
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, secs.to_string())],
            login_page(Some(&format!(
                "尝试过多，请 {secs} 秒后再试 Too many attempts: try again in {secs} s"
            ))),
        )
            .into_response());
    }
    let fields = read_form(req).await?;
    let token = fields.get("token").map(|t| t.trim()).unwrap_or_default();
    let refuse = |code: StatusCode, m: &str| Ok((code, login_page(Some(m))).into_response());
    if token.is_empty() || token.contains(['\r', '\n']) {
        return refuse(StatusCode::UNAUTHORIZED, "请输入令牌 Enter a token");
    }
    let header = format!("Bearer {token}");
    let caller = match s.auth.authenticate(Some(header.as_bytes()), None) {
        Ok(Some(c)) => c,
        _ => {
            tracing::info!("console: login refused: token not recognised");
            return refuse(StatusCode::UNAUTHORIZED, "令牌无效 Token not recognised");
        }
    };
    if caller.console() == Console::None {
        tracing::info!(caller = %caller.id, "console: login refused: no console scope");
        return refuse(
            StatusCode::FORBIDDEN,
            "此令牌无控制台权限 This token has no console scope",
        );
    }
    tracing::info!(caller = %caller.id, "console: logged in");
    let cookie = s.sessions.start(caller)?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/console/overview"),
    )
        .into_response())
}

/// Logging out is an action like any other: it needs the CSRF token, so another site cannot
/// log an operator out of a wall screen.
pub async fn logout(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    form: ActionForm,
) -> Response {
    tracing::info!(caller = %form.operator.caller.id, "console: logged out");
    let cookie = s.sessions.end(&headers);
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/console/login"),
    )
        .into_response()
}
