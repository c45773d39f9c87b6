//! Golden fixtures: every `tests/fixtures/emergency/<name>.transfer.json` through the
//! translator (as dispatch centre `xian-<line>`), compared with `<name>.request.json` beside
//! it, in the JSON view of `common::golden::request_json`. `UPDATE_GOLDEN=1` rewrites the
//! expected files (review the diff before committing).
use std::path::PathBuf;

use minhu_adapter_emergency::{parse_transfers, translate};
use serde_json::{Value, json};

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emergency")
}

/// The fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// What the translator made of a fixture body: one request (or error) per item.
pub fn outcome_json(raw: &[u8]) -> Value {
    let items = parse_transfers(raw, 100).expect("a fixture body parses");
    let out: Vec<Value> = items
        .into_iter()
        .map(|item| match item {
            Ok(t) => crate::common::golden::request_json(&translate(
                &t,
                &format!("xian-{}", t.line.as_str()),
            )),
            Err(e) => json!({ "error": { "field": e.field(), "message": e.to_string() } }),
        })
        .collect();
    json!(out)
}
