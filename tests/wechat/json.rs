//! A readable JSON view of a `minhu.v1.Request` for golden files (the generated proto types
//! have no serde): enum names as in the .proto, timestamps as Unix seconds, coordinates rounded
//! to 7 decimals (about 1 cm), and default values left out so a fixture shows only what the
//! translator set.
use minhu::pb;
use serde_json::{Map, Value, json};

fn put(m: &mut Map<String, Value>, k: &str, v: Value) {
    let empty = match &v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
    };
    if !empty {
        m.insert(k.to_owned(), v);
    }
}

fn round7(v: f64) -> Value {
    json!((v * 1e7).round() / 1e7)
}

/// The request as golden-file JSON.
pub fn request(r: &pb::Request) -> Value {
    let mut m = Map::new();
    let channel = pb::Channel::try_from(r.channel).map_or("?", |c| c.as_str_name());
    put(&mut m, "channel", json!(channel));
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
        put(&mut o, "street_code", json!(l.street_code));
        put(&mut o, "community_code", json!(l.community_code));
        put(&mut o, "grid_id", json!(l.grid_id));
        put(&mut o, "has_coordinates", json!(l.has_coordinates));
        if l.has_coordinates {
            o.insert("lat".into(), round7(l.lat));
            o.insert("lng".into(), round7(l.lng));
        }
        if l.coordinate_system != 0 {
            let cs = pb::CoordinateSystem::try_from(l.coordinate_system)
                .map_or("?", |c| c.as_str_name());
            o.insert("coordinate_system".into(), json!(cs));
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
    if r.urgency != 0 {
        let u = pb::Urgency::try_from(r.urgency).map_or("?", |u| u.as_str_name());
        put(&mut m, "urgency", json!(u));
    }
    // serde_json's Map is ordered by key: the extra map prints the same every run.
    let extra: Map<String, Value> = r.extra.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    put(&mut m, "extra", Value::Object(extra));
    Value::Object(m)
}
