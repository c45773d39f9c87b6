//! Reading a calendar folder: one official file per year, `<year>.toml` (Minhu's own format)
//! or `<year>.json` (the `holiday-cn` format most Chinese software keeps, see
//! [`super::holiday_cn`]). Every problem in every file is reported at once, with the file
//! and key, and a malformed file is the only thing that makes a folder fail.
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Calendar, OfficialYear, date_string, is_weekday};
use crate::config::problem::{Problem, Problems};

/// One year's file, `config/calendar/<year>.toml`.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MakeUpDay {
    /// What it makes up for, e.g. `春节调休`.
    pub name: String,
    /// The day (a TOML local date).
    pub date: toml::value::Datetime,
}

/// A year file's days, checked: local day numbers of its holidays and make-up working days.
#[derive(Debug, Clone, Default)]
pub struct CheckedYear {
    pub holidays: HashSet<i64>,
    pub workdays: HashSet<i64>,
}

/// Reads `file` as a year file of either format (by its extension); None if it cannot be
/// read or parsed, each reason added to `p`.
pub fn read_year_file(file: &Path, p: &mut Problems) -> Option<YearFile> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            p.add("-", format!("cannot read: {e}"));
            return None;
        }
    };
    if file.extension().is_some_and(|x| x == "json") {
        super::holiday_cn::parse_with_papers(&text, p).map(|i| i.year)
    } else {
        match toml::from_str::<YearFile>(&text) {
            Ok(y) => Some(y),
            Err(e) => {
                p.add("-", e.to_string());
                None
            }
        }
    }
}

impl Calendar {
    /// Reads every `<year>.toml` and `<year>.json` in `dir`, reporting all problems (with the
    /// file they are in). An empty folder is fine: every year is then provisional.
    pub fn load_dir(dir: &Path) -> Result<Calendar, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut years: BTreeMap<i64, OfficialYear> = BTreeMap::new();
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
            .filter(|p| p.extension().is_some_and(|x| x == "toml" || x == "json"))
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
                p.add(
                    "-",
                    "calendar files are named <year>.toml or <year>.json, e.g. 2026.toml",
                );
                problems.extend(p.list);
                continue;
            };
            if let Some(y) = read_year_file(&file, &mut p) {
                if y.year != stem_year {
                    p.add(
                        "year",
                        format!(
                            "is {} but the file is named {}",
                            y.year,
                            file.file_name().unwrap_or_default().to_string_lossy()
                        ),
                    );
                }
                let days = check_year(&y, &mut p);
                if let Some(other) = years.get(&y.year) {
                    p.add(
                        "year",
                        format!(
                            "{} is described twice, here and in {}",
                            y.year,
                            other.file.display()
                        ),
                    );
                } else {
                    years.insert(
                        y.year,
                        OfficialYear {
                            file: file.clone(),
                            data: y,
                            days,
                        },
                    );
                }
            }
            problems.extend(p.list);
        }
        if problems.is_empty() {
            Ok(Calendar::official(dir.to_path_buf(), years))
        } else {
            Err(problems)
        }
    }
}

/// Checks one year's file, adding every problem to `p`; returns its days.
pub fn check_year(y: &YearFile, p: &mut Problems) -> CheckedYear {
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
    CheckedYear {
        holidays: off,
        workdays: seen,
    }
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
