//! `minhu calendar show` and `minhu calendar import` as operators run them: the real binary on
//! the shipped config, or on a copy of it in a temporary folder when a test changes files.
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use minhu::router::calendar::Calendar;

/// Runs minhu in the repository, so the default `config/minhu.toml` is the shipped one.
fn minhu(args: &[&str]) -> Output {
    let mut cmd = common::gateway::minhu_command();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run minhu")
}

/// Runs minhu with the service file `config`.
fn minhu_with(config: &Path, args: &[&str]) -> Output {
    let config = config.to_string_lossy();
    let mut all = vec!["--config", &config];
    all.extend_from_slice(args);
    minhu(&all)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn text(o: &Output) -> String {
    format!("{}{}", stdout(o), String::from_utf8_lossy(&o.stderr))
}

fn fixture() -> String {
    repo("tests/fixtures/calendar/2027.json")
        .to_string_lossy()
        .into_owned()
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// A copy of the shipped config in `dir`; returns its service file.
fn config_copy(dir: &Path) -> PathBuf {
    common::routing::copy_companions(dir);
    for f in ["minhu.toml", "routing.toml"] {
        std::fs::copy(repo("config").join(f), dir.join(f)).unwrap();
    }
    dir.join("minhu.toml")
}

/// Asserts that `o` failed with exit code 1 and its output names everything in `want`.
fn failed_naming(o: &Output, want: &[&str]) {
    assert_eq!(o.status.code(), Some(1), "{}", text(o));
    let t = text(o);
    for w in want {
        assert!(t.contains(w), "missing {w:?} in:\n{t}");
    }
}

/// The line of `text` that holds all of `parts`.
fn line_with<'a>(text: &'a str, parts: &[&str]) -> &'a str {
    text.lines()
        .find(|l| parts.iter().all(|p| l.contains(p)))
        .unwrap_or_else(|| panic!("no line with {parts:?} in:\n{text}"))
}

#[test]
fn show_2026_lists_the_official_holidays_and_make_up_days() {
    let o = minhu(&["calendar", "show", "2026"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = stdout(&o);
    assert!(
        t.starts_with("2026: official, from config/calendar/2026.toml"),
        "{t}"
    );
    line_with(&t, &["2026-02-15..2026-02-23", "9 days", "春节"]);
    line_with(&t, &["2026-02-14", "周六 Sat", "春节调休"]);
    line_with(&t, &["2026-10-01..2026-10-07", "7 days", "国庆节"]);
    // Date order: 元旦 before 春节, and the make-up days too.
    assert!(t.find("元旦").unwrap() < t.find("春节").unwrap(), "{t}");
    assert!(
        t.find("2026-01-04").unwrap() < t.find("2026-02-14").unwrap(),
        "{t}"
    );
}

#[test]
fn show_2027_is_provisional_and_says_which_notice_to_look_for() {
    let o = minhu(&["calendar", "show", "2027"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = stdout(&o);
    for want in [
        "2027: PROVISIONAL",
        "《全国年节及纪念日放假办法》 (2024)",
        "no make-up working days (调休)",
        "国务院办公厅关于2027年部分节假日安排的通知",
        "make-up working days (调休):\n  none\n",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
    line_with(&t, &["2027-01-01 ", "1 day ", "元旦"]);
    line_with(&t, &["2027-02-05..2027-02-08", "4 days", "春节"]);
    line_with(&t, &["2027-05-01..2027-05-02", "2 days", "劳动节"]);
    line_with(&t, &["2027-10-01..2027-10-03", "3 days", "国庆节"]);
}

#[test]
fn show_of_a_year_beyond_the_generator_is_an_error() {
    let o = minhu(&["calendar", "show", "2400"]);
    failed_naming(
        &o,
        &[
            "2400 has no official file",
            "outside the years",
            "1901-2199",
        ],
    );
    assert!(o.stdout.is_empty(), "{}", text(&o));
}

#[test]
fn show_works_while_the_rest_of_the_config_does_not_validate() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_copy(dir.path());
    // A broken taxonomy and a service file check-config refuses; the calendar is elsewhere.
    std::fs::write(dir.path().join("taxonomy.toml"), "[[category\n").unwrap();
    std::fs::write(&config, "[amqp]\nurl = \"http://x\"\n").unwrap();
    let o = minhu_with(&config, &["check-config"]);
    assert!(!o.status.success(), "{}", text(&o));
    let o = minhu_with(&config, &["calendar", "show", "2026"]);
    assert!(o.status.success(), "{}", text(&o));
    // The routing file elsewhere, and the calendar folder relative to it.
    std::fs::write(
        &config,
        "[amqp]\nurl = \"http://x\"\n[routing]\npath = \"r/main.toml\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("r")).unwrap();
    let routing = common::routing::sample_text().replace(
        "taxonomy = \"taxonomy.toml\"",
        "taxonomy = \"../taxonomy.toml\"\ncalendar_dir = \"../calendar\"",
    );
    std::fs::write(dir.path().join("r/main.toml"), routing).unwrap();
    let o = minhu_with(&config, &["check-config"]);
    assert!(!o.status.success(), "{}", text(&o));
    let o = minhu_with(&config, &["calendar", "show", "2026"]);
    assert!(o.status.success(), "{}", text(&o));
    line_with(&stdout(&o), &["2026-02-15..2026-02-23", "春节"]);
}

#[test]
fn show_reports_a_malformed_calendar_with_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_copy(dir.path());
    let file = dir.path().join("calendar/2026.toml");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("to = 2026-01-03", "to = 2025-12-31");
    std::fs::write(&file, text).unwrap();
    let o = minhu_with(&config, &["calendar", "show", "2026"]);
    failed_naming(
        &o,
        &["2026.toml:", ": holidays[0].to: 2025-12-31 is not in 2026"],
    );
}

#[test]
fn import_prints_toml_that_the_calendar_loads() {
    let o = minhu(&["calendar", "import", &fixture()]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("warning"), "{stderr}");
    let toml = stdout(&o);
    assert!(
        toml.contains("国务院办公厅关于2027年部分节假日安排的通知"),
        "{toml}"
    );
    assert!(toml.contains("# 2027.json."), "{toml}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("2027.toml"), &toml).unwrap();
    let cal = Calendar::load_dir(dir.path()).unwrap_or_else(|e| panic!("{e:?}\n{toml}"));
    let day = |m, d| minhu_adapter::civil::day_number(2027, m, d).unwrap();
    assert!(!cal.is_provisional(2027));
    assert_eq!(cal.is_working_day(day(2, 11)), Ok(false));
    assert_eq!(cal.is_working_day(day(2, 12)), Ok(true));
    // Sunday 14 February is worked; Sunday 21 is not.
    assert_eq!(cal.is_working_day(day(2, 14)), Ok(true));
    assert_eq!(cal.is_working_day(day(2, 21)), Ok(false));
    assert_eq!(cal.is_working_day(day(10, 9)), Ok(true));
}

#[test]
fn import_with_write_makes_the_year_official() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_copy(dir.path());
    let o = minhu_with(&config, &["calendar", "import", &fixture(), "--write"]);
    assert!(o.status.success(), "{}", text(&o));
    let written = dir.path().join("calendar/2027.toml");
    for want in [
        format!("wrote {}", written.display()),
        "(7 holidays, 4 make-up working days); 2027 is official now".to_owned(),
        "picks it up by itself (hot reload)".to_owned(),
    ] {
        assert!(
            stdout(&o).contains(&want),
            "missing {want:?} in:\n{}",
            text(&o)
        );
    }
    assert!(written.is_file());
    let o = minhu_with(&config, &["check-config"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = minhu_with(&config, &["calendar", "show", "2027"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = stdout(&o);
    assert!(t.starts_with("2027: official, from "), "{t}");
    line_with(&t, &["2027-02-05..2027-02-11", "7 days", "春节"]);
    line_with(&t, &["2027-02-14", "周日 Sun", "春节调休"]);
}

#[test]
fn import_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_copy(dir.path());
    let target = dir.path().join("calendar/2027.toml");
    let mine = "# edited by hand\nyear = 2027\n";
    std::fs::write(&target, mine).unwrap();
    let o = minhu_with(&config, &["calendar", "import", &fixture(), "--write"]);
    failed_naming(
        &o,
        &["2027.toml exists; rerun with --force", "nothing written"],
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), mine);
    let o = minhu_with(&config, &["calendar", "import", &fixture(), "--force"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "--force without --write: {}",
        text(&o)
    );
    let o = minhu_with(
        &config,
        &["calendar", "import", &fixture(), "--write", "--force"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read_to_string(&target).unwrap().contains("春节"));
    // A year kept as JSON in the folder is not described a second time.
    std::fs::remove_file(&target).unwrap();
    std::fs::copy(fixture(), dir.path().join("calendar/2027.json")).unwrap();
    let o = minhu_with(
        &config,
        &["calendar", "import", &fixture(), "--write", "--force"],
    );
    failed_naming(&o, &["2027.json already describes 2027", "nothing written"]);
    assert!(!target.exists());
}

#[test]
fn a_malformed_import_says_what_is_wrong_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_copy(dir.path());
    let good = std::fs::read_to_string(fixture()).unwrap();
    let cases = [
        (
            good.replace("\"2027-02-11\"", "\"2027-02-30\""),
            "bad.json: days[9].date: \"2027-02-30\" is not a date (YYYY-MM-DD)",
        ),
        (
            good.replace("\"isOffDay\": false}", "\"isOffDay\": false, \"note\": 1}"),
            "bad.json: -: not a holiday-cn file: unknown field `note`",
        ),
        (
            good.replace("\"2027-02-14\"", "\"2027-02-12\""),
            "bad.json: make_up_workdays[0].date: 2027-02-12 is a weekday already",
        ),
        (
            good.replace("\"2027-10-07\"", "\"2028-10-07\""),
            "is not in 2027",
        ),
    ];
    for (json, want) in cases {
        assert_ne!(json, good, "{want}");
        let file = dir.path().join("bad.json");
        std::fs::write(&file, json).unwrap();
        for write in [false, true] {
            let mut args = vec!["calendar", "import", file.to_str().unwrap()];
            if write {
                args.push("--write");
            }
            let o = minhu_with(&config, &args);
            failed_naming(&o, &[want]);
            assert!(o.stdout.is_empty(), "{}", text(&o));
            assert!(!dir.path().join("calendar/2027.toml").exists());
        }
    }
}

#[test]
fn import_warns_about_a_statutory_day_it_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("2027.json");
    let json = std::fs::read_to_string(fixture()).unwrap().replace(
        "{\"name\": \"国庆节\", \"date\": \"2027-10-03\", \"isOffDay\": true},",
        "",
    );
    std::fs::write(&file, json).unwrap();
    let o = minhu(&["calendar", "import", file.to_str().unwrap()]);
    assert!(o.status.success(), "a warning, not an error: {}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let warning = line_with(&stderr, &["warning:", "2027.json"]);
    for want in [
        "2027-10-03 is a statutory holiday (国庆节",
        "not a day off in this file",
        "国务院办公厅关于2027年部分节假日安排的通知",
    ] {
        assert!(warning.contains(want), "missing {want:?} in:\n{stderr}");
    }
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stdout(&o).contains("year = 2027"));
}
