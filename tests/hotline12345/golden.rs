//! Golden fixtures: every `tests/fixtures/hotline12345/<source>.<case>.json` work order through
//! the mapping of `<source>` in `config/hotline-sources.example.toml`, compared with
//! `<source>.<case>.expected.json`, in the JSON view of `common::golden::request_json`.
//! `UPDATE_GOLDEN=1` rewrites the expected files (review the diff before committing).
use std::path::PathBuf;

use minhu::config::adapters::hotline12345::Hotline12345Config;
use minhu::pb;
use serde_json::Value;

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hotline12345")
}

/// The sample sources file's text.
pub fn sample_sources() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/hotline-sources.example.toml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `[adapters.hotline12345]` of the sample sources file, strictly deserialised.
pub fn sample_config() -> Hotline12345Config {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Root {
        adapters: Adapters,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Adapters {
        hotline12345: Hotline12345Config,
    }
    let root: Root = toml::from_str(&sample_sources()).expect("the sample sources file parses");
    root.adapters.hotline12345
}

/// A request as readable JSON (the view every channel's fixtures use).
pub fn request_json(r: &pb::Request) -> Value {
    crate::common::golden::request_json(r)
}
