//! The request signature an SMS gateway checks: a MAC or digest over a canonical string the
//! gateway's description spells out, encoded as the gateway expects. Domestic SMS platforms
//! differ in the string (timestamp + body, account + timestamp + secret, ...) far more than in
//! the primitives, so the string is a template and only these few primitives are code.
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// How the canonical string is turned into the signature bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// HMAC-SHA256 keyed with the secret (most current gateways).
    #[default]
    HmacSha256,
    /// HMAC-SHA1 keyed with the secret (older Aliyun-style APIs).
    HmacSha1,
    /// Plain SHA-256 of the string; the secret must then be part of it (`{secret}`).
    Sha256,
}

/// How the signature bytes are written into the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// Lower-case hexadecimal.
    #[default]
    Hex,
    /// Upper-case hexadecimal.
    HexUpper,
    /// Standard base64 with padding.
    Base64,
}

impl Algorithm {
    /// Whether the secret is the key (an HMAC) rather than part of the signed string.
    pub fn keyed(self) -> bool {
        !matches!(self, Algorithm::Sha256)
    }
}

/// The signature of `message` under `secret`, encoded.
pub fn sign(algorithm: Algorithm, encoding: Encoding, secret: &[u8], message: &[u8]) -> String {
    let bytes: Vec<u8> = match algorithm {
        // HMAC takes keys of any length, so `new_from_slice` cannot fail; an empty MAC would
        // only make the gateway refuse the request, which the sender reports.
        Algorithm::HmacSha256 => Hmac::<Sha256>::new_from_slice(secret)
            .map(|m| m.chain_update(message).finalize().into_bytes().to_vec())
            .unwrap_or_default(),
        Algorithm::HmacSha1 => Hmac::<Sha1>::new_from_slice(secret)
            .map(|m| m.chain_update(message).finalize().into_bytes().to_vec())
            .unwrap_or_default(),
        Algorithm::Sha256 => Sha256::digest(message).to_vec(),
    };
    match encoding {
        Encoding::Hex => hex::encode(bytes),
        Encoding::HexUpper => hex::encode_upper(bytes),
        Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(bytes),
    }
}

/// A short token for `{nonce}`, derived from the notice id and the instant so that one attempt
/// always renders the same request (golden files, replays) while two attempts differ.
pub fn nonce(notice_id: &str, now_ms: i64) -> String {
    let d = Sha256::new()
        .chain_update(notice_id.as_bytes())
        .chain_update(b"\n")
        .chain_update(now_ms.to_string().as_bytes())
        .finalize();
    hex::encode(&d[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // RFC 4231 test case 2 and RFC 2202 test case 2.
        let (key, msg) = (
            b"Jefe".as_slice(),
            b"what do ya want for nothing?".as_slice(),
        );
        assert_eq!(
            sign(Algorithm::HmacSha256, Encoding::Hex, key, msg),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            sign(Algorithm::HmacSha1, Encoding::HexUpper, key, msg),
            "EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79"
        );
        assert_eq!(
            sign(Algorithm::Sha256, Encoding::Base64, b"ignored", b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[test]
    fn nonces_are_stable_per_attempt_and_differ_between_attempts() {
        assert_eq!(nonce("N-1", 1000), nonce("N-1", 1000));
        assert_ne!(nonce("N-1", 1000), nonce("N-1", 1001));
        assert_eq!(nonce("N-1", 1000).len(), 16);
    }
}
