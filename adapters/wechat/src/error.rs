//! Everything that can go wrong between WeChat's bytes and a canonical `Request`. Messages name
//! what is wrong, never the personal data it carried (no openids, no message text), so they are
//! safe to log and to return.
use thiserror::Error;

/// Why a push, a verification or a mini-program submission was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WechatError {
    /// A required query parameter or header (signature, timestamp, nonce, ...) is absent.
    #[error("missing {0}")]
    Missing(&'static str),
    /// The signature does not match: forged, or signed with another token or secret.
    #[error("{0} does not match")]
    BadSignature(&'static str),
    /// The timestamp is outside the accepted window (a replayed or badly delayed push).
    #[error(
        "timestamp {timestamp} is {skew_secs} s away from now; at most {window_secs} s allowed"
    )]
    Stale {
        timestamp: i64,
        skew_secs: i64,
        window_secs: i64,
    },
    /// A parameter is present but not in the expected form (a timestamp that is not a number).
    #[error("{0} is malformed")]
    Malformed(&'static str),
    /// Safe mode was requested but the account has no EncodingAESKey configured.
    #[error("encrypted push but no encoding_aes_key is configured for this account")]
    NoAesKey,
    /// The EncodingAESKey is not 43 characters of base64 decoding to 32 bytes.
    #[error("encoding_aes_key must be 43 base64 characters (32 bytes once \"=\" is appended)")]
    BadAesKey,
    /// `Encrypt` is not valid base64, or not a whole number of AES blocks.
    #[error("Encrypt is not valid base64 of whole AES blocks")]
    BadBase64,
    /// The PKCS#7 padding (1..=32 bytes, WeChat's 32-byte block) is inconsistent: wrong key or
    /// corrupted ciphertext.
    #[error("bad padding after decryption (wrong EncodingAESKey or corrupted Encrypt)")]
    BadPadding,
    /// The decrypted frame (16 random bytes, length, XML, AppId) is inconsistent.
    #[error("decrypted frame is malformed: {0}")]
    BadFrame(&'static str),
    /// The AppId inside the encrypted frame is not this account's.
    #[error("AppId in the encrypted message is not this account's")]
    WrongAppId,
    /// The XML is not well-formed, truncated, or not a WeChat `<xml>` document.
    #[error("malformed XML: {0}")]
    Xml(String),
    /// The XML declares a DTD or uses a custom entity: refused, never expanded (XXE, billion laughs).
    #[error("XML with a DOCTYPE or entity declaration/reference is refused: {0}")]
    Dtd(String),
    /// A field the message type requires is absent or empty.
    #[error("{0} is required")]
    MissingField(&'static str),
    /// A field has a value that cannot be used (a CreateTime that is not a number).
    #[error("{field} is invalid: {reason}")]
    InvalidField {
        field: &'static str,
        reason: &'static str,
    },
    /// The mini-program JSON does not have the documented shape.
    #[error("invalid mini-program submission: {0}")]
    Json(String),
}

impl WechatError {
    /// Whether the caller failed to authenticate (wrong signature, stale, wrong AppId): the
    /// gateway answers 401/403 and stores nothing.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            WechatError::Missing(_)
                | WechatError::BadSignature(_)
                | WechatError::Stale { .. }
                | WechatError::WrongAppId
        )
    }
}
