//! 案件 Case: one case's whole story: every report merged into it (contacts masked), the
//! routing decision and its reason, every transition with who and when from the audit trail,
//! the notices to its reporters and their ratings, and its 谁呼谁评 scores.
//!
//! A case the operator may not see answers exactly as a case that does not exist (404), so
//! sequential case numbers disclose nothing to another department.
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use maud::{Markup, html};

use super::ConsoleState;
use super::actions;
use super::error::ConsoleError;
use super::layout::{self, Nav};
use super::session::Operator;
use crate::pb;
use crate::store::CaseReport;
use crate::telemetry::mask;

/// A reporter as the page may show it: every contact masked.
fn reporter(r: Option<&pb::Reporter>) -> String {
    let Some(r) = r else {
        return "–".into();
    };
    if r.anonymous {
        return "匿名 anonymous".into();
    }
    let parts: Vec<String> = [
        (!r.name.is_empty()).then(|| mask::name(&r.name)),
        (!r.phone.is_empty()).then(|| mask::phone(&r.phone)),
        (!r.email.is_empty()).then(|| mask::email(&r.email)),
        (!r.wechat_openid.is_empty()).then(|| format!("openid {}", mask::openid(&r.wechat_openid))),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "–".into()
    } else {
        parts.join(" · ")
    }
}

/// Why a report joined the case, from its merge audit entry.
fn merge_reason(r: &CaseReport) -> String {
    if r.disposition != pb::Disposition::Merged as i32 {
        return "立案 opened the case".into();
    }
    let detail = r
        .merge_detail
        .as_deref()
        .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok());
    let why = detail
        .as_ref()
        .and_then(|d| d.get("disposition"))
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let score = detail
        .as_ref()
        .and_then(|d| d.pointer("/merge/score"))
        .map(|v| format!(" (score {v})"))
        .unwrap_or_default();
    match why {
        "follow_up" => format!("合并：同一报告人追加 follow-up{score}"),
        _ => format!("合并：同一问题 same problem{score}"),
    }
}

/// Who acted, from an audit entry's detail: the authenticated caller, the operator, the
/// department.
fn who(detail: &serde_json::Value) -> String {
    let s = |k: &str| {
        detail
            .get(k)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
    };
    // Only an update's department acted; an intake entry's names the department routed to.
    let acting = detail.get("via").and_then(|_| s("department_id"));
    [s("caller"), s("operator_id"), acting]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" / ")
}

fn transitions(story: &crate::store::CaseStory) -> Markup {
    let history = story
        .clocks
        .as_ref()
        .map(|c| c.history.as_slice())
        .unwrap_or_default();
    html! {
        table {
            thead { tr { th { "时间 When" } th { "事件 Event" } th { "谁 Who" } th { "状态 State" } th { "工单 Ticket" } } }
            tbody {
                @for h in history {
                    @let d = serde_json::from_str::<serde_json::Value>(&h.detail).unwrap_or_default();
                    @let from = d.get("from").and_then(|v| v.as_str()).unwrap_or("");
                    @let to = d.get("to").and_then(|v| v.as_str()).unwrap_or("");
                    tr {
                        td { (layout::when(h.at_ms)) }
                        td { (h.event) }
                        td { (who(&d)) }
                        td { @if !to.is_empty() { (from) " → " (to) } }
                        td { (h.ticket_id.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
}

pub async fn page(
    State(s): State<ConsoleState>,
    op: Operator,
    Path(case_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ConsoleError> {
    if case_id.len() > 64 {
        return Err(ConsoleError::NotFound);
    }
    let now = crate::time::now_ms();
    let story = s
        .store
        .console_case(&case_id, now)
        .await?
        .filter(|c| op.may_see(&c.head.department_id))
        .ok_or(ConsoleError::NotFound)?;
    let h = &story.head;
    let light = story
        .clocks
        .as_ref()
        .and_then(|c| c.light)
        .map_or(0, |l| l as i32);
    let (light_label, light_class) = layout::light(light);
    let departments = layout::departments(&s.router);
    // What an action that led back here did (`?done=`).
    let done = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "done")
        .and_then(|(_, v)| actions::done_message(&v));
    let body = html! {
        @if let Some(d) = done { p.done role="status" { (d) } }
        h2 { (h.case_id) " " span class={"dot " (light_class)} {} " " (light_label) }
        dl.facts {
            dt { "状态 State" } dd { (layout::status(h.status)) }
            dt { "承办部门 Holder" } dd { (h.department_id) }
            dt { "类别 Category" } dd { (h.category) }
            dt { "区县 District" } dd { (h.district_code) }
            dt { "层级 Level" } dd { (layout::level(h.level)) }
            dt { "受理 Opened" } dd { (layout::when(h.opened_at_ms)) }
            dt { "答复期限 Due (citizen)" } dd { (layout::when(h.due_at_ms)) }
            @if let Some(c) = &story.clocks {
                dt { "办理期限 Due (holder)" } dd { (layout::when(c.unit_due_at_ms)) @if c.paused { " · 暂停 paused" } }
                dt { "退单 Returns" } dd { (c.returns) }
            }
        }
        h2 { "派单依据 " small { "routing decision" } }
        dl.facts {
            dt { "规则 Rule" } dd { code { (h.rule_id) } }
            dt { "路由版本 Routing version" } dd { code { (h.routing_version) } }
            dt { "理由 Reason" } dd { (h.routing_reason.as_deref().unwrap_or("–")) }
        }
        (actions::forms(&op, &story, &departments))
        h2 { "报告 " small { "reports (" (story.reports.len()) ")" } }
        table {
            thead { tr { th { "工单 Ticket" } th { "受理 Accepted" } th { "渠道 Channel" } th { "报告人 Reporter" } th { "内容 Description" } th { "合并 Merge" } th {} } }
            tbody {
                @for r in &story.reports {
                    tr {
                        td { (r.ticket_id) }
                        td { (layout::when(r.accepted_at_ms)) }
                        td { (layout::channel(r.request.channel)) }
                        td { (reporter(r.request.reporter.as_ref())) }
                        td { (r.request.description) }
                        td { (merge_reason(r)) }
                        td { (actions::split_form(&op, &story, &r.ticket_id, r.disposition == pb::Disposition::Merged as i32)) }
                    }
                }
            }
        }
        h2 { "流转 " small { "transitions" } }
        (transitions(&story))
        h2 { "回复与评价 " small { "notices and ratings" } }
        @let notices = story.clocks.as_ref().map(|c| c.notices.as_slice()).unwrap_or_default();
        @if notices.is_empty() && story.ratings.is_empty() {
            p.empty { "尚无 None yet" }
        } @else {
            table {
                thead { tr { th { "工单 Ticket" } th { "方式 Route" } th { "状态 State" } th { "发送 Sent" } } }
                tbody {
                    @for n in notices {
                        tr {
                            td { (n.ticket_id) }
                            td { (n.route.as_deref().unwrap_or("–")) }
                            td { (n.state) @if let Some(r) = &n.reason { " (" (r) ")" } }
                            td { (n.sent_at.map(layout::when).unwrap_or_default()) }
                        }
                    }
                }
            }
            @if !story.ratings.is_empty() {
                table {
                    thead { tr { th { "工单 Ticket" } th { "轮次 Round" } th { "满意度 Satisfaction" } th { "解决 Solved" } } }
                    tbody {
                        @for r in &story.ratings {
                            tr {
                                td { (r.ticket_id) }
                                td { (r.round) }
                                td { (pb::Satisfaction::try_from(r.satisfaction).map_or("?", |s| s.as_str_name())) }
                                td { (pb::Solved::try_from(r.solved).map_or("?", |s| s.as_str_name())) }
                            }
                        }
                    }
                }
            }
        }
        h2 { "评分 " small { "score (谁呼谁评)" } }
        @if story.scores.is_empty() {
            p.empty { "尚未评分 Not scored yet" }
        } @else {
            ul { @for (d, hundredths) in &story.scores { li { (d) ": " (format!("{:.2}", *hundredths as f64 / 100.0)) } } }
        }
    };
    Ok(layout::page("Case", Nav::Case, &op, body))
}
