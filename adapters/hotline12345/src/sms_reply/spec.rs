//! The reply callback as the service config describes it (`[adapters.sms_replies.callback]`):
//! where the fields are, and how the gateway proves a callback is its own.
use serde::Deserialize;

use crate::sms::ContentType;
use crate::sms::sign::{Algorithm, Encoding};

/// The gateway's callback, as the service config describes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplySpec {
    /// `json` (default) or `form`: how the callback's body is encoded.
    pub content_type: ContentType,
    /// Where the citizen's phone number is: a dotted path into a JSON body (`mobile`,
    /// `data.phone`), or a form field's name.
    pub phone_field: String,
    /// Where the text the citizen sent is.
    pub text_field: String,
    /// Where the gateway's id of the message is: a retried callback carries the same one, so
    /// it is what makes a retry a replay.
    pub message_id_field: String,
    /// A header carrying the shared secret as it is (e.g. `X-Token`), for gateways that do not
    /// sign. Exactly one of `token_header`, `token_query` and `signature` is set.
    pub token_header: String,
    /// A query parameter carrying the shared secret, for gateways that only let the callback
    /// URL be configured (keep such URLs out of access logs).
    pub token_query: String,
    /// How the gateway signs its callbacks.
    pub signature: Option<ReplySignatureSpec>,
}

impl Default for ReplySpec {
    fn default() -> Self {
        Self {
            content_type: ContentType::Json,
            phone_field: "mobile".into(),
            text_field: "content".into(),
            message_id_field: "msgId".into(),
            token_header: String::new(),
            token_query: String::new(),
            signature: None,
        }
    }
}

/// How a callback is signed (`[adapters.sms_replies.signature]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplySignatureSpec {
    /// `hmac-sha256` (default), `hmac-sha1`, or `sha256` (then `signed` contains `{secret}`).
    pub algorithm: Algorithm,
    /// `hex` (default; either case is accepted), `hex-upper` or `base64`.
    pub encoding: Encoding,
    /// The header carrying the signature.
    pub header: String,
    /// The string signed, a template (default `"{timestamp}\n{body}"`).
    pub signed: String,
    /// The header carrying the callback's Unix time (seconds or milliseconds); required when
    /// `signed` uses `{timestamp}`. A callback further than the allowed skew from now is
    /// refused, so a captured one cannot be played again later.
    pub timestamp_header: String,
    /// The header carrying a nonce, when `signed` uses `{nonce}`.
    pub nonce_header: String,
}

impl Default for ReplySignatureSpec {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::HmacSha256,
            encoding: Encoding::Hex,
            header: "X-Signature".into(),
            signed: "{timestamp}\n{body}".into(),
            timestamp_header: "X-Timestamp".into(),
            nonce_header: String::new(),
        }
    }
}
