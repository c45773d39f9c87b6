//! Provisional working-day calendars: the statutory public holidays (法定节假日) of a year that
//! has no official file yet, derived from what the law itself fixes.
//!
//! The State Council's yearly notice (the source of `config/calendar/<year>.toml`) is published
//! in November for the next year; before that, only 《全国年节及纪念日放假办法》 (as revised in
//! 2024, in force since 2025-01-01) is known: 元旦 1 January; 春节 除夕 and 正月初一 to 初三;
//! 清明节 on the day of the solar term 清明 (Beijing time); 劳动节 1 and 2 May; 端午节 五月初五;
//! 中秋节 八月十五; 国庆节 1 to 3 October. This module owns turning those rules into local day
//! numbers for one Gregorian year. Weekends and the make-up working days (调休) are not its
//! business: weekends are the caller's, and make-up days exist only in the notice.
//!
//! Lunar dates and solar terms come from the `tyme4rs` crate rather than a table written here:
//! a hand-copied lunar table is exactly the kind of data that is wrong in one year nobody checks.
//!
//! The rules are the 2024 revision's for every year, including past ones (before 2025 the law
//! gave fewer days): a provisional calendar only matters for years the notice has not reached.
use std::ops::RangeInclusive;
use std::sync::OnceLock;

use minhu_adapter::civil::day_number;
use tyme4rs::tyme::lunar::LunarDay;
use tyme4rs::tyme::solar::{SolarDay, SolarTerm};

/// Years the generator answers for. The crate computes solar terms and new moons from tables
/// before 1960 and from an astronomical series after; across these years its calendar day of
/// 清明 agrees with its precise ephemeris time and no lunar year has the rare leap twelfth
/// month. The tests compute every year of the range, so the crate's internal `unwrap`s are
/// never reached from here. Further out, ΔT (the drift of Earth's rotation) is extrapolated
/// and a new moon near midnight could land on either day; a deadline must not rest on that.
pub const YEARS: RangeInclusive<i64> = 1901..=2199;

/// One statutory holiday of a year: its name (元旦, 春节, 清明节, 劳动节, 端午节, 中秋节,
/// 国庆节 — the same names as config/calendar/2026.toml) and its days as local day numbers
/// (days since 1970-01-01, proleptic Gregorian), sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statutory {
    /// The festival's name as the notices spell it.
    pub name: &'static str,
    /// Its days off by law, sorted.
    pub days: Vec<i64>,
}

/// The statutory holidays of `year`, in calendar order (by first day; 中秋节 can fall on or
/// after 1 October); None outside [`YEARS`].
///
/// One year costs about 0.45 ms unoptimised and 0.15 ms in release (four lunar or solar-term
/// conversions, each a few new-moon or solar-longitude series); the first call in a process
/// also pays the crate's one-off leap-month table decode, about 2.5 ms unoptimised and 0.4 ms
/// in release. Measured on the shared 2-core development machine (release: the same four crate
/// calls in a scratch binary); [`holiday_days`] pays it once per year per process.
pub fn statutory_holidays(year: i64) -> Option<Vec<Statutory>> {
    if !YEARS.contains(&year) {
        return None;
    }
    let y = isize::try_from(year).ok()?;
    let date = |m, d| day_number(year, m, d);
    // 除夕 is the last day of the previous lunar year, i.e. the day before 正月初一: taking it
    // that way needs neither the 29-or-30-day length of the twelfth month nor a leap twelfth.
    let new_year = lunar(y, 1, 1)?;
    let qingming = solar(&SolarTerm::new(y, "清明").ok()?.get_solar_day())?;
    let mut all = vec![
        Statutory {
            name: "元旦",
            days: vec![date(1, 1)?],
        },
        Statutory {
            name: "春节",
            days: (new_year - 1..=new_year + 2).collect(),
        },
        Statutory {
            name: "清明节",
            days: vec![qingming],
        },
        Statutory {
            name: "劳动节",
            days: vec![date(5, 1)?, date(5, 2)?],
        },
        Statutory {
            name: "端午节",
            days: vec![lunar(y, 5, 5)?],
        },
        Statutory {
            name: "中秋节",
            days: vec![lunar(y, 8, 15)?],
        },
        Statutory {
            name: "国庆节",
            days: vec![date(10, 1)?, date(10, 2)?, date(10, 3)?],
        },
    ];
    // Stable: on a tie (中秋节 on 1 October) the law's order stands.
    all.sort_by_key(|s| s.days.first().copied());
    Some(all)
}

/// The union of the statutory days of `year`, sorted and deduplicated (two holidays can fall on
/// one day, e.g. 中秋节 on 1 October 2020). None outside [`YEARS`].
///
/// Memoised per year: deadlines are computed on the request path, and the lunar computation
/// should run once per year per process, not once per ticket. After the first call for a year
/// this is an atomic load; the first callers of a year wait for one computation.
pub fn holiday_days(year: i64) -> Option<&'static [i64]> {
    let index = usize::try_from(year.checked_sub(FIRST_YEAR)?).ok()?;
    let slot = MEMO.get(index)?;
    slot.get_or_init(|| {
        statutory_holidays(year).map(|all| {
            let mut days: Vec<i64> = all.into_iter().flat_map(|s| s.days).collect();
            days.sort_unstable();
            days.dedup();
            days.into_boxed_slice()
        })
    })
    .as_deref()
}

const FIRST_YEAR: i64 = *YEARS.start();
const YEAR_COUNT: usize = (*YEARS.end() - FIRST_YEAR + 1) as usize;

/// One slot per year of [`YEARS`]; None inside a slot would mean the crate refused a year in
/// range, which the tests rule out but which must not panic on a request path.
static MEMO: [OnceLock<Option<Box<[i64]>>>; YEAR_COUNT] = [const { OnceLock::new() }; YEAR_COUNT];

/// The day number of the Gregorian date of lunar `month`/`day` (non-leap month) of lunar `year`.
fn lunar(year: isize, month: isize, day: usize) -> Option<i64> {
    solar(&LunarDay::new(year, month, day).ok()?.get_solar_day())
}

/// The day number of a crate date.
fn solar(d: &SolarDay) -> Option<i64> {
    day_number(
        i64::try_from(d.get_year()).ok()?,
        u32::try_from(d.get_month()).ok()?,
        u32::try_from(d.get_day()).ok()?,
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use tyme4rs::tyme::lunar::LunarYear;

    use super::*;
    use crate::router::calendar::{Calendar, YearFile, date_string, days_from_civil};

    fn config_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/calendar")
    }

    fn days_of(year: i64, name: &str) -> Vec<i64> {
        let all = statutory_holidays(year).unwrap();
        all.into_iter().find(|s| s.name == name).unwrap().days
    }

    fn dates(days: &[i64]) -> Vec<String> {
        days.iter().map(|&d| date_string(d)).collect()
    }

    fn toml_day(v: &toml::value::Datetime) -> i64 {
        let d = v.date.unwrap();
        days_from_civil(i64::from(d.year), u32::from(d.month), u32::from(d.day))
    }

    #[test]
    fn statutory_days_sit_inside_the_official_2025_and_2026_holidays() {
        let cal = Calendar::load_dir(&config_dir()).unwrap();
        for year in [2025, 2026] {
            let all = statutory_holidays(year).unwrap();
            let count = |name| all.iter().find(|s| s.name == name).map(|s| s.days.len());
            assert_eq!(all.len(), 7);
            for (name, n) in [
                ("元旦", 1),
                ("春节", 4),
                ("清明节", 1),
                ("劳动节", 2),
                ("端午节", 1),
                ("中秋节", 1),
                ("国庆节", 3),
            ] {
                assert_eq!(count(name), Some(n), "{year} {name}");
            }
            for s in &all {
                for &d in &s.days {
                    assert_eq!(
                        cal.is_working_day(d),
                        Ok(false),
                        "{} {}",
                        s.name,
                        date_string(d)
                    );
                }
            }
            // Festival by festival: each official range (名 or 名、名) holds its festivals' days,
            // and every festival is named by some range.
            let text = std::fs::read_to_string(config_dir().join(format!("{year}.toml"))).unwrap();
            let file: YearFile = toml::from_str(&text).unwrap();
            let mut named = Vec::new();
            for h in &file.holidays {
                let range = toml_day(&h.from)..=toml_day(&h.to);
                for name in h.name.split('、') {
                    let days = days_of(year, name);
                    assert!(
                        days.iter().all(|d| range.contains(d)),
                        "{year} {name}: {:?} outside {}..{}",
                        dates(&days),
                        h.from,
                        h.to
                    );
                    named.push(name.to_string());
                }
            }
            named.sort();
            let mut want: Vec<String> = all.iter().map(|s| s.name.to_string()).collect();
            want.sort();
            assert_eq!(named, want, "{year}");
        }
    }

    #[test]
    fn provisional_2027() {
        assert_eq!(
            dates(&days_of(2027, "春节")),
            ["2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"]
        );
        assert_eq!(dates(&days_of(2027, "清明节")), ["2027-04-05"]);
        assert_eq!(dates(&days_of(2027, "端午节")), ["2027-06-09"]);
        assert_eq!(dates(&days_of(2027, "中秋节")), ["2027-09-15"]);
        assert_eq!(
            dates(&days_of(2027, "劳动节")),
            ["2027-05-01", "2027-05-02"]
        );
        assert_eq!(holiday_days(2027).map(<[i64]>::len), Some(13));
        // Calendar order is by first day: in 2025 中秋节 (6 October) comes after 国庆节.
        let names: Vec<&str> = statutory_holidays(2025)
            .unwrap()
            .iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names[5..], ["国庆节", "中秋节"]);
        // The year after the "2033 problem" (a leap eleventh month that naive rules misplace):
        // 正月初一 2034 is 19 February.
        assert_eq!(days_of(2034, "春节")[1], days_from_civil(2034, 2, 19));
    }

    #[test]
    fn out_of_range_is_none_and_shared_days_count_once() {
        for year in [i64::MIN, -1, 0, 1900, 2200, i64::MAX] {
            assert_eq!(statutory_holidays(year), None, "{year}");
            assert_eq!(holiday_days(year), None, "{year}");
        }
        assert!(holiday_days(*YEARS.start()).is_some());
        assert!(holiday_days(*YEARS.end()).is_some());
        // 2020: 中秋节 on 1 October, the first day of 国庆节; the law's order stands on the tie.
        let all = statutory_holidays(2020).unwrap();
        let names: Vec<&str> = all.iter().map(|s| s.name).collect();
        assert_eq!(names[5..], ["中秋节", "国庆节"]);
        assert_eq!(dates(&all[5].days), ["2020-10-01"]);
        let days = holiday_days(2020).unwrap();
        assert_eq!(days.len(), 12);
        assert!(days.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(days.iter().filter(|&&d| d == all[6].days[0]).count(), 1);
        // Memoised: the second call hands back the same slice.
        assert!(std::ptr::eq(days, holiday_days(2020).unwrap()));
    }

    /// Every year of YEARS: computable, inside its year, in order, with the festivals in their
    /// possible windows; 除夕 is the last day of the previous lunar year's last month (leap or
    /// not); the calendar day of 清明 is the day of its precise time.
    #[test]
    fn every_year_in_range_is_sane() {
        for year in YEARS {
            let all = statutory_holidays(year).unwrap();
            let first = days_from_civil(year, 1, 1);
            let last = days_from_civil(year, 12, 31);
            for s in &all {
                assert!(s.days.windows(2).all(|w| w[0] < w[1]), "{year} {}", s.name);
                assert!(s.days.iter().all(|d| (first..=last).contains(d)));
            }
            let starts: Vec<i64> = all.iter().map(|s| s.days[0]).collect();
            assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{year}");
            let within = |name, from: (u32, u32), to: (u32, u32)| {
                let days = days_of(year, name);
                let range =
                    days_from_civil(year, from.0, from.1)..=days_from_civil(year, to.0, to.1);
                assert!(range.contains(&days[0]), "{year} {name} {:?}", dates(&days));
            };
            within("春节", (1, 20), (2, 19));
            within("清明节", (4, 4), (4, 6));
            within("端午节", (5, 27), (6, 26));
            within("中秋节", (9, 7), (10, 8));

            let y = isize::try_from(year).unwrap();
            let prev = LunarYear::new(y - 1).unwrap();
            assert!(prev.get_leap_month() != 12, "{year}");
            let month = prev.get_months().pop().unwrap();
            let eve = LunarDay::new(y - 1, month.get_month_with_leap(), month.get_day_count());
            let eve = solar(&eve.unwrap().get_solar_day()).unwrap();
            assert_eq!(eve, days_of(year, "春节")[0], "{year}");

            let term = SolarTerm::new(y, "清明").unwrap();
            let precise = solar(&term.get_julian_day().get_solar_day()).unwrap();
            assert_eq!(precise, days_of(year, "清明节")[0], "{year}");
        }
    }
}
