//! Proto3 JSON (the canonical protobuf JSON mapping) of Minhu's messages, by reflection over
//! the compiled descriptor set: for departments without protobuf tooling
//! (`encoding = "json"`, `content_type` `application/json`) and for reading requests written
//! by hand (`minhu routes explain request.json`).
use std::sync::LazyLock;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};

use crate::pb;

/// `content_type` of a JSON-encoded dispatch.
pub const CONTENT_TYPE: &str = "application/json";

static POOL: LazyLock<Result<DescriptorPool, String>> = LazyLock::new(|| {
    DescriptorPool::decode(minhu_proto::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string())
});

fn descriptor(name: &str) -> Result<prost_reflect::MessageDescriptor, String> {
    POOL.as_ref()
        .map_err(Clone::clone)?
        .get_message_by_name(name)
        .ok_or_else(|| format!("message {name} is not in the descriptor set"))
}

/// Proto3 JSON of an encoded message named `name` (e.g. `minhu.v1.Dispatch`).
pub fn encode(name: &str, protobuf: &[u8]) -> Result<Vec<u8>, String> {
    let msg = DynamicMessage::decode(descriptor(name)?, protobuf).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::new(&mut out);
    msg.serialize_with_options(&mut ser, &SerializeOptions::new())
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Proto3 JSON of a dispatch.
pub fn dispatch_to_json(d: &pb::Dispatch) -> Result<Vec<u8>, String> {
    encode("minhu.v1.Dispatch", &d.encode_to_vec())
}

/// Parses the proto3 JSON of message `name` into its encoded protobuf form.
fn decode_json(name: &str, text: &[u8]) -> Result<Vec<u8>, String> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let msg = DynamicMessage::deserialize(descriptor(name)?, &mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(msg.encode_to_vec())
}

/// A `minhu.v1.Request` from its proto3 JSON form.
pub fn request_from_json(text: &str) -> Result<pb::Request, String> {
    let bytes = decode_json("minhu.v1.Request", text.as_bytes())?;
    pb::Request::decode(bytes.as_slice()).map_err(|e| e.to_string())
}

/// A `minhu.v1.Dispatch` from its proto3 JSON form (what `encoding = "json"` departments get).
pub fn dispatch_from_json(body: &[u8]) -> Result<pb::Dispatch, String> {
    let bytes = decode_json("minhu.v1.Dispatch", body)?;
    pb::Dispatch::decode(bytes.as_slice()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_json_uses_proto3_names() {
        let d = pb::Dispatch {
            dispatch_id: "D1".into(),
            department_id: "roads".into(),
            level: pb::Level::CDistrict as i32,
            ..Default::default()
        };
        let json = dispatch_to_json(&d).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["dispatchId"], "D1");
        assert_eq!(dispatch_from_json(&json).unwrap(), d);
        assert_eq!(v["level"], "LEVEL_C_DISTRICT");
    }

    #[test]
    fn request_from_json_round_trip_and_errors() {
        let r = request_from_json(
            r#"{"channel":"CHANNEL_WECHAT","description":"井盖丢了","location":{"districtCode":"610104","lat":34.26,"lng":108.94,"hasCoordinates":true}}"#,
        )
        .unwrap();
        assert_eq!(r.channel, pb::Channel::Wechat as i32);
        assert_eq!(r.location.unwrap().district_code, "610104");
        let e = request_from_json(r#"{"channel":"CHANNEL_NOPE"}"#).unwrap_err();
        assert!(e.contains("CHANNEL_NOPE"), "{e}");
    }
}
