//! Mini-program submissions (随手拍: text, photos already uploaded as URLs, a location pin),
//! JSON posted by the mini-program's own backend, and their authentication.
//!
//! Authentication is per mini-program with a shared secret: the backend sends
//! `X-Minhu-App-Id: <mini-program AppId>`, `X-Minhu-Timestamp: <Unix seconds>` and
//! `X-Minhu-Signature: <lower-case hex HMAC-SHA256(secret, "<timestamp>\n<body>")>`. The
//! timestamp must be within the configured window. The secret never ships inside the
//! mini-program itself: the backend resolves the citizen's openid (`code2Session`) and signs.
//!
//! Body (unknown fields are refused):
//! ```json
//! {"id": "sub-20261122-0001", "openid": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M",
//!  "text": "人行道井盖缺失", "photos": ["https://cdn.example.cn/a.jpg"],
//!  "location": {"lat": 34.2611, "lng": 108.947, "coordinate_system": "gcj02",
//!               "address": "莲湖区北大街"},
//!  "created_at": 1763800000, "phone": "13912345678", "name": "王小明"}
//! ```
//! `id` is the idempotency key. `coordinate_system` is `gcj02` (the default: `wx.getLocation`
//! with `type: 'gcj02'` and `wx.chooseLocation`) or `wgs84`.
use std::collections::HashMap;

use hmac::{Hmac, Mac};
use minhu_adapter::pb;
use serde::Deserialize;
use sha2::Sha256;

use crate::error::WechatError;
use crate::gcj02;

/// A location pin.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    pub lat: f64,
    pub lng: f64,
    /// `gcj02` (default) or `wgs84`.
    #[serde(default)]
    pub coordinate_system: Option<String>,
    #[serde(default)]
    pub address: String,
}

/// One submission.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// The mini-program's id for this submission: the idempotency key.
    pub id: String,
    /// The citizen's openid within the mini-program.
    pub openid: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub photos: Vec<String>,
    #[serde(default)]
    pub location: Option<Pin>,
    /// Unix seconds when the citizen submitted.
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub name: String,
}

/// Checks the HMAC-SHA256 signature of a submission (constant time).
pub fn verify(
    secret: &str,
    timestamp: &str,
    body: &[u8],
    signature: &str,
) -> Result<(), WechatError> {
    let given =
        decode_hex(signature.trim()).ok_or(WechatError::BadSignature("X-Minhu-Signature"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| WechatError::BadSignature("X-Minhu-Signature"))?;
    mac.update(timestamp.trim().as_bytes());
    mac.update(b"\n");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| WechatError::BadSignature("X-Minhu-Signature"))
}

/// The signature a backend sends (for clients and tests).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(b"\n");
    mac.update(body);
    crate::crypto::hex(&mac.finalize().into_bytes())
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Parses and checks a submission body.
pub fn parse(body: &[u8]) -> Result<Submission, WechatError> {
    let s: Submission =
        serde_json::from_slice(body).map_err(|e| WechatError::Json(e.to_string()))?;
    if s.id.trim().is_empty() {
        return Err(WechatError::MissingField("id"));
    }
    if s.openid.trim().is_empty() {
        return Err(WechatError::MissingField("openid"));
    }
    if s.text.trim().is_empty() && s.photos.is_empty() && s.location.is_none() {
        return Err(WechatError::MissingField("text, photos or location"));
    }
    for p in &s.photos {
        if !(p.starts_with("https://") || p.starts_with("http://")) {
            return Err(WechatError::InvalidField {
                field: "photos",
                reason: "must be http(s) URLs",
            });
        }
    }
    if let Some(pin) = &s.location {
        if !(pin.lat.is_finite() && (-90.0..=90.0).contains(&pin.lat)) {
            return Err(WechatError::InvalidField {
                field: "location.lat",
                reason: "latitude outside -90..90",
            });
        }
        if !(pin.lng.is_finite() && (-180.0..=180.0).contains(&pin.lng)) {
            return Err(WechatError::InvalidField {
                field: "location.lng",
                reason: "longitude outside -180..180",
            });
        }
        match pin.coordinate_system.as_deref() {
            None | Some("gcj02" | "wgs84") => {}
            Some(_) => {
                return Err(WechatError::InvalidField {
                    field: "location.coordinate_system",
                    reason: "must be gcj02 or wgs84",
                });
            }
        }
    }
    Ok(s)
}

fn media_type(url: &str) -> &'static str {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    if path.ends_with(".png") {
        "image/png"
    } else if path.ends_with(".webp") {
        "image/webp"
    } else if path.ends_with(".heic") {
        "image/heic"
    } else {
        // What wx.chooseMedia produces; the department sees the real type when it fetches.
        "image/jpeg"
    }
}

/// Translates a submission; `source_system` is `wechat:<mini-program AppId>`.
pub fn translate(s: &Submission, source_system: &str) -> pb::Request {
    let description = if !s.text.trim().is_empty() {
        s.text.trim().to_owned()
    } else if !s.photos.is_empty() {
        "[图片]".to_owned()
    } else {
        "[位置]".to_owned()
    };
    let location = s.location.as_ref().map(|p| {
        let wgs = p.coordinate_system.as_deref() == Some("wgs84");
        let (lat, lng) = if wgs {
            (p.lat, p.lng)
        } else {
            gcj02::to_wgs84(p.lat, p.lng)
        };
        pb::Location {
            address: p.address.trim().to_owned(),
            lat,
            lng,
            coordinate_system: if wgs {
                pb::CoordinateSystem::Wgs84
            } else {
                pb::CoordinateSystem::Gcj02
            } as i32,
            original_lat: p.lat,
            original_lng: p.lng,
            has_coordinates: true,
            ..Default::default()
        }
    });
    let mut extra = HashMap::new();
    extra.insert("wechat.msg_type".to_owned(), "miniprogram".to_owned());
    pb::Request {
        channel: pb::Channel::Wechat as i32,
        source_system: source_system.to_owned(),
        source_id: s.id.trim().to_owned(),
        reported_at: s
            .created_at
            .map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
        description,
        location,
        reporter: Some(pb::Reporter {
            name: s.name.trim().to_owned(),
            phone: s.phone.trim().to_owned(),
            wechat_openid: s.openid.trim().to_owned(),
            ..Default::default()
        }),
        attachments: s
            .photos
            .iter()
            .map(|u| pb::Attachment {
                url: u.clone(),
                media_type: media_type(u).into(),
                ..Default::default()
            })
            .collect(),
        extra,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_round_trip_and_forgery() {
        let body = br#"{"id":"1"}"#;
        let sig = sign("s3cret", "1700000000", body);
        assert!(verify("s3cret", "1700000000", body, &sig).is_ok());
        assert!(verify("other", "1700000000", body, &sig).is_err());
        assert!(verify("s3cret", "1700000001", body, &sig).is_err());
        assert!(verify("s3cret", "1700000000", body, "zz").is_err());
        assert!(verify("s3cret", "1700000000", body, "").is_err());
    }

    #[test]
    fn parse_refuses_bad_shapes() {
        assert!(parse(b"{").is_err());
        assert!(parse(br#"{"id":"1","openid":"o"}"#).is_err());
        assert!(parse(br#"{"id":"1","openid":"o","text":"x","evil":1}"#).is_err());
        assert!(parse(br#"{"id":"1","openid":"o","photos":["file:///etc/passwd"]}"#).is_err());
        let ok = parse(
            r#"{"id":"1","openid":"o","location":{"lat":34.2611,"lng":108.947,"address":"北大街"}}"#
                .as_bytes(),
        )
        .expect("parses");
        let r = translate(&ok, "wechat:wxmp");
        let loc = r.location.expect("location");
        assert_eq!(loc.coordinate_system, pb::CoordinateSystem::Gcj02 as i32);
        assert!((loc.lat - 34.2611).abs() > 1e-5 && loc.has_coordinates);
        assert_eq!(r.description, "[位置]");
    }
}
