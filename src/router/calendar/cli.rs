//! `minhu calendar show <year>` and `minhu calendar import <file>`: the operator's view of a
//! year as the gateway counts it, and the way a State Council notice in the `holiday-cn` JSON
//! format becomes an official `<year>.toml`.
//!
//! Both read only what leads to the calendar folder ([`crate::config::load::calendar_dir`]),
//! never the whole config: they are how an operator repairs a calendar that stops the config
//! from loading.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::holiday_cn::{self, Imported};
use super::load::{CheckedYear, YearFile, check_year};
use super::{Calendar, YearSource, YearView, date_string, notice_title, provisional, weekday};
use crate::cli::{CalendarCommand, CalendarImportArgs};
use crate::config::load::{CalendarDir, calendar_dir};
use crate::config::problem::{ConfigError, Problem, Problems};

/// Runs one `minhu calendar` command with the service file at `config`.
pub fn run(config: &Path, command: &CalendarCommand) -> ExitCode {
    let result = match command {
        CalendarCommand::Show { year } => show(config, *year),
        CalendarCommand::Import(args) => import(config, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn show(config: &Path, year: i64) -> Result<(), String> {
    let found = calendar_dir(config).map_err(|e| report(e.problems))?;
    let calendar = Calendar::load_dir(&found.dir).map_err(report)?;
    let view = calendar.year_view(year).ok_or_else(|| {
        format!(
            "minhu: {year} has no official file in {} and is outside the years a provisional \
             calendar is computed for ({}-{})",
            found.dir.display(),
            provisional::YEARS.start(),
            provisional::YEARS.end()
        )
    })?;
    print!("{}", render(&view, &found.dir));
    Ok(())
}

/// Problems as `check-config` prints them, with the line of each key where it can be found.
fn report(mut problems: Vec<Problem>) -> String {
    crate::config::lines::annotate(&mut problems);
    ConfigError { problems }.to_string()
}

/// A year as `calendar show` prints it: where it comes from, then its holidays and make-up
/// working days in date order. Dates and counts come first and the names last, so the columns
/// line up whatever the width of the Chinese names.
pub fn render(v: &YearView, dir: &Path) -> String {
    let mut s = String::new();
    let year = v.year;
    match &v.source {
        YearSource::Official(file) => {
            let _ = writeln!(s, "{year}: official, from {}", file.display());
        }
        YearSource::Provisional => {
            let _ = writeln!(
                s,
                "{year}: PROVISIONAL: there is no official file for {year} in {}.\n\
                 Computed from the statutory holidays of 《全国年节及纪念日放假办法》 (2024), with \
                 weekends off and\nno make-up working days (调休), which only the State Council's \
                 yearly notice sets.\nLook for {} and import it:\n  \
                 minhu calendar import <{year}.json> --write",
                dir.display(),
                notice_title(year)
            );
        }
    }
    s.push_str("\nholidays:\n");
    if v.holidays.is_empty() {
        s.push_str("  none\n");
    }
    for (name, from, to) in &v.holidays {
        let n = to - from + 1;
        let range = if from == to {
            date_string(*from)
        } else {
            format!("{}..{}", date_string(*from), date_string(*to))
        };
        let days = format!("{n} day{}", if n == 1 { "" } else { "s" });
        let _ = writeln!(s, "  {range:<22}  {days:<7}  {name}");
    }
    s.push_str("\nmake-up working days (调休):\n");
    if v.make_up_workdays.is_empty() {
        s.push_str("  none\n");
    }
    for (name, day) in &v.make_up_workdays {
        let _ = writeln!(s, "  {}  {}  {name}", date_string(*day), weekday_name(*day));
    }
    s
}

/// `周六 Sat`: make-up working days are weekend days, and an operator checks that at a glance.
fn weekday_name(day: i64) -> &'static str {
    const NAMES: [&str; 7] = [
        "周一 Mon",
        "周二 Tue",
        "周三 Wed",
        "周四 Thu",
        "周五 Fri",
        "周六 Sat",
        "周日 Sun",
    ];
    NAMES[weekday(day)]
}

fn import(config: &Path, args: &CalendarImportArgs) -> Result<(), String> {
    let file = &args.file;
    let mut p = Problems::new(file);
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("minhu: cannot read {}: {e}", file.display()))?;
    let imported = holiday_cn::parse_with_papers(&text, &mut p);
    let checked = imported.as_ref().map(|i| check_year(&i.year, &mut p));
    let (Some(imported), Some(checked), true) = (imported, checked, p.list.is_empty()) else {
        return Err(format!(
            "{}\nminhu: nothing imported from {}",
            report(p.list),
            file.display()
        ));
    };
    for w in against_the_law(&imported.year, &checked) {
        eprintln!("warning: {}: {w}", file.display());
    }
    let source = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    let toml = holiday_cn::to_toml(&imported.year, &imported.papers, &source);
    // What the gateway will read is the TOML, not the JSON just checked: check that too, so a
    // rendering mistake is caught here rather than by a refused reload.
    let mut back = Problems::new(format!("{}.toml", imported.year.year));
    match toml::from_str::<YearFile>(&toml) {
        Ok(y) => {
            check_year(&y, &mut back);
        }
        Err(e) => back.add("-", e.to_string()),
    }
    if !back.list.is_empty() {
        return Err(format!(
            "minhu: internal error, the TOML rendered from {} does not read back:\n{}",
            file.display(),
            report(back.list)
        ));
    }
    if args.write {
        let found = calendar_dir(config).map_err(|e| report(e.problems))?;
        let target = write(&found, &imported, &toml, args.force)?;
        println!("{}", written(&found, &target, &imported));
    } else {
        print!("{toml}");
    }
    Ok(())
}

/// One line per statutory day that the import does not give off. The law fixes these days,
/// and every notice so far has kept them (adding bridges and weekends around them), so a
/// missing one almost always means the wrong file or a corrupted one, though the State
/// Council could in principle decide otherwise: a warning, not a refusal.
fn against_the_law(y: &YearFile, checked: &CheckedYear) -> Vec<String> {
    let Some(statutory) = provisional::statutory_holidays(y.year) else {
        return vec![format!(
            "cannot check against the statutory holidays: {} is outside the years they are \
             computed for ({}-{})",
            y.year,
            provisional::YEARS.start(),
            provisional::YEARS.end()
        )];
    };
    let mut out = Vec::new();
    for s in &statutory {
        for d in s.days.iter().filter(|d| !checked.holidays.contains(d)) {
            out.push(format!(
                "{} is a statutory holiday ({}, 《全国年节及纪念日放假办法》) but not a day off in \
                 this file; check that it is {}",
                date_string(*d),
                s.name,
                notice_title(y.year)
            ));
        }
    }
    out
}

/// Writes `toml` as `<dir>/<year>.toml`, all at once (a running gateway watches the folder and
/// must not read half a file); returns where.
fn write(
    found: &CalendarDir,
    imported: &Imported,
    toml: &str,
    force: bool,
) -> Result<PathBuf, String> {
    let dir = &found.dir;
    let year = imported.year.year;
    if !dir.is_dir() {
        return Err(format!(
            "minhu: the calendar folder {} does not exist (`calendar_dir` in {}); nothing written",
            dir.display(),
            found.routing_file.display()
        ));
    }
    let target = dir.join(format!("{year}.toml"));
    let twin = dir.join(format!("{year}.json"));
    if twin.exists() {
        // The loader refuses a year described twice, so writing would break the folder.
        return Err(format!(
            "minhu: {} already describes {year}; remove it first (a year has one file); nothing \
             written",
            twin.display()
        ));
    }
    if target.exists() && !force {
        return Err(format!(
            "minhu: {} exists; rerun with --force to replace it; nothing written",
            target.display()
        ));
    }
    // A folder that fails to load keeps a running gateway on its old calendar, new file or
    // not; say so now rather than after a write that changes nothing.
    if let Err(problems) = Calendar::load_dir(dir) {
        let others: Vec<Problem> = problems.into_iter().filter(|p| p.file != target).collect();
        if !others.is_empty() {
            return Err(format!(
                "{}\nminhu: fix the calendar folder first; nothing written",
                report(others)
            ));
        }
    }
    // Not `.toml`: the loader and a reload triggered meanwhile skip it.
    let tmp = dir.join(format!(".{year}.toml.tmp"));
    let result = std::fs::write(&tmp, toml).and_then(|()| std::fs::rename(&tmp, &target));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "minhu: cannot write {}: {e}; nothing written",
            target.display()
        ));
    }
    Ok(target)
}

/// What `--write` did, and how a running gateway learns of it.
fn written(found: &CalendarDir, target: &Path, imported: &Imported) -> String {
    let y = &imported.year;
    let mut s = format!(
        "wrote {} ({} holidays, {} make-up working days); {} is official now.",
        target.display(),
        y.holidays.len(),
        y.make_up_workdays.len(),
        y.year
    );
    // Hot reload watches the routing file's folder (recursively), nothing else.
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let routing_dir = found.routing_file.parent().unwrap_or(Path::new("."));
    if canonical(&found.dir).starts_with(canonical(routing_dir)) {
        s.push_str(
            "\nA running gateway picks it up by itself (hot reload) and recounts the deadlines it \
             counted provisionally.",
        );
    } else {
        let _ = write!(
            s,
            "\n{} is outside the routing file's folder, which hot reload watches: send a running \
             gateway SIGHUP to load it.",
            found.dir.display()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::calendar::days_from_civil;

    #[test]
    fn a_year_view_reads_in_date_order_with_counts_and_weekdays() {
        let v = YearView {
            year: 2026,
            source: YearSource::Official(PathBuf::from("cal/2026.toml")),
            holidays: vec![
                (
                    "元旦".into(),
                    days_from_civil(2026, 1, 1),
                    days_from_civil(2026, 1, 1),
                ),
                (
                    "春节".into(),
                    days_from_civil(2026, 2, 15),
                    days_from_civil(2026, 2, 23),
                ),
            ],
            make_up_workdays: vec![("春节调休".into(), days_from_civil(2026, 2, 14))],
        };
        let text = render(&v, Path::new("cal"));
        assert!(
            text.starts_with("2026: official, from cal/2026.toml\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  2026-01-01              1 day    元旦\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  2026-02-15..2026-02-23  9 days   春节\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  2026-02-14  周六 Sat  春节调休\n"),
            "{text}"
        );
    }

    #[test]
    fn a_provisional_year_says_so_and_names_the_notice() {
        let v = YearView {
            year: 2027,
            source: YearSource::Provisional,
            holidays: Vec::new(),
            make_up_workdays: Vec::new(),
        };
        let text = render(&v, Path::new("cal"));
        for want in [
            "2027: PROVISIONAL",
            "《全国年节及纪念日放假办法》 (2024)",
            "国务院办公厅关于2027年部分节假日安排的通知",
            "make-up working days (调休):\n  none\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
    }

    #[test]
    fn weekday_names_follow_the_calendar() {
        assert_eq!(weekday_name(days_from_civil(2027, 1, 1)), "周五 Fri");
        assert_eq!(weekday_name(days_from_civil(2026, 2, 15)), "周日 Sun");
        assert_eq!(weekday_name(days_from_civil(1970, 1, 5)), "周一 Mon");
    }
}
