//! 督办台 Lights board: open cases with their lights, tallied per department, listed most
//! overdue first (or oldest first), filtered by district, level, channel and light. Each row
//! opens the case. At most [`ROWS`] rows are listed; the tallies count every matching case.
use std::collections::{BTreeMap, HashMap};

use axum::extract::{RawQuery, State};
use axum::response::Html;
use maud::{Markup, html};

use super::ConsoleState;
use super::error::ConsoleError;
use super::layout::{self, Nav};
use super::session::Operator;
use crate::pb;
use crate::store::BoardQuery;

/// Rows listed at most: a wall screen shows the worst, the tallies show the rest.
const ROWS: u32 = 500;

/// The filters as the form sends them; blank means any.
#[derive(Debug, Default)]
struct Filters {
    district: String,
    level: String,
    channel: String,
    light: String,
    sort: String,
}

impl Filters {
    fn parse(query: Option<&str>) -> Self {
        let q: HashMap<String, String> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| q.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
        Self {
            district: get("district"),
            level: get("level"),
            channel: get("channel"),
            light: get("light"),
            sort: get("sort"),
        }
    }

    /// The store's query; a value that names nothing is refused, not silently ignored.
    fn query(&self) -> Result<BoardQuery, ConsoleError> {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let level = match opt(&self.level) {
            None => None,
            Some(l) => Some(
                crate::outbox::envelope::level_from_code(&l)
                    .ok_or(ConsoleError::BadRequest("level must be A, B, C or D"))?
                    as i32,
            ),
        };
        let channel = match opt(&self.channel) {
            None => None,
            Some(c) => Some(
                pb::Channel::from_str_name(&format!("CHANNEL_{c}"))
                    .ok_or(ConsoleError::BadRequest("unknown channel"))? as i32,
            ),
        };
        let light = match self.light.as_str() {
            "" => None,
            "green" => Some(pb::Light::Green as i32),
            "yellow" => Some(pb::Light::Yellow as i32),
            "red" => Some(pb::Light::Red as i32),
            _ => {
                return Err(ConsoleError::BadRequest(
                    "light must be green, yellow or red",
                ));
            }
        };
        if self.district.len() > 32 {
            return Err(ConsoleError::BadRequest("district code too long"));
        }
        Ok(BoardQuery {
            district_code: opt(&self.district),
            level,
            channel,
            light,
            by_opened: self.sort == "opened",
            limit: ROWS,
        })
    }
}

fn select(name: &str, current: &str, options: &[(String, String)]) -> Markup {
    html! {
        select name=(name) {
            option value="" { "全部 any" }
            @for (v, label) in options {
                option value=(v) selected[v == current] { (label) }
            }
        }
    }
}

fn form(f: &Filters) -> Markup {
    let levels: Vec<(String, String)> = ["A", "B", "C", "D"]
        .iter()
        .map(|l| (l.to_string(), l.to_string()))
        .collect();
    let channels: Vec<(String, String)> = layout::channels()
        .map(|c| {
            let n = layout::channel(c as i32);
            (n.clone(), n)
        })
        .collect();
    let lights: Vec<(String, String)> = [
        ("red", "红 red"),
        ("yellow", "黄 yellow"),
        ("green", "绿 green"),
    ]
    .iter()
    .map(|(v, l)| (v.to_string(), l.to_string()))
    .collect();
    html! {
        form.filters method="get" action="/console/lights" {
            label { "区县 District " input type="text" name="district" value=(f.district) size="8"; }
            label { "层级 Level " (select("level", &f.level, &levels)) }
            label { "渠道 Channel " (select("channel", &f.channel, &channels)) }
            label { "灯 Light " (select("light", &f.light, &lights)) }
            label { "排序 Sort "
                select name="sort" {
                    option value="overdue" selected[f.sort != "opened"] { "超期最久 most overdue" }
                    option value="opened" selected[f.sort == "opened"] { "受理最早 oldest" }
                }
            }
            button type="submit" { "筛选 Filter" }
        }
    }
}

pub async fn page(
    State(s): State<ConsoleState>,
    op: Operator,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ConsoleError> {
    let filters = Filters::parse(query.as_deref());
    let q = filters.query()?;
    let (rows, tallies) = s.store.console_board(op.departments(), q).await?;
    let now = crate::time::now_ms();
    // Department → [none, green, yellow, red].
    let mut per_dept: BTreeMap<&str, [u32; 4]> = BTreeMap::new();
    for t in &tallies {
        let slot = usize::try_from(t.light).unwrap_or(0).min(3);
        per_dept.entry(t.department_id.as_str()).or_default()[slot] += t.count;
    }
    let total: u32 = tallies.iter().map(|t| t.count).sum();
    let body = html! {
        (form(&filters))
        h2 { "各部门 " small { "by department" } }
        table.tally {
            thead { tr { th { "部门 Department" } th.red { "红 red" } th.yellow { "黄 yellow" } th.green { "绿 green" } th { "无时钟 no clock" } } }
            tbody {
                @for (d, c) in &per_dept {
                    tr { td { (d) } td.num { (c[3]) } td.num { (c[2]) } td.num { (c[1]) } td.num { (c[0]) } }
                }
            }
        }
        h2 { "在办案件 " small { "open cases: " (total) @if total > ROWS { ", 显示前 " (ROWS) " showing the first " (ROWS) } } }
        @if rows.is_empty() {
            p.empty { "没有符合条件的在办案件 No open case matches" }
        } @else {
            table.board {
                thead { tr {
                    th { "灯 Light" } th { "案件 Case" } th { "部门 Department" } th { "区县 District" }
                    th { "层级 Level" } th { "渠道 Channel" } th { "类别 Category" } th { "状态 State" }
                    th { "期限 Due" } th { "超期 Overdue" } th { "报告 Reports" }
                } }
                tbody {
                    @for r in &rows {
                        @let (label, class) = layout::light(r.light);
                        @let late = now - r.unit_due_at_ms;
                        tr.(class) {
                            td { span class={"dot " (class)} {} " " (label) }
                            td { a href={"/console/cases/" (r.case_id)} { (r.case_id) } }
                            td { (r.department_id) }
                            td { (r.district_code) }
                            td { (layout::level(r.level)) }
                            td { (layout::channel(r.channel)) }
                            td { (r.category) }
                            td { (layout::status(r.status)) }
                            td { (layout::when(r.unit_due_at_ms)) }
                            td.num {
                                @if late > 0 { "超 " (layout::span(late)) } @else { "剩 " (layout::span(late)) }
                            }
                            td.num { (r.report_count) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page("Lights board", Nav::Lights, &op, body))
}
