//! Golden fixtures: every `tests/fixtures/hotline12345/<source>.<case>.json` work order through
//! the mapping of `<source>` in `config/hotline-sources.example.toml`, compared with
//! `<source>.<case>.expected.json`. The proto types have no serde, so the JSON is built here
//! from the fields (empty ones left out, enums by their proto names). `UPDATE_GOLDEN=1`
//! rewrites the expected files (review the diff before committing).
use std::collections::BTreeMap;
use std::path::PathBuf;

use minhu::config::adapters::hotline12345::Hotline12345Config;
use minhu::pb;
use serde_json::{Map, Value, json};

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

fn put(m: &mut Map<String, Value>, k: &str, v: Value) {
    let empty = match &v {
        Value::String(s) => s.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(b) => !b,
        _ => false,
    };
    if !empty {
        m.insert(k.to_owned(), v);
    }
}

fn name<E: TryFrom<i32>>(v: i32, f: impl Fn(E) -> &'static str) -> Value {
    json!(E::try_from(v).map_or("?", f))
}

/// A request as readable JSON.
pub fn request_json(r: &pb::Request) -> Value {
    let mut m = Map::new();
    put(
        &mut m,
        "channel",
        name(r.channel, |c: pb::Channel| c.as_str_name()),
    );
    put(&mut m, "source_system", json!(r.source_system));
    put(&mut m, "source_id", json!(r.source_id));
    if let Some(t) = &r.reported_at {
        m.insert("reported_at_unix".into(), json!(t.seconds));
    }
    if r.request_type != 0 {
        put(
            &mut m,
            "request_type",
            name(r.request_type, |t: pb::RequestType| t.as_str_name()),
        );
    }
    if r.urgency != 0 {
        put(
            &mut m,
            "urgency",
            name(r.urgency, |u: pb::Urgency| u.as_str_name()),
        );
    }
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
        put(&mut m, "location", Value::Object(o));
    }
    if let Some(p) = &r.reporter {
        let mut o = Map::new();
        put(&mut o, "name", json!(p.name));
        put(&mut o, "phone", json!(p.phone));
        put(&mut o, "anonymous", json!(p.anonymous));
        put(&mut m, "reporter", Value::Object(o));
    }
    let extra: BTreeMap<_, _> = r.extra.iter().collect();
    put(&mut m, "extra", json!(extra));
    Value::Object(m)
}
