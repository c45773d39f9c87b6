//! Copies of the sample routing folder: the files `config/routing.toml` refers to (taxonomy,
//! working-day calendars, areas), so a test can write an edited routing file beside them.
use std::path::{Path, PathBuf};

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Copies `config/taxonomy.toml`, `config/calendar/` and `config/areas/` into `dir`.
pub fn copy_companions(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(repo("config/taxonomy.toml"), dir.join("taxonomy.toml")).unwrap();
    for sub in ["calendar", "areas"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for f in std::fs::read_dir(repo("config").join(sub)).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dir.join(sub).join(f.file_name().unwrap())).unwrap();
        }
    }
}

/// The sample routing file's text.
pub fn sample_text() -> String {
    std::fs::read_to_string(repo("config/routing.toml")).unwrap()
}
