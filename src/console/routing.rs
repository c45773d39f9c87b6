//! 路由 Routing: the routing version in force, the routing file's recent loads (refused
//! reloads with why, from [`crate::router::history`]), and a box to paste a request and read
//! what `minhu routes explain` says of it.
//!
//! The explanation is the CLI's: the same JSON reader (`json::request_from_json`,
//! proto3 JSON `minhu.v1.Request`), the same walk ([`crate::router::Router::explain`], the one
//! that routes live traffic) and the same report ([`crate::router::explain::render`]), against
//! the live router. Nothing is written and nothing is sent.
//!
//! The box is a POST form with the session's CSRF token, though it changes nothing: a pasted
//! request may carry a citizen's name and phone, and a GET would put them in the URL, where
//! access logs, the browser's history and `Referer` headers keep them.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};

use super::ConsoleState;
use super::layout::{self, Nav};
use super::session::{ActionForm, Operator};
use crate::router::history::Outcome;

/// Largest request read from the box. Requests are small (the intake's own limits are far
/// below this); the form as a whole is capped by `session::ActionForm` too.
const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// What the box was given and what came of it.
#[derive(Debug, Default)]
struct Explained {
    request: String,
    at: String,
    /// The report, or why the input could not be explained.
    result: Option<Result<String, String>>,
}

pub async fn page(State(s): State<ConsoleState>, op: Operator) -> Html<String> {
    render(&s, &op, &Explained::default())
}

pub async fn explain(State(s): State<ConsoleState>, form: ActionForm) -> Response {
    let field = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
    let mut e = Explained {
        request: field("request"),
        at: field("at").trim().to_owned(),
        result: None,
    };
    let result = run(&s, &e.request, &e.at);
    let status = if result.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    e.result = Some(result);
    if e.request.len() > MAX_REQUEST_BYTES {
        // Not echoed back whole: the page would carry it again.
        e.request.clear();
    }
    (status, render(&s, &form.operator, &e)).into_response()
}

/// `routes explain` for the pasted request at `at` (blank: now), against the live router.
fn run(s: &ConsoleState, request: &str, at: &str) -> Result<String, String> {
    if request.trim().is_empty() {
        return Err(
            "paste a request: proto3 JSON of minhu.v1.Request, as for `minhu routes explain`"
                .into(),
        );
    }
    if request.len() > MAX_REQUEST_BYTES {
        return Err(format!(
            "the request is {} bytes; at most {MAX_REQUEST_BYTES} are read",
            request.len()
        ));
    }
    let at_ms = if at.is_empty() {
        crate::time::now_ms()
    } else {
        at_ms(at).map_err(|e| format!("at {at:?}: {e}"))?
    };
    let req = crate::json::request_from_json(request)
        .map_err(|e| format!("not a minhu.v1.Request in proto3 JSON: {e}"))?;
    let router = s.router.current();
    Ok(crate::router::explain::render(
        &router.explain(&req, at_ms),
        router.version(),
        at_ms,
    ))
}

/// The instant as `routes explain --at` takes it (`2026-11-23T10:00:00+08:00`); without an
/// offset, as a browser's `datetime-local` sends it, the time is Asia/Shanghai's.
fn at_ms(text: &str) -> Result<i64, String> {
    let mut dt: toml::value::Datetime = text.parse().map_err(|e| format!("{e}"))?;
    if dt.offset.is_none() && dt.time.is_some() {
        dt.offset = Some(toml::value::Offset::Custom {
            minutes: (crate::time::CST_OFFSET_SECS / 60) as i16,
        });
    }
    crate::router::cases::datetime_ms(&dt)
}

fn render(s: &ConsoleState, op: &Operator, e: &Explained) -> Html<String> {
    let router = s.router.current();
    let history = s.reloads.newest_first();
    let body = html! {
        dl.facts {
            dt { "当前版本 Version in force" } dd #routing-version { (router.version()) }
            dt { "部门 Departments" } dd { (router.departments().len()) }
        }
        h2 { "加载记录 " small { "loads of the routing file, newest first (the last " (crate::router::history::KEEP) ")" } }
        (history_table(&history))
        h2 #explain { "路由解释 " small { "routes explain: paste a request" } }
        (explain_form(op, e))
        @match &e.result {
            Some(Ok(report)) => pre.explain #explanation { (report) },
            Some(Err(why)) => p.error #explain-error { (why) },
            None => {},
        }
    };
    layout::page("Routing", Nav::Routing, op, body)
}

/// Times to the second, as the CLI writes them: several reloads can fall in one minute.
fn history_table(history: &[crate::router::history::Attempt]) -> Markup {
    html! {
        table.reloads {
            thead { tr { th { "时间 Time" } th { "结果 Outcome" } th { "版本或原因 Version or reason" } } }
            tbody {
                @for a in history {
                    @match &a.outcome {
                        Outcome::Started { version } => tr.started {
                            td { (crate::router::cases::shanghai(a.at_ms)) }
                            td { "启动 started" }
                            td { (version) }
                        },
                        Outcome::Loaded { version } => tr.loaded {
                            td { (crate::router::cases::shanghai(a.at_ms)) }
                            td { "已加载 loaded" }
                            td { (version) }
                        },
                        Outcome::Refused { error, kept } => tr.refused {
                            td { (crate::router::cases::shanghai(a.at_ms)) }
                            td { "拒绝 refused" }
                            td {
                                pre.reason { (error) }
                                small { "继续使用 still serving " (kept) }
                            }
                        },
                    }
                }
            }
        }
    }
}

fn explain_form(op: &Operator, e: &Explained) -> Markup {
    html! {
        form.explain method="post" action="/console/routing#explain" {
            input type="hidden" name="csrf" value=(op.csrf);
            label for="request" {
                "请求 Request "
                small { "proto3 JSON of minhu.v1.Request, as for `minhu routes explain`; at most " (MAX_REQUEST_BYTES / 1024) " KiB" }
            }
            textarea #request name="request" rows="10" cols="80" maxlength=(MAX_REQUEST_BYTES)
                placeholder=r#"{"channel":"CHANNEL_HOTLINE_12345","category":"road.pothole","description":"大兴东路路面塌陷"}"# { (e.request) }
            label {
                "受理时间 Accepted at "
                input type="text" name="at" value=(e.at) size="28" placeholder="2026-11-23T10:00:00+08:00";
                small { " 空 = 现在 blank: now" }
            }
            button type="submit" { "解释 Explain" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_takes_the_clis_form_and_local_times_are_shanghai() {
        let with_offset = at_ms("2026-11-23T10:00:00+08:00").unwrap();
        assert_eq!(at_ms("2026-11-23T10:00").unwrap(), with_offset);
        assert_eq!(at_ms("2026-11-23T02:00:00Z").unwrap(), with_offset);
        assert!(at_ms("tomorrow").is_err());
        assert!(
            at_ms("2026-11-23")
                .unwrap_err()
                .contains("needs a date, a time")
        );
    }
}
