//! Golden fixtures: every `tests/fixtures/citymgmt/*.event.json` (a 数字城管 event) and
//! `*.form` (an Open311 post) through the translator, compared with the `.expected.json`
//! beside it, in the JSON view of `common::golden::request_json`. `UPDATE_GOLDEN=1` rewrites
//! the expected files (review the diff before committing).
use std::path::PathBuf;

use minhu::config::adapters::citymgmt::CitymgmtConfig;
use minhu_adapter_citymgmt::event::translate_event;
use minhu_adapter_citymgmt::open311::{Post, translate_post};
use minhu_adapter_citymgmt::sha256_hex;
use minhu_adapter_citymgmt::taxonomy::Taxonomy;
use serde_json::{Value, json};

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/citymgmt")
}

/// The fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The Open311 key the fixtures and end-to-end tests use.
pub const API_KEY: &str = "test-app-key";

/// The `[adapters.citymgmt]` section the tests run with.
pub fn config_section() -> String {
    format!(
        r#"[adapters.citymgmt]
enabled = true
source_system = "citymgmt:test"
taxonomy = "{}"
jurisdiction_id = "xian.example.gov.cn"

[[adapters.citymgmt.class_codes]]
kind = "component"
major = "01"
minor = "0103"
category = "road.manhole"

[[adapters.citymgmt.class_codes]]
kind = "event"
major = "05"
category = "market.street_vendor"

[[adapters.citymgmt.class_codes]]
kind = "event"
major = "04"
minor = "0402"
category = "tree.fallen"

[[adapters.citymgmt.api_keys]]
name = "test-app"
sha256 = "{}"
"#,
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("config/taxonomy.toml")
            .display(),
        sha256_hex(API_KEY.as_bytes())
    )
}

/// The section parsed as the gateway parses it.
pub fn config() -> CitymgmtConfig {
    #[derive(serde::Deserialize)]
    struct File {
        adapters: Adapters,
    }
    #[derive(serde::Deserialize)]
    struct Adapters {
        citymgmt: CitymgmtConfig,
    }
    let f: File = toml::from_str(&config_section()).expect("test config parses");
    f.adapters.citymgmt
}

/// What the translator made of a fixture, as JSON.
pub fn outcome_json(name: &str) -> Value {
    let c = config();
    let raw = fixture(name);
    let result = if name.ends_with(".form") {
        let text = std::fs::read_to_string(&c.taxonomy).expect("taxonomy");
        let taxonomy = Taxonomy::from_toml(&text).expect("taxonomy parses");
        translate_post(&Post::from_urlencoded(&raw), "test-app", &taxonomy)
            .map_err(|e| json!({"code": e.code, "description": e.description}))
    } else {
        translate_event(&raw, &c.options())
            .map_err(|e| json!({"field": e.field, "message": e.message}))
    };
    match result {
        Ok(r) => json!({ "request": crate::common::golden::request_json(&r) }),
        Err(e) => json!({ "error": e }),
    }
}
