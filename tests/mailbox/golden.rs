//! Golden fixtures: every `tests/fixtures/mailbox/*.eml` through the translator, compared with
//! the `.json` beside it. The proto types have no serde, so the JSON is built here from the
//! fields, leaving out what is empty, with enums by their proto names: a reviewer reads it as
//! the department would see the request. `UPDATE_GOLDEN=1` rewrites the `.json` files (review
//! the diff before committing).
use std::collections::BTreeMap;
use std::path::PathBuf;

use minhu::pb;
use minhu_adapter_mailbox::{MailOutcome, Options, translate_mail};
use serde_json::{Map, Value, json};

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mailbox")
}

/// The fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
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
    let channel = pb::Channel::try_from(r.channel).map_or("?", |c| c.as_str_name());
    put(&mut m, "channel", json!(channel));
    put(&mut m, "source_system", json!(r.source_system));
    put(&mut m, "source_id", json!(r.source_id));
    if let Some(t) = &r.reported_at {
        put(&mut m, "reported_at_unix", json!(t.seconds));
    }
    if r.request_type != 0 {
        let t = pb::RequestType::try_from(r.request_type).map_or("?", |t| t.as_str_name());
        put(&mut m, "request_type", json!(t));
    }
    put(&mut m, "category", json!(r.category));
    put(&mut m, "title", json!(r.title));
    put(&mut m, "description", json!(r.description));
    if let Some(l) = &r.location {
        let mut o = Map::new();
        put(&mut o, "address", json!(l.address));
        put(&mut o, "district_code", json!(l.district_code));
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
        .map(|a| json!({"url": a.url, "media_type": a.media_type, "sha256": a.sha256, "size": a.size}))
        .collect();
    put(&mut m, "attachments", json!(attachments));
    let extra: BTreeMap<_, _> = r.extra.iter().collect();
    put(&mut m, "extra", json!(extra));
    Value::Object(m)
}

/// What the translator made of `raw`, as JSON.
pub fn outcome_json(raw: &[u8]) -> Value {
    match translate_mail(raw, &Options::default()) {
        Ok(MailOutcome::Ticket(t)) => {
            for (a, r) in t.attachments.iter().zip(&t.request.attachments) {
                assert_eq!(a.sha256, r.sha256, "attachment bytes and reference agree");
                assert_eq!(a.bytes.len() as u64, r.size);
            }
            json!({ "request": request_json(&t.request) })
        }
        Ok(MailOutcome::Ignored(i)) => json!({ "ignored": {
            "reason": i.reason.as_str(),
            "detail": i.detail,
            "sender": i.sender,
            "source_id": i.source_id,
        }}),
        Err(e) => json!({ "error": { "field": e.field(), "message": e.to_string() } }),
    }
}
