//! Golden fixtures: every `tests/fixtures/emergency/<name>.transfer.json` through the
//! translator (as dispatch centre `xian-<line>`), compared with `<name>.request.json` beside
//! it. The proto types have no serde, so the JSON is built here from the fields, leaving out
//! what is empty, with enums by their proto names. `UPDATE_GOLDEN=1` rewrites the expected
//! files (review the diff before committing).
use std::collections::BTreeMap;
use std::path::PathBuf;

use minhu::pb;
use minhu_adapter_emergency::{parse_transfers, translate};
use serde_json::{Map, Value, json};

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emergency")
}

/// The fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn put(m: &mut Map<String, Value>, k: &str, v: Value) {
    let empty = match &v {
        Value::String(s) => s.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Null => true,
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
        put(&mut m, "reported_at_unix", json!(t.seconds));
    }
    put(
        &mut m,
        "urgency",
        name(r.urgency, |u: pb::Urgency| u.as_str_name()),
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
        if l.has_coordinates {
            let system = name(l.coordinate_system, |s: pb::CoordinateSystem| {
                s.as_str_name()
            });
            put(&mut o, "coordinate_system", system);
            // Rounded to 1e-7° (about a centimetre) so the files do not depend on the last bit.
            let r7 = |x: f64| (x * 1e7).round() / 1e7;
            put(&mut o, "lat", json!(r7(l.lat)));
            put(&mut o, "lng", json!(r7(l.lng)));
            put(&mut o, "original_lat", json!(l.original_lat));
            put(&mut o, "original_lng", json!(l.original_lng));
        }
        put(&mut m, "location", Value::Object(o));
    }
    if let Some(p) = &r.reporter {
        let mut o = Map::new();
        put(&mut o, "name", json!(p.name));
        put(&mut o, "phone", json!(p.phone));
        put(&mut m, "reporter", Value::Object(o));
    }
    let extra: BTreeMap<_, _> = r.extra.iter().collect();
    put(&mut m, "extra", json!(extra));
    Value::Object(m)
}

/// What the translator made of a fixture body: one request (or error) per item.
pub fn outcome_json(raw: &[u8]) -> Value {
    let items = parse_transfers(raw, 100).expect("a fixture body parses");
    let out: Vec<Value> = items
        .into_iter()
        .map(|item| match item {
            Ok(t) => request_json(&translate(&t, &format!("xian-{}", t.line.as_str()))),
            Err(e) => json!({ "error": { "field": e.field(), "message": e.to_string() } }),
        })
        .collect();
    json!(out)
}
