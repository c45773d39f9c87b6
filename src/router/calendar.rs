//! Working-day calendars (工作日历): which local (Asia/Shanghai) days count as working days
//! for deadlines in working days.
//!
//! The official calendar is Monday to Friday, minus the public holidays, plus the make-up
//! working days (调休) that the State Council's yearly notice turns from weekend days into
//! working days. It is kept as one file per year, `config/calendar/<year>.toml`. A day in a
//! year without a file is *not known*: Minhu never guesses, because a guessed deadline on a
//! Spring Festival week is a wrong promise to a citizen. When that is checked is documented on
//! [`super::Router::compile_at`].
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::problem::{Problem, Problems};
use crate::time::civil_from_days;

/// One year's file, `config/calendar/<year>.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearFile {
    /// The year the file describes; must match the file name.
    pub year: i64,
    /// Public holidays (放假), as inclusive date ranges.
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    /// Weekend days that are working days (调休上班).
    #[serde(default)]
    pub make_up_workdays: Vec<MakeUpDay>,
}

/// A run of days off.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// What it is, e.g. `春节`.
    pub name: String,
    /// First day off (a TOML local date, `2026-02-15`).
    pub from: toml::value::Datetime,
    /// Last day off, inclusive.
    pub to: toml::value::Datetime,
}

/// A Saturday or Sunday worked in exchange for a holiday.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MakeUpDay {
    /// What it makes up for, e.g. `春节调休`.
    pub name: String,
    /// The day (a TOML local date).
    pub date: toml::value::Datetime,
}

/// A day the calendar cannot answer for: its year has no file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the working-day calendar has no file for {year} (add config/calendar/{year}.toml)")]
pub struct Uncovered {
    /// The year that is missing.
    pub year: i64,
}

/// Which days are working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Calendar {
    /// Every day is a working day (round-the-clock services).
    EveryDay,
    /// Monday to Friday, no holidays: only the last resort when a year has no file at run time
    /// (see `Router::route`), never chosen in config.
    Weekdays,
    /// Monday to Friday adjusted by yearly files.
    Official {
        /// Where the year files came from (shown in errors).
        dir: PathBuf,
        /// Years with a file.
        years: BTreeSet<i64>,
        /// Local day numbers that are holidays.
        holidays: HashSet<i64>,
        /// Local day numbers that are make-up working days.
        workdays: HashSet<i64>,
    },
}

/// Tests' shorthand: the day number of a date known to be real.
#[cfg(test)]
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    minhu_adapter::civil::day_number(y, m, d).expect("a real date")
}

/// Monday to Friday (day 0, 1970-01-01, was a Thursday).
pub fn is_weekday(day: i64) -> bool {
    (day + 3).rem_euclid(7) < 5
}

impl Calendar {
    /// Whether `day` (local day number) is a working day.
    pub fn is_working_day(&self, day: i64) -> Result<bool, Uncovered> {
        match self {
            Calendar::EveryDay => Ok(true),
            Calendar::Weekdays => Ok(is_weekday(day)),
            Calendar::Official {
                years,
                holidays,
                workdays,
                ..
            } => {
                let year = civil_from_days(day).0;
                if !years.contains(&year) {
                    return Err(Uncovered { year });
                }
                Ok(if holidays.contains(&day) {
                    false
                } else {
                    workdays.contains(&day) || is_weekday(day)
                })
            }
        }
    }

    /// Monday to Friday without holidays.
    pub fn weekdays() -> Calendar {
        Calendar::Weekdays
    }

    /// Reads every `<year>.toml` in `dir`, reporting all problems (with the file they are in).
    pub fn load_dir(dir: &Path) -> Result<Calendar, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut years = BTreeSet::new();
        let mut holidays = HashSet::new();
        let mut workdays = HashSet::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                let mut p = Problems::new(dir);
                p.add("-", format!("cannot read the calendar folder: {e}"));
                return Err(p.list);
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for file in files {
            let mut p = Problems::new(&file);
            let stem_year = file
                .file_stem()
                .and_then(|s| s.to_str())
                .filter(|s| s.len() == 4)
                .and_then(|s| s.parse::<i64>().ok());
            let Some(stem_year) = stem_year else {
                p.add("-", "calendar files are named <year>.toml, e.g. 2026.toml");
                problems.extend(p.list);
                continue;
            };
            let parsed = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read: {e}"))
                .and_then(|t| toml::from_str::<YearFile>(&t).map_err(|e| e.to_string()));
            match parsed {
                Err(e) => p.add("-", e),
                Ok(y) => {
                    if y.year != stem_year {
                        p.add(
                            "year",
                            format!("is {} but the file is named {stem_year}.toml", y.year),
                        );
                    }
                    check_year(&y, &mut p, &mut holidays, &mut workdays);
                    years.insert(y.year);
                }
            }
            problems.extend(p.list);
        }
        if years.is_empty() && problems.is_empty() {
            let mut p = Problems::new(dir);
            p.add("-", "no calendar files (<year>.toml) in this folder");
            problems.extend(p.list);
        }
        if problems.is_empty() {
            Ok(Calendar::Official {
                dir: dir.to_path_buf(),
                years,
                holidays,
                workdays,
            })
        } else {
            Err(problems)
        }
    }
}

fn check_year(
    y: &YearFile,
    p: &mut Problems,
    holidays: &mut HashSet<i64>,
    workdays: &mut HashSet<i64>,
) {
    let mut off = HashSet::new();
    for (i, h) in y.holidays.iter().enumerate() {
        let key = format!("holidays[{i}]");
        if h.name.trim().is_empty() {
            p.add(format!("{key}.name"), "must not be empty");
        }
        let from = day_of(&h.from, y.year, &format!("{key}.from"), p);
        let to = day_of(&h.to, y.year, &format!("{key}.to"), p);
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                p.add(format!("{key}.to"), "is before `from`");
            }
            for d in from..=to {
                if !off.insert(d) {
                    p.add(&key, format!("{} is in two holidays", date_string(d)));
                }
            }
        }
    }
    let mut seen = HashSet::new();
    for (i, m) in y.make_up_workdays.iter().enumerate() {
        let key = format!("make_up_workdays[{i}]");
        let Some(d) = day_of(&m.date, y.year, &format!("{key}.date"), p) else {
            continue;
        };
        if is_weekday(d) {
            p.add(
                format!("{key}.date"),
                format!(
                    "{} is a weekday already; make-up working days are Saturdays or Sundays",
                    date_string(d)
                ),
            );
        }
        if off.contains(&d) {
            p.add(
                format!("{key}.date"),
                format!("{} is also listed as a holiday", date_string(d)),
            );
        }
        if !seen.insert(d) {
            p.add(
                format!("{key}.date"),
                format!("{} is listed twice", date_string(d)),
            );
        }
    }
    holidays.extend(off);
    workdays.extend(seen);
}

/// The local day number of a TOML date that must be a plain date in `year`.
fn day_of(v: &toml::value::Datetime, year: i64, key: &str, p: &mut Problems) -> Option<i64> {
    let (Some(date), None) = (v.date, v.time) else {
        p.add(
            key,
            format!("{v} must be a plain date such as {year}-10-01"),
        );
        return None;
    };
    if i64::from(date.year) != year {
        p.add(key, format!("{v} is not in {year}"));
        return None;
    }
    // The toml parser refuses 2026-02-30, but a Datetime need not come from it.
    let day = minhu_adapter::civil::day_number(year, u32::from(date.month), u32::from(date.day));
    if day.is_none() {
        p.add(key, format!("{v} is not a real date"));
    }
    day
}

/// `YYYY-MM-DD` of a local day number.
pub fn date_string(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_year_without_a_file_is_an_error_not_a_guess() {
        let cal = sample();
        assert_eq!(
            cal.is_working_day(days_from_civil(2027, 1, 4)),
            Err(Uncovered { year: 2027 })
        );
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
}
