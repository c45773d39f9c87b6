//! The `holiday-cn` JSON format: one entry per date of the State Council's notice, with
//! `isOffDay` (`false` marks a make-up working day). Most Chinese software keeps the notices in
//! this form, so a city can drop such a file in as `<year>.json`, or turn it into Minhu's TOML
//! with `minhu calendar import`. Both formats become the same [`YearFile`] and go through the
//! same checks.
//!
//! ```json
//! { "year": 2026, "papers": ["https://www.gov.cn/…"],
//!   "days": [ { "name": "元旦", "date": "2026-01-01", "isOffDay": true },
//!             { "name": "元旦", "date": "2026-01-04", "isOffDay": false } ] }
//! ```
use std::fmt::Write as _;

use serde::Deserialize;

use super::load::{Holiday, MakeUpDay, YearFile};
use crate::config::problem::Problems;

/// A `holiday-cn` file as published.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// JSON schema reference, ignored.
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    /// The file's own address, ignored.
    #[serde(rename = "$id", default)]
    _id: Option<String>,
    /// The year the notice is for.
    year: i64,
    /// Where the notice was published.
    #[serde(default)]
    papers: Vec<String>,
    /// One entry per date the notice names.
    days: Vec<Entry>,
}

/// One date of the notice.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    /// The holiday it belongs to, e.g. `春节`.
    name: String,
    /// `YYYY-MM-DD`.
    date: String,
    /// `true` for a day off, `false` for a weekend day worked (调休).
    #[serde(rename = "isOffDay")]
    is_off_day: bool,
}

/// A parsed file: the year and where the notice was published.
#[derive(Debug, Clone)]
pub struct Imported {
    pub year: YearFile,
    /// The notice's addresses (`papers`), for the TOML's header.
    pub papers: Vec<String>,
}

/// Parses a `holiday-cn` file into a [`YearFile`], keeping the notice's addresses;
/// consecutive days off of one holiday become one range. None when it is no such file or has
/// dates that are no real date, each added to `p` with its key (`days[3].date`).
pub fn parse_with_papers(text: &str, p: &mut Problems) -> Option<Imported> {
    let file: File = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            p.add("-", format!("not a holiday-cn file: {e}"));
            return None;
        }
    };
    let mut days: Vec<(i64, toml::value::Datetime, &Entry)> = Vec::new();
    let mut bad = false;
    for (i, e) in file.days.iter().enumerate() {
        match parse_date(&e.date) {
            Some((day, dt)) => days.push((day, dt, e)),
            None => {
                bad = true;
                p.add(
                    format!("days[{i}].date"),
                    format!("{:?} is not a date (YYYY-MM-DD)", e.date),
                );
            }
        }
    }
    if bad {
        return None;
    }
    days.sort_by_key(|d| d.0);
    let mut holidays: Vec<(Holiday, i64)> = Vec::new();
    let mut make_up_workdays = Vec::new();
    for (day, dt, e) in days {
        if !e.is_off_day {
            make_up_workdays.push(MakeUpDay {
                name: format!("{}调休", e.name),
                date: dt,
            });
            continue;
        }
        match holidays.last_mut() {
            Some((h, last)) if h.name == e.name && *last + 1 == day => {
                h.to = dt;
                *last = day;
            }
            _ => holidays.push((
                Holiday {
                    name: e.name.clone(),
                    from: dt,
                    to: dt,
                },
                day,
            )),
        }
    }
    Some(Imported {
        year: YearFile {
            year: file.year,
            holidays: holidays.into_iter().map(|(h, _)| h).collect(),
            make_up_workdays,
        },
        papers: file.papers,
    })
}

/// A plain `YYYY-MM-DD` date: its local day number and its TOML form.
fn parse_date(s: &str) -> Option<(i64, toml::value::Datetime)> {
    let dt: toml::value::Datetime = s.parse().ok()?;
    let (Some(d), None, None) = (dt.date, dt.time, dt.offset) else {
        return None;
    };
    let day =
        minhu_adapter::civil::day_number(i64::from(d.year), u32::from(d.month), u32::from(d.day))?;
    Some((day, dt))
}

/// Renders a year as Minhu's `<year>.toml`, with a header naming where it came from.
pub fn to_toml(y: &YearFile, papers: &[String], source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Working-day calendar for {}, Asia/Shanghai, imported by `minhu calendar import` from\n# {}.",
        y.year,
        comment(source)
    );
    let _ = writeln!(out, "# Source: {}", super::notice_title(y.year));
    for p in papers {
        let _ = writeln!(out, "#   {}", comment(p));
    }
    let _ = writeln!(out, "year = {}\n\nholidays = [", y.year);
    for h in &y.holidays {
        let _ = writeln!(
            out,
            "  {{ name = {}, from = {}, to = {} }},",
            quote(&h.name),
            h.from,
            h.to
        );
    }
    let _ = writeln!(out, "]\n\nmake_up_workdays = [");
    for m in &y.make_up_workdays {
        let _ = writeln!(out, "  {{ name = {}, date = {} }},", quote(&m.name), m.date);
    }
    out.push_str("]\n");
    out
}

/// `s` fit for a TOML comment: control characters are not allowed there, and a line break in
/// a paper's address would end the comment and put the rest of it into the file as keys.
fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
        "$schema": "https://example.invalid/schema.json",
        "$id": "https://example.invalid/2026.json",
        "year": 2026,
        "papers": ["https://www.gov.cn/zhengce/content/2026.htm"],
        "days": [
            { "name": "元旦", "date": "2026-01-01", "isOffDay": true },
            { "name": "元旦", "date": "2026-01-02", "isOffDay": true },
            { "name": "元旦", "date": "2026-01-03", "isOffDay": true },
            { "name": "元旦", "date": "2026-01-04", "isOffDay": false },
            { "name": "春节", "date": "2026-02-14", "isOffDay": false },
            { "name": "春节", "date": "2026-02-16", "isOffDay": true },
            { "name": "春节", "date": "2026-02-15", "isOffDay": true }
        ]
    }"#;

    #[test]
    fn consecutive_days_off_become_ranges_and_worked_days_make_up_days() {
        let i = parse(SAMPLE).unwrap();
        let y = &i.year;
        assert_eq!(y.year, 2026);
        let h: Vec<String> = y
            .holidays
            .iter()
            .map(|h| format!("{} {}..{}", h.name, h.from, h.to))
            .collect();
        assert_eq!(
            h,
            ["元旦 2026-01-01..2026-01-03", "春节 2026-02-15..2026-02-16"]
        );
        let m: Vec<String> = y
            .make_up_workdays
            .iter()
            .map(|m| format!("{} {}", m.name, m.date))
            .collect();
        assert_eq!(m, ["元旦调休 2026-01-04", "春节调休 2026-02-14"]);
        assert_eq!(i.papers.len(), 1);
    }

    #[test]
    fn rendered_toml_reads_back_as_the_same_year() {
        let i = parse(SAMPLE).unwrap();
        let text = to_toml(&i.year, &i.papers, "2026.json");
        let back: YearFile = toml::from_str(&text).unwrap();
        assert_eq!(format!("{back:?}"), format!("{:?}", i.year));
        assert!(
            text.contains("国务院办公厅关于2026年部分节假日安排的通知"),
            "{text}"
        );
    }

    #[test]
    fn a_line_break_in_a_paper_does_not_escape_its_comment() {
        let i = parse(SAMPLE).unwrap();
        let papers = ["https://x.invalid/\nyear = 1999\r\nholidays = 3".to_owned()];
        let text = to_toml(&i.year, &papers, "evil\n.json");
        let back: YearFile = toml::from_str(&text).unwrap();
        assert_eq!(back.year, 2026, "{text}");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let e = problems(
            r#"{"year": 2026, "days": [{"name": "x", "date": "2026-02-30", "isOffDay": true}]}"#,
        );
        assert!(
            e.contains("f.json: days[0].date: \"2026-02-30\" is not a date"),
            "{e}"
        );
        let e = problems(r#"{"year": 2026, "days": [], "extra": 1}"#);
        assert!(
            e.contains("f.json: -: not a holiday-cn file: unknown field `extra`"),
            "{e}"
        );
        let e = problems("<html>");
        assert!(e.starts_with("f.json: -: not a holiday-cn file"), "{e}");
    }

    fn parse(text: &str) -> Result<Imported, String> {
        let mut p = Problems::new("f.json");
        parse_with_papers(text, &mut p).ok_or_else(|| problems(text))
    }

    /// The problems of `text`, one a line.
    fn problems(text: &str) -> String {
        let mut p = Problems::new("f.json");
        assert!(parse_with_papers(text, &mut p).is_none(), "accepted {text}");
        let lines: Vec<String> = p.list.iter().map(|p| p.to_string()).collect();
        lines.join("\n")
    }
}
