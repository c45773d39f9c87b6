//! Attachments: the bytes and metadata taken out of a mail, and the content address the request
//! refers to them by.
use sha2::{Digest, Sha256};

use crate::pb;

/// One attachment's bytes, to be stored under `sha256` before the request is submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentData {
    /// Lower-case hex SHA-256 of `bytes`.
    pub sha256: String,
    /// IANA media type, lower case, e.g. `image/jpeg` (`application/octet-stream` if unknown).
    pub media_type: String,
    /// The file name the sender gave, if any (personal data: not for logs).
    pub filename: Option<String>,
    /// The decoded content (transfer encoding removed).
    pub bytes: Vec<u8>,
}

/// The URL a request's attachment carries: `minhu-attachment:sha256:<hex>`. The gateway keeps
/// the bytes in its attachments directory under the same hash.
pub fn attachment_url(sha256_hex: &str) -> String {
    format!("minhu-attachment:sha256:{sha256_hex}")
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl AttachmentData {
    pub(crate) fn new(media_type: String, filename: Option<String>, bytes: Vec<u8>) -> Self {
        Self {
            sha256: sha256_hex(&bytes),
            media_type,
            filename,
            bytes,
        }
    }

    /// The request's reference to this attachment.
    pub fn to_pb(&self) -> pb::Attachment {
        pb::Attachment {
            url: attachment_url(&self.sha256),
            media_type: self.media_type.clone(),
            sha256: self.sha256.clone(),
            size: self.bytes.len() as u64,
        }
    }
}
