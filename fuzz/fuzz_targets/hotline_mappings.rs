//! The sample call-centre mappings of `config/hotline-sources.example.toml`, compiled once,
//! shared by the JSON and CSV targets (included with `#[path]`).
use std::sync::OnceLock;

use minhu_adapter_hotline12345::{Mapping, SourceMapping};

const EXAMPLE: &str = include_str!("../../config/hotline-sources.example.toml");

pub fn mappings() -> &'static [(String, Mapping)] {
    static M: OnceLock<Vec<(String, Mapping)>> = OnceLock::new();
    M.get_or_init(|| {
        let v: toml::Value = toml::from_str(EXAMPLE).expect("example parses");
        let sources = v["adapters"]["hotline12345"]["sources"]
            .as_table()
            .expect("sources")
            .clone();
        sources
            .into_iter()
            .map(|(name, m)| {
                let m: SourceMapping = m.try_into().expect("mapping");
                (format!("hotline:{name}"), m.compile().expect("compiles"))
            })
            .collect()
    })
}
