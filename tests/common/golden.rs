//! Golden-fixture runner: every input file in a folder goes through the translator, and its
//! outcome (as JSON) must equal the expected file beside it. `UPDATE_GOLDEN=1` rewrites the
//! expected files instead. Each channel keeps its own rendering of a Request as JSON, because
//! its fixtures were written in it.
#![allow(dead_code)]

use std::path::Path;

use serde_json::Value;

/// Runs every fixture in `dir` accepted by `is_input` (at least `min` of them), computing its
/// outcome with `outcome(file_name)` and comparing it with `dir/expected_name(file_name)`.
/// Reports every mismatch at once.
pub fn check_fixtures(
    dir: &Path,
    is_input: impl Fn(&str) -> bool,
    expected_name: impl Fn(&str) -> String,
    min: usize,
    outcome: impl Fn(&str) -> Value,
) {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| is_input(n))
        .collect();
    names.sort();
    assert!(names.len() >= min, "fixtures missing: {names:?}");
    let mut failed = Vec::new();
    for name in &names {
        let got = outcome(name);
        let path = dir.join(expected_name(name));
        let pretty = serde_json::to_string_pretty(&got).expect("json") + "\n";
        if update {
            std::fs::write(&path, &pretty).expect("write golden");
            continue;
        }
        let want: Value = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_else(|| panic!("{} missing or not JSON", path.display()));
        if got != want {
            failed.push(format!("{name}:\n got: {pretty}want: {want:#}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
