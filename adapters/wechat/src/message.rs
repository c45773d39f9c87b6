//! The typed WeChat message, read from the XML fields of a (decrypted) push.
//!
//! Common to all: `ToUserName` (the official account's original id, gh_…), `FromUserName` (the
//! citizen's openid), `CreateTime` (Unix seconds), `MsgType`. Ordinary messages carry `MsgId`;
//! events do not, so their idempotency key is `FromUserName` + `CreateTime`, as WeChat
//! documents for de-duplicating event retries.
use crate::error::WechatError;
use crate::xml::Fields;

/// Who and when, common to every push.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The official account's original id (`gh_…`).
    pub to_user: String,
    /// The citizen's openid. Personal data: never log it unmasked.
    pub from_user: String,
    /// Unix seconds, as WeChat stamped the message.
    pub create_time: i64,
    /// `MsgType` as sent (`text`, `image`, …, `event`).
    pub msg_type: String,
}

/// What the push carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Text {
        content: String,
    },
    Image {
        pic_url: String,
        media_id: String,
    },
    /// `Recognition` is present when the account enabled speech recognition (may be empty).
    Voice {
        media_id: String,
        format: String,
        recognition: String,
    },
    /// `video` and `shortvideo`: only media ids (fetched later with an access token).
    Video {
        media_id: String,
        thumb_media_id: String,
    },
    /// `Location_X` is the latitude and `Location_Y` the longitude, both GCJ-02.
    Location {
        lat: f64,
        lng: f64,
        scale: String,
        label: String,
    },
    Link {
        title: String,
        description: String,
        url: String,
    },
    /// `subscribe`, `unsubscribe`, `CLICK`, `VIEW`, `SCAN`, `LOCATION`, …: never a ticket.
    Event {
        event: String,
        event_key: String,
    },
    /// A `MsgType` this adapter does not translate (e.g. `file`, `miniprogrampage`).
    Unsupported,
}

/// A parsed push.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub header: Header,
    /// `MsgId` of ordinary messages; `None` for events.
    pub msg_id: Option<String>,
    pub body: Body,
}

fn parse_f64(fields: &Fields, name: &'static str) -> Result<f64, WechatError> {
    let v: f64 = fields
        .require(name)?
        .parse()
        .map_err(|_| WechatError::InvalidField {
            field: name,
            reason: "not a number",
        })?;
    if !v.is_finite() {
        return Err(WechatError::InvalidField {
            field: name,
            reason: "not a finite number",
        });
    }
    Ok(v)
}

impl Message {
    /// Reads a message from the fields of a WeChat XML document.
    pub fn from_fields(f: &Fields) -> Result<Self, WechatError> {
        let create_time =
            f.require("CreateTime")?
                .parse::<i64>()
                .map_err(|_| WechatError::InvalidField {
                    field: "CreateTime",
                    reason: "not a Unix timestamp",
                })?;
        if !(0..=253_402_300_799).contains(&create_time) {
            return Err(WechatError::InvalidField {
                field: "CreateTime",
                reason: "out of range",
            });
        }
        let header = Header {
            to_user: f.require("ToUserName")?.to_owned(),
            from_user: f.require("FromUserName")?.to_owned(),
            create_time,
            msg_type: f.require("MsgType")?.to_owned(),
        };
        let s = |name: &str| f.text(name).to_owned();
        let body = match header.msg_type.as_str() {
            "event" => Body::Event {
                event: f.require("Event")?.to_owned(),
                event_key: s("EventKey"),
            },
            "text" => Body::Text {
                content: f.require("Content")?.to_owned(),
            },
            "image" => Body::Image {
                pic_url: f.require("PicUrl")?.to_owned(),
                media_id: s("MediaId"),
            },
            "voice" => Body::Voice {
                media_id: f.require("MediaId")?.to_owned(),
                format: s("Format"),
                recognition: s("Recognition"),
            },
            "video" | "shortvideo" => Body::Video {
                media_id: f.require("MediaId")?.to_owned(),
                thumb_media_id: s("ThumbMediaId"),
            },
            "location" => {
                let lat = parse_f64(f, "Location_X")?;
                let lng = parse_f64(f, "Location_Y")?;
                if !(-90.0..=90.0).contains(&lat) {
                    return Err(WechatError::InvalidField {
                        field: "Location_X",
                        reason: "latitude outside -90..90",
                    });
                }
                if !(-180.0..=180.0).contains(&lng) {
                    return Err(WechatError::InvalidField {
                        field: "Location_Y",
                        reason: "longitude outside -180..180",
                    });
                }
                Body::Location {
                    lat,
                    lng,
                    scale: s("Scale"),
                    label: s("Label"),
                }
            }
            "link" => Body::Link {
                title: s("Title"),
                description: s("Description"),
                url: f.require("Url")?.to_owned(),
            },
            _ => Body::Unsupported,
        };
        let msg_id = match body {
            Body::Event { .. } => None,
            Body::Unsupported => f
                .get("MsgId")
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            _ => Some(f.require("MsgId")?.to_owned()),
        };
        Ok(Self {
            header,
            msg_id,
            body,
        })
    }

    /// The idempotency key within the account: `MsgId`, or for events
    /// `<FromUserName>:<CreateTime>`.
    pub fn source_id(&self) -> String {
        match &self.msg_id {
            Some(id) => id.clone(),
            None => format!("{}:{}", self.header.from_user, self.header.create_time),
        }
    }
}
