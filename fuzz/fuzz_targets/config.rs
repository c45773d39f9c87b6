//! Config parsing through the one load path `serve` and `check-config` use: the input is a
//! service file, optionally followed by `\n#--\n` and a routing file; both are written to a
//! scratch folder (with the sample taxonomy beside them) and loaded with every check.
//! Inputs naming device or proc files are skipped: the config is trusted to name real files,
//! and reading `/dev/zero` would only measure the fuzzer's memory limit.
#![no_main]
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const TAXONOMY: &str = include_str!("../../config/taxonomy.toml");

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("minhu-fuzz-config-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        let _ = std::fs::write(d.join("taxonomy.toml"), TAXONOMY);
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if ["/dev", "/proc", "/sys"].iter().any(|p| text.contains(p)) {
        return;
    }
    let (service, routing) = text.split_once("\n#--\n").unwrap_or((text, ""));
    let dir = scratch();
    if std::fs::write(dir.join("minhu.toml"), service).is_err()
        || std::fs::write(dir.join("routing.toml"), routing).is_err()
    {
        return;
    }
    let _ = minhu::config::load(&dir.join("minhu.toml"));
});
