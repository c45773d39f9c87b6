//! The frame every console page shares: the navigation (Chinese labels first, as operators
//! read them), the logout form with its CSRF token, the labels of channels, levels, states and
//! lights, and the two static files, compiled into the binary.
use axum::http::header;
use axum::response::{Html, IntoResponse};
use maud::{DOCTYPE, Markup, html};

use super::session::Operator;
use crate::pb;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// The pages, in navigation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Lights,
    Case,
    Departments,
    Analysis,
    Routing,
}

impl Nav {
    const ALL: [Nav; 6] = [
        Nav::Overview,
        Nav::Lights,
        Nav::Case,
        Nav::Departments,
        Nav::Analysis,
        Nav::Routing,
    ];

    fn label(self) -> (&'static str, &'static str) {
        match self {
            Nav::Overview => ("总览", "Overview"),
            Nav::Lights => ("督办台", "Lights board"),
            Nav::Case => ("案件", "Case"),
            Nav::Departments => ("部门排名", "Departments"),
            Nav::Analysis => ("分析", "Analysis"),
            Nav::Routing => ("路由", "Routing"),
        }
    }

    /// Where the entry leads; None for pages not built yet (shown, not linked). A case page
    /// is reached from the board, so its entry is not a link either.
    fn href(self) -> Option<&'static str> {
        match self {
            Nav::Overview => Some("/console/overview"),
            Nav::Lights => Some("/console/lights"),
            Nav::Departments => Some("/console/departments"),
            Nav::Routing => Some("/console/routing"),
            Nav::Analysis => Some("/console/analysis"),
            _ => None,
        }
    }
}

/// A whole page: head, navigation, `body`.
pub fn page(title: &str, active: Nav, op: &Operator, body: Markup) -> Html<String> {
    let (zh, en) = active.label();
    let scope = if op.caller.coordinates() {
        "全部部门 all departments".to_owned()
    } else {
        op.caller.departments().join(", ")
    };
    Html(
        html! {
            (DOCTYPE)
            html lang="zh-CN" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (zh) " " (title) " · 民呼 Minhu" }
                    link rel="stylesheet" href="/console/static/console.css";
                    script src="/console/static/console.js" defer {}
                }
                body {
                    header {
                        span.brand { "民呼 Minhu" }
                        nav {
                            @for n in Nav::ALL {
                                @let (z, e) = n.label();
                                @match n.href() {
                                    Some(h) => a href=(h) class=[(n == active).then_some("active")] { (z) " " small { (e) } },
                                    None => span class=(if n == active { "active" } else { "soon" }) title="尚未提供 not yet" { (z) " " small { (e) } },
                                }
                            }
                        }
                        div.who {
                            span { (op.caller.id) " · " (scope) }
                            form method="post" action="/console/logout" {
                                input type="hidden" name="csrf" value=(op.csrf);
                                button type="submit" { "退出 Log out" }
                            }
                        }
                    }
                    main {
                        h1 { (zh) " " small { (en) } }
                        (body)
                    }
                }
            }
        }
        .into_string(),
    )
}

/// Every department of the routing in force, as (id, name), in the file's order.
pub fn departments(router: &crate::router::live::LiveRouter) -> Vec<(String, String)> {
    router
        .current()
        .departments()
        .iter()
        .map(|d| (d.id.clone(), d.name.clone()))
        .collect()
}

/// The channel's name without its prefix (`HOTLINE_12345`).
pub fn channel(c: i32) -> String {
    pb::Channel::try_from(c).map_or_else(
        |_| c.to_string(),
        |c| c.as_str_name().trim_start_matches("CHANNEL_").to_owned(),
    )
}

/// Every channel a report can come by, for filters.
pub fn channels() -> impl Iterator<Item = pb::Channel> {
    (1..64).filter_map(|i| pb::Channel::try_from(i).ok())
}

/// The level's letter (A community … D city).
pub fn level(l: i32) -> &'static str {
    pb::Level::try_from(l).map_or("", crate::outbox::envelope::level_code)
}

/// The case state's name (`SIGNED`, …).
pub fn status(s: i32) -> &'static str {
    pb::CaseStatus::try_from(s).map_or("?", |s| crate::handling::machine::name(&s))
}

/// A light's label and CSS class.
pub fn light(l: i32) -> (&'static str, &'static str) {
    match pb::Light::try_from(l) {
        Ok(pb::Light::Red) => ("红 red", "red"),
        Ok(pb::Light::Yellow) => ("黄 yellow", "yellow"),
        Ok(pb::Light::Green) => ("绿 green", "green"),
        _ => ("– none", "none"),
    }
}

/// An instant in Asia/Shanghai, to the minute.
pub fn when(ms: i64) -> String {
    crate::time::local_minute(ms)
}

/// A duration as operators say it: `3天4小时`, `2小时5分`, `12分`.
pub fn span(ms: i64) -> String {
    let m = ms.unsigned_abs() / 60_000;
    let (d, h, min) = (m / 1440, m % 1440 / 60, m % 60);
    if d > 0 {
        format!("{d}天{h}小时")
    } else if h > 0 {
        format!("{h}小时{min}分")
    } else {
        format!("{min}分")
    }
}

pub async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        CSS,
    )
}

pub async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        JS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_operators_say_them() {
        assert_eq!(span(12 * 60_000), "12分");
        assert_eq!(span(-(125 * 60_000)), "2小时5分");
        assert_eq!(span((3 * 1440 + 4 * 60) * 60_000), "3天4小时");
    }
}
