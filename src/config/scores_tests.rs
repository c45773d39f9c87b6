//! `[scores]` through the one loading path `serve` and `check-config` share: defaults when
//! absent, every problem named with the file and key, unknown keys refused.
use std::path::{Path, PathBuf};

use super::load;

/// A service file with `scores` in a fresh folder, pointing at the sample routing file.
fn write(dir: &tempfile::TempDir, scores: &str) -> PathBuf {
    let routing = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/routing.toml");
    let path = dir.path().join("minhu.toml");
    let text = format!(
        "{scores}\n[routing]\npath = {:?}\n",
        routing.display().to_string()
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn absent_scores_are_the_seeds_rules() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = load(&write(&dir, "")).unwrap();
    assert_eq!(loaded.service.scores, crate::scores::Rules::default());
}

#[test]
fn tuned_scores_load_and_bad_ones_are_named_with_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let ok = "[scores.weights]\nresponsiveness = 20\ncooperation = 20\ncompletion = 20\n\
              satisfaction = 40\n[scores.completion]\nper_reopen = 50\n";
    let loaded = load(&write(&dir, ok)).unwrap();
    assert_eq!(loaded.service.scores.weights.responsiveness, 20);
    assert_eq!(loaded.service.scores.completion.per_reopen, 50);
    assert_eq!(
        loaded.service.scores.completion.not_verified, 20,
        "default kept"
    );

    let bad = "[scores.weights]\nresponsiveness = 50\n[scores.satisfaction]\nunrated = 120\n";
    let path = write(&dir, bad);
    let err = load(&path).unwrap_err();
    let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
    assert!(keys.contains(&"scores.weights"), "{err}");
    assert!(keys.contains(&"scores.satisfaction.unrated"), "{err}");
    assert!(err.problems.iter().all(|p| p.file == path), "{err}");

    let unknown = load(&write(&dir, "[scores]\nweight = 3\n")).unwrap_err();
    assert!(unknown.to_string().contains("weight"), "{unknown}");
}
