//! 分析 Analysis (the seeds' "未呼先应", act before being called): the top ten categories this
//! week against last week, the districts shaded by open cases ([`super::map`]) and, for a chosen
//! district (`?district=610104`), its streets ([`super::map::streets`]), and rising problems, a category in a district well above its own baseline ([`super::rising`], whose
//! rule the page prints). Weeks are local (Asia/Shanghai) and start on Monday, as the
//! centre's weekly reports do. Every figure counts only the cases the operator may see.
use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::response::Html;
use maud::{Markup, html};

use super::ConsoleState;
use super::error::ConsoleError;
use super::layout::{self, Nav};
use super::map::{self, MapState, streets};
use super::rising::{self, Verdict};
use super::session::Operator;
use crate::store::{Analysis, CategoryWeeks, PERIODS, WEEK_MS};
use crate::time::CST_OFFSET_SECS;

/// The start of the local week (Monday 00:00 Asia/Shanghai) that `ms` falls in.
pub fn week_start_ms(ms: i64) -> i64 {
    let day = crate::time::local_day(ms);
    // Day 0 (1970-01-01) was a Thursday: three days after a Monday.
    let monday = day - (day + 3).rem_euclid(7);
    monday * 86_400_000 - CST_OFFSET_SECS * 1000
}

/// A flagged (category, district) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Rising {
    pub category: String,
    pub district_code: String,
    pub verdict: Verdict,
    /// The baseline periods the store covered (at most [`rising::BASELINE_WEEKS`]).
    pub baseline_weeks: usize,
}

/// How many 7-day periods before the current one the store covers at `now_ms`: a period that
/// began before its first case is not known to have been quiet.
pub fn covered_periods(first_opened_at_ms: Option<i64>, now_ms: i64) -> usize {
    let Some(first) = first_opened_at_ms else {
        return 0;
    };
    let whole = (now_ms - first).div_euclid(WEEK_MS) - 1;
    usize::try_from(whole)
        .unwrap_or(0)
        .min(rising::BASELINE_WEEKS)
        .min(PERIODS - 1)
}

/// The pairs tested (those with a case in the last 7 days) and the flagged ones, most
/// significant first.
pub fn rising_pairs(a: &Analysis, now_ms: i64) -> (usize, Vec<Rising>) {
    let covered = covered_periods(a.first_opened_at_ms, now_ms);
    let mut tested = 0;
    let mut out = Vec::new();
    for p in a.pairs.iter().filter(|p| p.counts[0] > 0) {
        let Some(verdict) = rising::assess(p.counts[0], &p.counts[1..=covered]) else {
            continue;
        };
        tested += 1;
        if verdict.rising {
            out.push(Rising {
                category: p.category.clone(),
                district_code: p.district_code.clone(),
                verdict,
                baseline_weeks: covered,
            });
        }
    }
    out.sort_by(|a, b| a.verdict.p.total_cmp(&b.verdict.p));
    (tested, out)
}

fn category(code: &str) -> Markup {
    html! { @if code.is_empty() { "未分类 " small { "uncategorized" } } @else { (code) } }
}

/// A p-value as a reader can compare it with 0.01.
fn p_value(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.2e}")
    } else {
        format!("{p:.3}")
    }
}

fn change(now: u32, before: u32) -> Markup {
    let d = i64::from(now) - i64::from(before);
    let class = match d {
        d if d > 0 => "up",
        d if d < 0 => "down",
        _ => "same",
    };
    html! {
        td.num class=(class) {
            @if d > 0 { "+" } (d)
            @if before > 0 { " (" @if d > 0 { "+" } (d * 100 / i64::from(before)) "%)" }
        }
    }
}

fn top_table(top: &[CategoryWeeks], week_start: i64) -> Markup {
    html! {
        h2 { "类别前十 " small { "top 10 categories, cases opened" } }
        p.note {
            "本周自 " (layout::when(week_start)) " 起 (周一开始)。 "
            small { "This week runs from Monday " (layout::when(week_start))
                "; the change compares it with last week up to the same time." }
        }
        @if top.is_empty() {
            p.empty { "本周和上周没有新立案件 " small { "No case was opened this week or last" } }
        } @else {
            table.top {
                thead { tr {
                    th { "类别 Category" } th { "本周 This week" }
                    th { "上周同期 Last week, same span" } th { "变化 Change" }
                    th { "上周全周 Last week, whole" }
                } }
                tbody {
                    @for t in top {
                        tr data-category=(t.category) {
                            td { (category(&t.category)) }
                            td.num.this { (t.this_week) }
                            td.num { (t.last_week_so_far) }
                            (change(t.this_week, t.last_week_so_far))
                            td.num { (t.last_week) }
                        }
                    }
                }
            }
        }
    }
}

/// The district in the page's query (`district=`), if one was chosen; a value that cannot be a
/// district code is refused rather than silently showing the whole city.
fn chosen_district(query: Option<&str>) -> Result<Option<String>, ConsoleError> {
    let district = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "district")
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    match district {
        Some(d) if !streets::is_district_code(&d) => {
            Err(ConsoleError::BadRequest("district must be a 6-digit code"))
        }
        d => Ok(d),
    }
}

/// The district map; `with_streets` are the districts it links to their streets.
fn map_section(state: &MapState, open: &HashMap<String, u32>, with_streets: &[String]) -> Markup {
    let link = |d: &map::Area| {
        with_streets
            .binary_search(&d.code)
            .ok()
            .map(|_| format!("/console/analysis?district={}#streets", d.code))
    };
    html! {
        h2 #map { "区县在办案件 " small { "open cases by district" } }
        @match state {
            MapState::Ready(m) => (map::render(m, open, &link)),
            MapState::Missing(path) => p.note.map-missing {
                "没有区县地图。 " small { "No district map: put a GeoJSON FeatureCollection of the \
                districts (properties adcode and name) at " code { (path.display()) } " (docs/operators.md, \"Console\")." }
            },
            MapState::Invalid(why) => p.error.map-invalid { "区县地图无法显示 The district map cannot be drawn: " (why) },
        }
    }
}

fn rule() -> Markup {
    html! {
        p.rule {
            "检验方法:单侧泊松检验。k = 某区县某类别近7天新立案件数;λ = 此前" (rising::BASELINE_WEEKS)
            "个7天的平均数(只计本库已有数据的周期,至少 " (rising::LAMBDA_FLOOR) ");当 P(X ≥ k | λ) < " (rising::ALPHA)
            " 且 k ≥ " (rising::MIN_COUNT) " 时标记为上升。"
            br;
            small { "Test: one-sided Poisson. k = cases of a category in a district opened in the \
                last 7 days; λ = their mean over the " (rising::BASELINE_WEEKS) " periods of 7 days \
                before (only periods the store covers), at least " (rising::LAMBDA_FLOOR)
                "; flagged when P(X ≥ k | X ~ Poisson(λ)) < " (rising::ALPHA) " and k ≥ "
                (rising::MIN_COUNT) "." }
        }
    }
}

fn rising_section(tested: usize, rows: &[Rising], names: &HashMap<String, String>) -> Markup {
    html! {
        h2 { "上升问题 " small { "rising problems" } }
        (rule())
        @if rows.is_empty() {
            p.empty.no-rising {
                "没有上升的问题 " small { "Nothing is rising" }
                " (" (tested) " 组已检验 pairs tested)"
            }
        } @else {
            table.rising {
                thead { tr {
                    th { "类别 Category" } th { "区县 District" } th { "k 近7天 last 7 days" }
                    th { "λ 基线 baseline" } th { "p" } th { "基线周数 Baseline weeks" }
                } }
                tbody {
                    @for r in rows {
                        tr {
                            td { (category(&r.category)) }
                            td { @if let Some(n) = names.get(&r.district_code) { (n) " " } (r.district_code) }
                            td.num.k { (r.verdict.k) }
                            td.num.lambda { (format!("{:.2}", r.verdict.lambda)) }
                            td.num.p { (p_value(r.verdict.p)) }
                            td.num { (r.baseline_weeks) }
                        }
                    }
                }
            }
            p.note { (tested) " 组已检验 " small { "pairs tested" } }
        }
    }
}

pub async fn page(
    State(s): State<ConsoleState>,
    op: Operator,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ConsoleError> {
    let chosen = chosen_district(query.as_deref())?;
    let now = crate::time::now_ms();
    let week_start = week_start_ms(now);
    let analysis = s
        .store
        .console_analysis(op.departments(), now, week_start)
        .await?;
    let file = s.map.clone();
    let (map_state, street_state) =
        tokio::task::spawn_blocking(move || (file.districts.read(), file.streets.read()))
            .await
            .unwrap_or_else(|_| {
                let why = || MapState::Invalid("the map could not be read".to_owned());
                (why(), why())
            });
    let open: HashMap<String, u32> = analysis.open_by_district.iter().cloned().collect();
    let names: HashMap<String, String> = match &map_state {
        MapState::Ready(m) => m
            .areas
            .iter()
            .map(|d| (d.code.clone(), d.name.clone()))
            .collect(),
        _ => HashMap::new(),
    };
    let (tested, rows) = rising_pairs(&analysis, now);
    let body = html! {
        (top_table(&analysis.top, week_start))
        (map_section(&map_state, &open, &streets::districts_with_streets(&street_state)))
        @if let Some(d) = &chosen {
            (streets::section(&street_state, d, names.get(d).map(String::as_str), &analysis.open_by_street))
        } @else {
            (streets::hint(&street_state))
        }
        (rising_section(tested, &rows, &names))
    };
    Ok(layout::page("Analysis", Nav::Analysis, &op, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PairPeriods;

    /// 2026-11-25 (a Wednesday) 12:00 in Shanghai.
    const WED_NOON: i64 = 1_795_579_200_000;

    #[test]
    fn weeks_start_on_monday_at_shanghai_midnight() {
        assert_eq!(crate::time::local_minute(WED_NOON), "2026-11-25 12:00");
        let monday = week_start_ms(WED_NOON);
        assert_eq!(crate::time::local_minute(monday), "2026-11-23 00:00");
        // Monday 00:00 local begins its week, though it is still Sunday in UTC; the
        // millisecond before it (Sunday 23:59:59.999 local) is in the week before.
        assert_eq!(week_start_ms(monday), monday);
        assert_eq!(week_start_ms(monday - 1), monday - WEEK_MS);
        assert_eq!(week_start_ms(monday + WEEK_MS - 1), monday);
        // Before 1970 the weekday arithmetic holds too.
        let old = week_start_ms(-1);
        assert_eq!(crate::time::local_minute(old), "1969-12-29 00:00");
    }

    #[test]
    fn the_baseline_covers_only_periods_after_the_first_case() {
        assert_eq!(covered_periods(None, WED_NOON), 0);
        assert_eq!(covered_periods(Some(WED_NOON - WEEK_MS), WED_NOON), 0);
        assert_eq!(covered_periods(Some(WED_NOON - 2 * WEEK_MS), WED_NOON), 1);
        assert_eq!(covered_periods(Some(WED_NOON - 100 * WEEK_MS), WED_NOON), 8);
        assert_eq!(covered_periods(Some(WED_NOON + 5), WED_NOON), 0);
    }

    #[test]
    fn pairs_are_tested_against_the_covered_baseline_only() {
        let pair = |k: u32, rest: [u32; 8]| PairPeriods {
            category: "road.pothole".into(),
            district_code: "610104".into(),
            counts: [
                k, rest[0], rest[1], rest[2], rest[3], rest[4], rest[5], rest[6], rest[7],
            ],
        };
        // Six now, one a week for two covered weeks; the older weeks' nine are before the
        // store's first case and so cannot be in the store at all: the test ignores them.
        let a = Analysis {
            pairs: vec![pair(6, [1, 1, 9, 9, 9, 9, 9, 9]), pair(0, [3; 8])],
            first_opened_at_ms: Some(WED_NOON - 3 * WEEK_MS),
            ..Default::default()
        };
        let (tested, rows) = rising_pairs(&a, WED_NOON);
        assert_eq!(tested, 1, "a pair with nothing this week is not tested");
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].verdict.lambda, rows[0].baseline_weeks), (1.0, 2));
        // A store younger than two weeks has no baseline: nothing is called rising.
        let young = Analysis {
            first_opened_at_ms: Some(WED_NOON - WEEK_MS),
            ..a
        };
        assert_eq!(rising_pairs(&young, WED_NOON), (0, vec![]));
    }

    #[test]
    fn a_district_is_chosen_by_its_code_only() {
        assert_eq!(chosen_district(None).ok(), Some(None));
        assert_eq!(chosen_district(Some("district=")).ok(), Some(None));
        assert_eq!(
            chosen_district(Some("x=1&district=610104")).ok(),
            Some(Some("610104".to_owned()))
        );
        for bad in ["district=6101", "district=610104001", "district=%E8%8E%B2"] {
            assert!(chosen_district(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_missing_map_is_a_note_saying_where_to_put_it() {
        let path = std::path::PathBuf::from("/etc/minhu/areas/districts.geojson");
        let html = map_section(&MapState::Missing(path), &HashMap::new(), &[]).into_string();
        assert!(html.contains("No district map"), "{html}");
        assert!(html.contains("<code>/etc/minhu/areas/districts.geojson</code>"));
        let bad = map_section(
            &MapState::Invalid("d.geojson: feature 2: no geometry".into()),
            &HashMap::new(),
            &[],
        );
        assert!(bad.into_string().contains("feature 2: no geometry"));
    }
}
