//! Working-day calendars (工作日历): which local (Asia/Shanghai) days count as working days
//! for deadlines in working days.
//!
//! The official calendar is Monday to Friday, minus the public holidays, plus the make-up
//! working days (调休) that the State Council's yearly notice turns from weekend days into
//! working days. It is kept as one file per year in `config/calendar/` ([`load`]).
//!
//! The notice for a year comes out in November or later, so every December a gateway would
//! otherwise count deadlines into a year it knows nothing of. A year without a file is
//! *provisional* ([`provisional`]): weekends and the statutory holidays that the law fixes
//! (lunar dates from a crate), without make-up days, which only the notice says. Every answer
//! says whether it was provisional, so a deadline that counted such a day is marked and
//! recomputed when the official file arrives. Only years outside what the provisional
//! generator covers are not known at all ([`Uncovered`]).
use std::collections::BTreeMap;
use std::path::PathBuf;

pub mod cli;
pub mod holiday_cn;
pub mod load;
pub mod provisional;

pub use load::{Holiday, MakeUpDay, YearFile};

use crate::time::civil_from_days;

/// A day the calendar cannot answer for: its year has no file and is outside the years a
/// provisional calendar is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the working-day calendar has no file for {year}, and {year} is outside the years a provisional calendar is computed for"
)]
pub struct Uncovered {
    /// The year that is missing.
    pub year: i64,
}

/// An official year: its file and its checked days.
#[derive(Debug, Clone)]
pub struct OfficialYear {
    /// Where it was read from.
    pub file: PathBuf,
    /// The file as read.
    pub data: YearFile,
    /// Its holidays and make-up working days as local day numbers.
    pub days: load::CheckedYear,
}

/// What the calendar says of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    /// A working day.
    pub working: bool,
    /// Answered from a provisional year (no official file yet).
    pub provisional: bool,
}

/// Which days are working days.
#[derive(Debug, Clone)]
pub enum Calendar {
    /// Every day is a working day (round-the-clock services).
    EveryDay,
    /// Monday to Friday, no holidays: only the last resort when a year is not covered at all
    /// (see `Router::route`), never chosen in config.
    Weekdays,
    /// Monday to Friday adjusted by yearly files, provisional for years without one.
    Official {
        /// Where the year files came from (shown in warnings).
        dir: PathBuf,
        /// Years with a file, each with its checked days.
        years: BTreeMap<i64, OfficialYear>,
    },
}

/// Where a year's answers come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YearSource {
    /// The official file at this path.
    Official(PathBuf),
    /// Computed from the law: no file yet.
    Provisional,
}

/// A year as `minhu calendar show` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearView {
    pub year: i64,
    pub source: YearSource,
    /// (name, first day, last day) as local day numbers, in date order.
    pub holidays: Vec<(String, i64, i64)>,
    /// (name, day): weekend days worked.
    pub make_up_workdays: Vec<(String, i64)>,
}

/// Tests' shorthand: the day number of a date known to be real.
#[cfg(test)]
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    minhu_adapter::civil::day_number(y, m, d).expect("a real date")
}

/// Day of the week of a local day number, 0 Monday to 6 Sunday (day 0, 1970-01-01, was a
/// Thursday).
pub fn weekday(day: i64) -> usize {
    // rem_euclid(7) is 0..=6, so the cast cannot truncate.
    (day + 3).rem_euclid(7) as usize
}

/// Monday to Friday.
pub fn is_weekday(day: i64) -> bool {
    weekday(day) < 5
}

impl Calendar {
    /// An official calendar from checked year files.
    pub fn official(dir: PathBuf, years: BTreeMap<i64, OfficialYear>) -> Calendar {
        Calendar::Official { dir, years }
    }

    /// What the calendar says of `day` (local day number).
    pub fn day(&self, day: i64) -> Result<Day, Uncovered> {
        match self {
            Calendar::EveryDay => Ok(Day {
                working: true,
                provisional: false,
            }),
            Calendar::Weekdays => Ok(Day {
                working: is_weekday(day),
                provisional: false,
            }),
            Calendar::Official { years, .. } => {
                let year = civil_from_days(day).0;
                if let Some(official) = years.get(&year) {
                    let days = &official.days;
                    let working = if days.holidays.contains(&day) {
                        false
                    } else {
                        days.workdays.contains(&day) || is_weekday(day)
                    };
                    return Ok(Day {
                        working,
                        provisional: false,
                    });
                }
                let statutory = provisional::holiday_days(year).ok_or(Uncovered { year })?;
                Ok(Day {
                    working: is_weekday(day) && statutory.binary_search(&day).is_err(),
                    provisional: true,
                })
            }
        }
    }

    /// Whether `day` (local day number) is a working day.
    pub fn is_working_day(&self, day: i64) -> Result<bool, Uncovered> {
        self.day(day).map(|d| d.working)
    }

    /// Whether answers for `year` are provisional (only official calendars have such years).
    pub fn is_provisional(&self, year: i64) -> bool {
        match self {
            Calendar::Official { years, .. } => {
                !years.contains_key(&year) && provisional::YEARS.contains(&year)
            }
            Calendar::EveryDay | Calendar::Weekdays => false,
        }
    }

    /// The folder an official calendar was read from.
    pub fn dir(&self) -> Option<&std::path::Path> {
        match self {
            Calendar::Official { dir, .. } => Some(dir),
            Calendar::EveryDay | Calendar::Weekdays => None,
        }
    }

    /// Monday to Friday without holidays.
    pub fn weekdays() -> Calendar {
        Calendar::Weekdays
    }

    /// `year` as its file or the law gives it; None for calendars without years, or a year
    /// outside what the provisional generator covers.
    pub fn year_view(&self, year: i64) -> Option<YearView> {
        let Calendar::Official { years, .. } = self else {
            return None;
        };
        if let Some(y) = years.get(&year) {
            let date = |v: &toml::value::Datetime| {
                v.date.and_then(|d| {
                    minhu_adapter::civil::day_number(year, u32::from(d.month), u32::from(d.day))
                })
            };
            let mut holidays: Vec<(String, i64, i64)> = y
                .data
                .holidays
                .iter()
                .filter_map(|h| Some((h.name.clone(), date(&h.from)?, date(&h.to)?)))
                .collect();
            holidays.sort_by_key(|h| h.1);
            let mut make_up_workdays: Vec<(String, i64)> = y
                .data
                .make_up_workdays
                .iter()
                .filter_map(|m| Some((m.name.clone(), date(&m.date)?)))
                .collect();
            make_up_workdays.sort_by_key(|m| m.1);
            return Some(YearView {
                year,
                source: YearSource::Official(y.file.clone()),
                holidays,
                make_up_workdays,
            });
        }
        let mut holidays = Vec::new();
        for s in provisional::statutory_holidays(year)? {
            // A holiday's days are consecutive except where two fall together; show runs.
            let mut run: Option<(i64, i64)> = None;
            for &d in &s.days {
                run = match run {
                    Some((from, to)) if d == to + 1 => Some((from, d)),
                    Some((from, to)) => {
                        holidays.push((s.name.to_owned(), from, to));
                        Some((d, d))
                    }
                    None => Some((d, d)),
                };
            }
            if let Some((from, to)) = run {
                holidays.push((s.name.to_owned(), from, to));
            }
        }
        holidays.sort_by_key(|h| h.1);
        Some(YearView {
            year,
            source: YearSource::Provisional,
            holidays,
            make_up_workdays: Vec::new(),
        })
    }
}

/// The title of the State Council's yearly notice that makes `year` official, as operators
/// search for it.
pub fn notice_title(year: i64) -> String {
    format!("国务院办公厅关于{year}年部分节假日安排的通知")
}

/// `YYYY-MM-DD` of a local day number.
pub fn date_string(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn sample() -> Calendar {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/calendar");
        Calendar::load_dir(&dir).expect("shipped calendar is valid")
    }

    #[test]
    fn civil_round_trip() {
        for day in [-1000, 0, 19_000, 20_454, 20_819, 40_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(date_string(days_from_civil(2026, 2, 15)), "2026-02-15");
    }

    #[test]
    fn official_2026_holidays_and_make_up_days() {
        let cal = sample();
        let day = |m, d| days_from_civil(2026, m, d);
        // Spring Festival: Sunday 15 to Monday 23 February off; Saturdays 14 and 28 worked.
        assert_eq!(cal.is_working_day(day(2, 13)), Ok(true));
        assert_eq!(cal.is_working_day(day(2, 14)), Ok(true));
        for d in 15..=23 {
            assert_eq!(cal.is_working_day(day(2, d)), Ok(false), "2026-02-{d}");
        }
        assert_eq!(cal.is_working_day(day(2, 24)), Ok(true));
        assert_eq!(cal.is_working_day(day(2, 28)), Ok(true));
        // National Day week, with Sunday 20 September and Saturday 10 October worked.
        assert_eq!(cal.is_working_day(day(9, 20)), Ok(true));
        assert_eq!(cal.is_working_day(day(10, 1)), Ok(false));
        assert_eq!(cal.is_working_day(day(10, 7)), Ok(false));
        assert_eq!(cal.is_working_day(day(10, 10)), Ok(true));
        // An ordinary weekend.
        assert_eq!(cal.is_working_day(day(11, 21)), Ok(false));
        assert_eq!(cal.is_working_day(day(11, 23)), Ok(true));
    }

    #[test]
    fn a_year_without_a_file_is_provisional_not_a_refusal() {
        let cal = sample();
        let day = |m, d| cal.day(days_from_civil(2027, m, d));
        // Monday 4 January 2027: an ordinary working day, but nobody has said so officially.
        assert_eq!(
            day(1, 4),
            Ok(Day {
                working: true,
                provisional: true
            })
        );
        // New Year's Day and the Spring Festival's statutory days are off; a weekend too.
        assert_eq!(day(1, 1).map(|d| d.working), Ok(false));
        assert_eq!(day(2, 8).map(|d| d.working), Ok(false));
        assert_eq!(day(1, 9).map(|d| d.working), Ok(false));
        assert!(cal.is_provisional(2027));
        assert!(!cal.is_provisional(2026));
        assert_eq!(
            cal.day(days_from_civil(2026, 11, 23)),
            Ok(Day {
                working: true,
                provisional: false
            })
        );
        // Far beyond what the generator covers, a year is not known at all.
        let far = days_from_civil(2400, 1, 4);
        assert_eq!(cal.day(far), Err(Uncovered { year: 2400 }));
        assert_eq!(Calendar::EveryDay.is_working_day(0), Ok(true));
    }

    #[test]
    fn bad_calendar_files_are_reported_with_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("2026.toml"),
            "year = 2026\nholidays = [{ name = \"x\", from = 2026-05-05, to = 2026-05-01 },\
             { name = \"y\", from = 2025-12-31, to = 2026-01-01 }]\n\
             make_up_workdays = [{ name = \"z\", date = 2026-11-23 }]\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("2027.toml"), "year = 2028\n").unwrap();
        std::fs::write(dir.path().join("notes.toml"), "").unwrap();
        let err = Calendar::load_dir(dir.path()).unwrap_err();
        let text: Vec<String> = err.iter().map(|p| p.to_string()).collect();
        let all = text.join("\n");
        for want in [
            "2026.toml: holidays[0].to: is before `from`",
            "2026.toml: holidays[1].from: 2025-12-31 is not in 2026",
            "2026.toml: make_up_workdays[0].date: 2026-11-23 is a weekday already",
            "2027.toml: year: is 2028 but the file is named 2027.toml",
            "notes.toml: -: calendar files are named <year>.toml",
        ] {
            assert!(all.contains(want), "missing {want:?} in\n{all}");
        }
    }

    #[test]
    fn a_holiday_cn_json_file_is_an_official_year_too() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("2027.json"),
            r#"{"year": 2027, "papers": [], "days": [
                {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
                {"name": "元旦", "date": "2027-01-02", "isOffDay": true},
                {"name": "元旦", "date": "2027-01-03", "isOffDay": true},
                {"name": "春节", "date": "2027-02-20", "isOffDay": false}]}"#,
        )
        .unwrap();
        let cal = Calendar::load_dir(dir.path()).unwrap();
        assert!(!cal.is_provisional(2027));
        let day = |m, d| cal.day(days_from_civil(2027, m, d)).unwrap();
        assert!(!day(1, 1).working && !day(1, 1).provisional);
        assert!(day(2, 20).working, "a Saturday worked");
        // 2028 has no file: provisional, from the law.
        assert!(cal.is_provisional(2028));
        let view = cal.year_view(2027).unwrap();
        assert!(matches!(view.source, YearSource::Official(_)));
        assert_eq!(view.holidays.len(), 1);
        assert_eq!(view.make_up_workdays[0].0, "春节调休");

        // The same year twice is a problem, as is a bad JSON file.
        std::fs::write(dir.path().join("2027.toml"), "year = 2027\n").unwrap();
        std::fs::write(dir.path().join("2028.json"), "{\"year\": 2028}").unwrap();
        let all: Vec<String> = Calendar::load_dir(dir.path())
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        let all = all.join("\n");
        assert!(all.contains("2027 is described twice"), "{all}");
        assert!(all.contains("2028.json: -: not a holiday-cn file"), "{all}");
    }
}
