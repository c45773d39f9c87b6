//! Pure translation of a parsed WeChat message into the canonical `minhu.v1.Request`.
//!
//! | MsgType | description | other fields |
//! | --- | --- | --- |
//! | text | `Content` | |
//! | image | `[图片]` | attachment: `PicUrl` (image/jpeg); `wechat.media_id` |
//! | voice | `Recognition`, or `[语音消息，未识别]` | `wechat.media_id`, `wechat.voice_format` |
//! | video, shortvideo | `[视频]` | `wechat.media_id`, `wechat.thumb_media_id` |
//! | location | `[位置] <Label>` | location: `Label` as address, GCJ-02 original, WGS-84 lat/lng |
//! | link | `Title`, `Description`, `Url` on separate lines | title: `Title`; `wechat.link_url` |
//! | event | no ticket (`success`) | |
//! | anything else | no ticket: the citizen is told which kinds are accepted | |
//!
//! Every ticket: channel `CHANNEL_WECHAT`, `source_system` given by the caller
//! (`wechat:<AppId or account id>`), `source_id` = `MsgId`, `reported_at` = `CreateTime`,
//! reporter `wechat_openid` = `FromUserName`, and `wechat.msg_type` / `wechat.to_user` in `extra`.
use std::collections::HashMap;

use minhu_adapter::pb;

use crate::gcj02;
use crate::message::{Body, Message};

/// The result of translating one push.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A report: submit it.
    Ticket(Box<pb::Request>),
    /// An event (subscribe, menu click, …): acknowledged with `success`, nothing stored.
    Event { event: String },
    /// A message type that is not translated: nothing stored; the citizen gets
    /// [`crate::reply::UNSUPPORTED_TEXT`].
    Unsupported { msg_type: String },
}

/// Translates a message; `source_system` names the account (`wechat:<AppId or account id>`).
pub fn translate(msg: &Message, source_system: &str) -> Outcome {
    let mut extra = HashMap::new();
    extra.insert("wechat.msg_type".to_owned(), msg.header.msg_type.clone());
    extra.insert("wechat.to_user".to_owned(), msg.header.to_user.clone());
    let mut req = pb::Request {
        channel: pb::Channel::Wechat as i32,
        source_system: source_system.to_owned(),
        source_id: msg.source_id(),
        reported_at: Some(prost_types::Timestamp {
            seconds: msg.header.create_time,
            nanos: 0,
        }),
        reporter: Some(pb::Reporter {
            wechat_openid: msg.header.from_user.clone(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() {
            extra.insert(k.to_owned(), v.to_owned());
        }
    };
    match &msg.body {
        Body::Event { event, .. } => {
            return Outcome::Event {
                event: event.clone(),
            };
        }
        Body::Unsupported => {
            return Outcome::Unsupported {
                msg_type: msg.header.msg_type.clone(),
            };
        }
        Body::Text { content } => req.description = content.clone(),
        Body::Image { pic_url, media_id } => {
            req.description = "[图片]".into();
            req.attachments.push(pb::Attachment {
                url: pic_url.clone(),
                media_type: "image/jpeg".into(),
                ..Default::default()
            });
            put("wechat.media_id", media_id);
        }
        Body::Voice {
            media_id,
            format,
            recognition,
        } => {
            req.description = if recognition.is_empty() {
                "[语音消息，未识别]".into()
            } else {
                recognition.clone()
            };
            put("wechat.media_id", media_id);
            put("wechat.voice_format", format);
        }
        Body::Video {
            media_id,
            thumb_media_id,
        } => {
            req.description = "[视频]".into();
            put("wechat.media_id", media_id);
            put("wechat.thumb_media_id", thumb_media_id);
        }
        Body::Location {
            lat,
            lng,
            scale,
            label,
        } => {
            req.description = if label.is_empty() {
                "[位置]".into()
            } else {
                format!("[位置] {label}")
            };
            let (w_lat, w_lng) = gcj02::to_wgs84(*lat, *lng);
            req.location = Some(pb::Location {
                address: label.clone(),
                lat: w_lat,
                lng: w_lng,
                coordinate_system: pb::CoordinateSystem::Gcj02 as i32,
                original_lat: *lat,
                original_lng: *lng,
                has_coordinates: true,
                ..Default::default()
            });
            put("wechat.location_scale", scale);
        }
        Body::Link {
            title,
            description,
            url,
        } => {
            req.title = title.clone();
            req.description = [title.as_str(), description.as_str(), url.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            put("wechat.link_url", url);
        }
    }
    req.extra = extra;
    Outcome::Ticket(Box::new(req))
}
