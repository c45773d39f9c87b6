//! 部门排名 Departments: the 谁呼谁评 ranking over a chosen period (average score,
//! satisfaction, completion and timeliness rates, returns, reopened cases), with bar charts
//! drawn on the server, and — for a department the operator may see — its scored cases.
//!
//! The figures are what `minhu.v1.Handling.GetDepartmentScores` answers, through the same
//! function ([`crate::handling::scores::answer`]), so the page and the gRPC call cannot
//! disagree, and who sees what is decided there: every operator acting for a department (and
//! the coordination centre) sees the whole table; per-case detail only for its own
//! departments. Periods are whole local (Asia/Shanghai) days, `from` to `to` inclusive.
use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::response::Html;
use maud::{Markup, html};

use super::ConsoleState;
use super::chart::{self, Bar};
use super::error::ConsoleError;
use super::layout::{self, Nav};
use super::session::Operator;
use crate::handling::error::HandlingError;
use crate::pb;
use crate::time::{CST_OFFSET_SECS, civil_from_days, local_day, ms_to_timestamp, now_ms};

/// Days shown when the form names none: the last 30, today included.
const DEFAULT_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

/// The chosen period: local day numbers (since 1970-01-01), both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days {
    pub from: i64,
    pub to: i64,
}

impl Days {
    /// From the form's `from` and `to` (`YYYY-MM-DD`); a blank one takes its default: `to`
    /// today, `from` [`DEFAULT_DAYS`] before `to`.
    pub fn parse(from: &str, to: &str, today: i64) -> Result<Self, ConsoleError> {
        let to = match to.trim() {
            "" => today,
            t => date(t).ok_or(ConsoleError::BadRequest(
                "to must be a date such as 2026-11-30",
            ))?,
        };
        let from = match from.trim() {
            "" => to - (DEFAULT_DAYS - 1),
            f => date(f).ok_or(ConsoleError::BadRequest(
                "from must be a date such as 2026-11-01",
            ))?,
        };
        if from > to {
            return Err(ConsoleError::BadRequest("from must not be after to"));
        }
        Ok(Self { from, to })
    }

    /// `[start of from, start of the day after to)` in ms since the epoch.
    pub fn bounds_ms(self) -> (i64, i64) {
        let start = |day: i64| day * DAY_MS - CST_OFFSET_SECS * 1000;
        (start(self.from), start(self.to + 1))
    }
}

/// A plain `YYYY-MM-DD` (what `<input type=date>` sends) as a day number; None otherwise.
fn date(s: &str) -> Option<i64> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let digits = minhu_adapter::civil::digits;
    minhu_adapter::civil::day_number(
        digits(y)?,
        u32::try_from(digits(m)?).ok()?,
        u32::try_from(digits(d)?).ok()?,
    )
}

/// A day number as `YYYY-MM-DD`.
fn day_text(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Hundredths as a score: `92.00`.
fn hundredths(h: u32) -> String {
    format!("{}.{:02}", h / 100, h % 100)
}

/// A rate as a percentage with its fraction, `75.00% 3/4`; `–` when nothing was counted.
fn rate_text(r: Option<&pb::ScoreRate>) -> String {
    match r {
        Some(r) if r.denominator > 0 => format!(
            "{}% {}/{}",
            hundredths(r.basis_points),
            r.numerator,
            r.denominator
        ),
        _ => "–".to_owned(),
    }
}

fn rate_value(r: Option<&pb::ScoreRate>) -> Option<u64> {
    r.filter(|r| r.denominator > 0)
        .map(|r| u64::from(r.basis_points))
}

/// The answer's errors as the console's. A denial is told in the console's words (the gRPC
/// message names the call's fields); anything else is the store failing.
fn console_error(e: HandlingError, op: &Operator, department: Option<&str>) -> ConsoleError {
    match e {
        HandlingError::Invalid(_) => {
            ConsoleError::BadRequest("no such department in the routing config")
        }
        HandlingError::PermissionDenied(_) => match department {
            Some(d) if !op.may_see(d) => ConsoleError::Forbidden(
                "per-case scores are for the department itself and the coordination centre",
            ),
            _ => ConsoleError::Forbidden(
                "the ranking is for departments' operators and the coordination centre",
            ),
        },
        // The store failing or closing: the console's one mapping of handling errors.
        other => ConsoleError::from(other),
    }
}

pub async fn page(
    State(s): State<ConsoleState>,
    op: Operator,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ConsoleError> {
    let q: HashMap<String, String> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| q.get(k).map(|v| v.trim()).unwrap_or("");
    let days = Days::parse(get("from"), get("to"), local_day(now_ms()))?;
    let department = Some(get("department")).filter(|d| !d.is_empty());
    if department.is_some_and(|d| d.len() > 64) {
        return Err(ConsoleError::BadRequest("department id too long"));
    }
    let (start, end) = days.bounds_ms();
    let req = pb::GetDepartmentScoresRequest {
        start: Some(ms_to_timestamp(start)),
        end: Some(ms_to_timestamp(end)),
        department_id: department.unwrap_or("").to_owned(),
    };
    let answer = crate::handling::scores::answer(&s.store, &s.router, req, Some(&op.caller))
        .await
        .map_err(|e| console_error(e, &op, department))?;
    let names: HashMap<String, String> = layout::departments(&s.router).into_iter().collect();
    let body = html! {
        (period_form(days))
        @if answer.departments.is_empty() {
            p.empty { "这段时间没有已评分的案件 No case was scored in this period" }
        } @else {
            (table(&answer.departments, &names, &op, days))
            (charts(&answer.departments, &op))
        }
        @if let Some(d) = department {
            (cases(d, &answer.cases))
        }
        p.note {
            "一事一评：案件评价收齐（或回访期满）后计分，按计分时间归入期间。"
            small { " Each case is scored once its ratings are in (or the rating window has passed) and counts in the period of that time. Same figures as Handling.GetDepartmentScores." }
        }
    };
    Ok(layout::page("Departments", Nav::Departments, &op, body))
}

fn period_form(days: Days) -> Markup {
    html! {
        form.filters method="get" action="/console/departments" {
            label { "自 From " input type="date" name="from" value=(day_text(days.from)); }
            label { "至 To " input type="date" name="to" value=(day_text(days.to)); }
            button type="submit" { "查看 Show" }
            span.note { "北京时间 Asia/Shanghai, " (days.to - days.from + 1) " 天 days" }
        }
    }
}

fn table(
    rows: &[pb::DepartmentScore],
    names: &HashMap<String, String>,
    op: &Operator,
    days: Days,
) -> Markup {
    html! {
        table.ranking {
            thead { tr {
                th { "名次 Rank" } th { "部门 Department" } th { "案件 Cases" } th { "办结 Completed" }
                th { "平均分 Average" } th { "满意率 Satisfaction" } th { "按期办结率 On time" }
                th { "及时签收率 Signed in time" } th { "退单 Returns" } th { "二次办理 Reopened" }
                th { "未评价 Unrated" }
            } }
            tbody {
                @for d in rows {
                    tr data-department=(d.department_id) {
                        td.num { (d.rank) }
                        td {
                            @if op.may_see(&d.department_id) {
                                a href={"/console/departments?from=" (day_text(days.from)) "&to=" (day_text(days.to)) "&department=" (d.department_id) "#cases"} { (d.department_id) }
                            } @else {
                                (d.department_id)
                            }
                            @if let Some(n) = names.get(&d.department_id) { " " small { (n) } }
                        }
                        td.num { (d.cases) }
                        td.num { (d.completed) }
                        td.num { (hundredths(d.average_score_hundredths)) }
                        td.num { (rate_text(d.satisfaction.as_ref())) " (" (d.satisfaction_rank) ")" }
                        td.num { (rate_text(d.completion.as_ref())) " (" (d.completion_rank) ")" }
                        td.num { (rate_text(d.timeliness.as_ref())) " (" (d.timeliness_rank) ")" }
                        td.num { (d.returns) }
                        td.num { (d.reopened) }
                        td.num { (d.unrated) }
                    }
                }
            }
        }
        p.note { "括号内为该项名次（并列同名次）。 " small { "Ranks on each rate in brackets; equal figures share a rank." } }
    }
}

/// One chart per measure, bars in ranking order; the operator's own departments marked.
fn charts(rows: &[pb::DepartmentScore], op: &Operator) -> Markup {
    let own = |d: &pb::DepartmentScore| {
        (!op.caller.coordinates() && op.may_see(&d.department_id)).then_some("own")
    };
    let average: Vec<Bar> = rows
        .iter()
        .map(|d| Bar {
            label: d.department_id.clone(),
            value: Some(u64::from(d.average_score_hundredths)),
            shown: hundredths(d.average_score_hundredths),
            class: own(d),
        })
        .collect();
    let rate_bars = |pick: fn(&pb::DepartmentScore) -> Option<&pb::ScoreRate>| -> Vec<Bar> {
        rows.iter()
            .map(|d| Bar {
                label: d.department_id.clone(),
                value: rate_value(pick(d)),
                shown: rate_text(pick(d)),
                class: own(d),
            })
            .collect()
    };
    html! {
        div.charts {
            (chart::horizontal("平均分 Average score", &average, 10_000))
            (chart::horizontal("满意率 Satisfaction", &rate_bars(|d| d.satisfaction.as_ref()), 10_000))
            (chart::horizontal("按期办结率 Completed on time", &rate_bars(|d| d.completion.as_ref()), 10_000))
            (chart::horizontal("及时签收率 Signed for in time", &rate_bars(|d| d.timeliness.as_ref()), 10_000))
        }
    }
}

fn part_name(p: i32) -> &'static str {
    match pb::ScorePart::try_from(p) {
        Ok(pb::ScorePart::Responsiveness) => "响应 responsiveness",
        Ok(pb::ScorePart::Cooperation) => "配合 cooperation",
        Ok(pb::ScorePart::Completion) => "办结 completion",
        Ok(pb::ScorePart::Satisfaction) => "满意 satisfaction",
        _ => "?",
    }
}

fn cases(department: &str, rows: &[pb::CaseScore]) -> Markup {
    html! {
        h2 #cases { (department) " 的案件评分 " small { "scored cases" } }
        @if rows.is_empty() {
            p.empty { "这段时间没有 " (department) " 的已评分案件 No scored case of " (department) " in this period" }
        } @else {
            table.scores {
                thead { tr {
                    th { "案件 Case" } th { "计分时间 Counted" } th { "得分 Score" }
                    th { "各项 Parts" } th { "扣分原因 Deductions" }
                } }
                tbody {
                    @for c in rows {
                        tr {
                            td { a href={"/console/cases/" (c.case_id)} { (c.case_id) } }
                            td { (c.counted_at.as_ref().map(|t| layout::when(crate::time::timestamp_to_ms(t))).unwrap_or_default()) }
                            td.num { (hundredths(c.total_hundredths)) }
                            td { @for p in &c.parts { (part_name(p.part)) " " (p.points) br; } }
                            td { @for p in &c.parts { @for d in &p.deductions { "−" (d.points) " " (d.reason) br; } } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_23: i64 = 20_780; // 2026-11-23

    #[test]
    fn a_blank_form_is_the_last_thirty_days() {
        let d = Days::parse("", "", NOV_23).unwrap();
        assert_eq!((d.from, d.to), (NOV_23 - 29, NOV_23));
        assert_eq!(day_text(d.from), "2026-10-25");
        let only_to = Days::parse(" ", "2026-11-10", NOV_23).unwrap();
        assert_eq!(day_text(only_to.from), "2026-10-12");
    }

    #[test]
    fn days_are_whole_shanghai_days() {
        let d = Days::parse("2026-11-23", "2026-11-23", 0).unwrap();
        let (start, end) = d.bounds_ms();
        // 2026-11-23 00:00 in Shanghai is 2026-11-22T16:00Z.
        assert_eq!(start, 1_795_363_200_000);
        assert_eq!(end - start, DAY_MS);
        assert_eq!(local_day(start), NOV_23);
        assert_eq!(local_day(end - 1), NOV_23);
        assert_eq!(local_day(end), NOV_23 + 1);
    }

    #[test]
    fn bad_dates_are_refused_with_the_field() {
        for (from, to, why) in [
            ("2026-02-30", "", "from"),
            ("2026-1-5", "", "from"),
            ("", "yesterday", "to"),
            ("", "2026-11-23T00:00", "to"),
            ("+202-11-23", "", "from"),
            ("2026-11-24", "2026-11-23", "after"),
        ] {
            match Days::parse(from, to, NOV_23) {
                Err(ConsoleError::BadRequest(m)) => assert!(m.contains(why), "{from} {to}: {m}"),
                other => panic!("{from:?} {to:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn rates_read_as_percentages_or_a_dash() {
        let r = pb::ScoreRate {
            numerator: 3,
            denominator: 4,
            basis_points: 7_500,
        };
        assert_eq!(rate_text(Some(&r)), "75.00% 3/4");
        assert_eq!(rate_value(Some(&r)), Some(7_500));
        let none = pb::ScoreRate::default();
        assert_eq!(rate_text(Some(&none)), "–");
        assert_eq!(rate_value(Some(&none)), None);
        assert_eq!(hundredths(9_205), "92.05");
    }
}
