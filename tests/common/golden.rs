//! Golden-fixture runner: every input file in a folder goes through the translator, and its
//! outcome (as JSON) must equal the expected file beside it. `UPDATE_GOLDEN=1` rewrites the
//! expected files instead. [`request_json`] is the one readable JSON view of a Request that
//! every channel's fixtures are written in.
#![allow(dead_code)]

use std::path::Path;

use minhu::pb;
use serde_json::{Map, Value, json};

/// Runs every fixture in `dir` accepted by `is_input` (at least `min` of them), computing its
/// outcome with `outcome(file_name)` and comparing it with `dir/expected_name(file_name)`.
/// Reports every mismatch at once.
pub fn check_fixtures(
    dir: &Path,
    is_input: impl Fn(&str) -> bool,
    expected_name: impl Fn(&str) -> String,
    min: usize,
    outcome: impl Fn(&str) -> Value,
) {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| is_input(n))
        .collect();
    names.sort();
    assert!(names.len() >= min, "fixtures missing: {names:?}");
    let mut failed = Vec::new();
    for name in &names {
        let got = outcome(name);
        let path = dir.join(expected_name(name));
        let pretty = serde_json::to_string_pretty(&got).expect("json") + "\n";
        if update {
            std::fs::write(&path, &pretty).expect("write golden");
            continue;
        }
        let want: Value = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_else(|| panic!("{} missing or not JSON", path.display()));
        if got != want {
            failed.push(format!("{name}:\n got: {pretty}want: {want:#}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// A `minhu.v1.Request` as golden-file JSON (the generated proto types have no serde): enum
/// names as in the .proto, the report time as Unix seconds (`reported_at`), coordinates rounded to 7 decimals
/// (about 1 cm, so files do not depend on the last bit), and default values left out, so a
/// fixture shows exactly what the translator set.
pub fn request_json(r: &pb::Request) -> Value {
    let mut m = Map::new();
    put(&mut m, "channel", name(r.channel, pb::Channel::as_str_name));
    put(&mut m, "source_system", json!(r.source_system));
    put(&mut m, "source_id", json!(r.source_id));
    put(
        &mut m,
        "reported_at",
        r.reported_at
            .as_ref()
            .map_or(Value::Null, |t| json!(t.seconds)),
    );
    if r.request_type != 0 {
        put(
            &mut m,
            "request_type",
            name(r.request_type, pb::RequestType::as_str_name),
        );
    }
    if r.urgency != 0 {
        put(&mut m, "urgency", name(r.urgency, pb::Urgency::as_str_name));
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
        put(&mut o, "has_coordinates", json!(l.has_coordinates));
        if l.has_coordinates {
            o.insert("lat".into(), round7(l.lat));
            o.insert("lng".into(), round7(l.lng));
        }
        if l.coordinate_system != 0 {
            let cs = name(l.coordinate_system, pb::CoordinateSystem::as_str_name);
            o.insert("coordinate_system".into(), cs);
            o.insert("original_lat".into(), round7(l.original_lat));
            o.insert("original_lng".into(), round7(l.original_lng));
        }
        m.insert("location".into(), Value::Object(o));
    }
    if let Some(p) = &r.reporter {
        let mut o = Map::new();
        put(&mut o, "name", json!(p.name));
        put(&mut o, "phone", json!(p.phone));
        put(&mut o, "wechat_openid", json!(p.wechat_openid));
        put(&mut o, "email", json!(p.email));
        put(&mut o, "anonymous", json!(p.anonymous));
        put(&mut m, "reporter", Value::Object(o));
    }
    let attachments: Vec<Value> = r
        .attachments
        .iter()
        .map(|a| {
            let mut o = Map::new();
            put(&mut o, "url", json!(a.url));
            put(&mut o, "media_type", json!(a.media_type));
            put(&mut o, "sha256", json!(a.sha256));
            put(&mut o, "size", json!(a.size));
            Value::Object(o)
        })
        .collect();
    put(&mut m, "attachments", Value::Array(attachments));
    // serde_json's Map is ordered by key: the extra map prints the same every run.
    let extra: Map<String, Value> = r.extra.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    put(&mut m, "extra", Value::Object(extra));
    Value::Object(m)
}

/// Inserts `v` under `k` unless it is a default value (empty, false, zero or null).
fn put(m: &mut Map<String, Value>, k: &str, v: Value) {
    let default = match &v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
    };
    if !default {
        m.insert(k.to_owned(), v);
    }
}

/// An enum value by its proto name (`?` for a number the .proto does not know).
fn name<E: TryFrom<i32>>(v: i32, f: impl Fn(&E) -> &'static str) -> Value {
    json!(E::try_from(v).map_or("?", |e| f(&e)))
}

fn round7(v: f64) -> Value {
    json!((v * 1e7).round() / 1e7)
}
