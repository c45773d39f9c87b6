//! Deadlines that reach into a year without an official calendar file: a warning and a
//! provisional count, on a small file and on the shipped sample, and an error only where no
//! calendar can count at all.
use super::Router;
use super::calendar::days_from_civil;
use super::tests::{BASE, MON_10AM, compile_at, config_dir, req};
use crate::config::routing::RoutingConfig;
use crate::pb;

#[test]
fn a_deadline_into_a_year_without_a_file_is_a_warning_not_an_error() {
    // 28 December 2026 + 5 working days runs into 2027, which has no official file: the
    // router compiles, and says which year is provisional and what to add.
    let dec28 = (days_from_civil(2026, 12, 28) * 24 + 2) * 3_600_000;
    let r = compile_at(BASE, dec28).unwrap();
    let years = r.provisional_years(dec28);
    assert_eq!(years.iter().map(|y| y.year).collect::<Vec<_>>(), [2027]);
    let text = years[0].to_string();
    assert!(
        text.contains("rule[1]: a deadline of 5 working days from 2026-12-28 reaches 2027"),
        "{text}"
    );
    assert!(
        text.contains("2027.toml or 2027.json")
            && text.contains("国务院办公厅关于2027年部分节假日安排的通知"),
        "{text}"
    );
    // The route itself carries the provisional year.
    let routed = r.route(
        &req(pb::Channel::Hotline12345, "road.manhole", "610104"),
        dec28,
    );
    assert_eq!(routed.decision.provisional_years, [2027]);
    assert_eq!(routed.decision.counted_from_ms, dec28);
    let metrics = super::coverage::render_metrics(&r, dec28);
    assert!(
        metrics.contains("minhu_calendar_provisional{year=\"2027\"} 1"),
        "{metrics}"
    );
    assert_eq!(routed.decision.working_days, Some(5));
    assert!(routed.calendar_gap.is_none());
    // In November 2026 nothing is provisional.
    assert!(
        compile_at(BASE, MON_10AM)
            .unwrap()
            .provisional_years(MON_10AM)
            .is_empty()
    );
    // Only a year that no calendar can count is an error (the generator stops at 2199).
    let far = (days_from_civil(2199, 12, 28) * 24 + 2) * 3_600_000;
    let err = compile_at(BASE, far).unwrap_err().to_string();
    assert!(
        err.contains(
            "rule[1]: a deadline of 5 working days from today (2199-12-28) cannot be counted"
        ),
        "{err}"
    );
}

#[test]
fn the_sample_passes_in_every_december_with_a_warning() {
    // The sample's longest working-day deadline is 13 days. From mid-December it reaches the
    // next year, whose notice may not be out: the config still passes, with a warning.
    let path = config_dir().join("routing.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cfg: RoutingConfig = toml::from_str(&text).unwrap();
    for (y, m, d) in [(2026, 12, 15), (2027, 12, 20), (2030, 12, 31)] {
        let at = (days_from_civil(y, m, d) * 24 + 2) * 3_600_000;
        let r = Router::compile_at(&cfg, &path, &text, at).unwrap();
        let years: Vec<i64> = r.provisional_years(at).iter().map(|p| p.year).collect();
        assert!(years.contains(&(y + 1)), "{y}-{m}-{d}: {years:?}");
    }
}
