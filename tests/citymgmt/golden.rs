//! Golden fixtures: every `tests/fixtures/citymgmt/*.event.json` (a 数字城管 event) and
//! `*.form` (an Open311 post) through the translator, compared with the `.expected.json`
//! beside it. The proto types have no serde, so the JSON is built here from the fields, leaving
//! out what is empty, with enums by their proto names. `UPDATE_GOLDEN=1` rewrites the expected
//! files (review the diff before committing).
use std::collections::BTreeMap;
use std::path::PathBuf;

use minhu::config::adapters::citymgmt::CitymgmtConfig;
use minhu::pb;
use minhu_adapter_citymgmt::event::translate_event;
use minhu_adapter_citymgmt::open311::{Post, translate_post};
use minhu_adapter_citymgmt::sha256_hex;
use minhu_adapter_citymgmt::taxonomy::Taxonomy;
use serde_json::{Map, Value, json};

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

/// Inserts `v` under `k` unless it is empty.
fn put(m: &mut Map<String, Value>, k: &str, v: Value) {
    let empty = match &v {
        Value::String(s) => s.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        _ => false,
    };
    if !empty {
        m.insert(k.to_owned(), v);
    }
}

/// A request as readable JSON.
pub fn request_json(r: &pb::Request) -> Value {
    let mut m = Map::new();
    let name = |v: Result<&str, ()>| v.unwrap_or("?").to_owned();
    put(
        &mut m,
        "channel",
        json!(name(
            pb::Channel::try_from(r.channel)
                .map(|c| c.as_str_name())
                .map_err(drop)
        )),
    );
    put(&mut m, "source_system", json!(r.source_system));
    put(&mut m, "source_id", json!(r.source_id));
    if let Some(t) = &r.reported_at {
        put(&mut m, "reported_at_unix", json!(t.seconds));
    }
    put(
        &mut m,
        "request_type",
        json!(name(
            pb::RequestType::try_from(r.request_type)
                .map(|c| c.as_str_name())
                .map_err(drop)
        )),
    );
    put(&mut m, "category", json!(r.category));
    put(&mut m, "title", json!(r.title));
    put(&mut m, "description", json!(r.description));
    if let Some(l) = &r.location {
        let mut o = Map::new();
        put(&mut o, "address", json!(l.address));
        put(&mut o, "district_code", json!(l.district_code));
        put(&mut o, "street_code", json!(l.street_code));
        put(&mut o, "community_code", json!(l.community_code));
        put(&mut o, "grid_id", json!(l.grid_id));
        if l.has_coordinates {
            put(&mut o, "lat", json!(l.lat));
            put(&mut o, "lng", json!(l.lng));
            put(&mut o, "original_lat", json!(l.original_lat));
            put(&mut o, "original_lng", json!(l.original_lng));
            let cs = pb::CoordinateSystem::try_from(l.coordinate_system)
                .map_or("?", |c| c.as_str_name());
            put(&mut o, "coordinate_system", json!(cs));
        }
        put(&mut m, "location", Value::Object(o));
    }
    if let Some(p) = &r.reporter {
        let mut o = Map::new();
        put(&mut o, "name", json!(p.name));
        put(&mut o, "phone", json!(p.phone));
        put(&mut o, "email", json!(p.email));
        put(&mut m, "reporter", Value::Object(o));
    }
    let attachments: Vec<Value> = r
        .attachments
        .iter()
        .map(|a| json!({"url": a.url, "media_type": a.media_type}))
        .collect();
    put(&mut m, "attachments", json!(attachments));
    if r.urgency != 0 {
        let u = pb::Urgency::try_from(r.urgency).map_or("?", |u| u.as_str_name());
        put(&mut m, "urgency", json!(u));
    }
    let extra: BTreeMap<_, _> = r.extra.iter().collect();
    put(&mut m, "extra", json!(extra));
    Value::Object(m)
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
        Ok(r) => json!({ "request": request_json(&r) }),
        Err(e) => json!({ "error": e }),
    }
}
