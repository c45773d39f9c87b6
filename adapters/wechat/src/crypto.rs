//! WeChat's signatures and "safe mode" (安全模式) encryption, on the RustCrypto crates.
//!
//! - Signature: lower-case hex SHA-1 of the parts (token, timestamp, nonce and, in safe mode, the
//!   `Encrypt` text) sorted as byte strings and concatenated. Compared in constant time.
//! - Safe mode: AES-256-CBC; key = base64 of the 43-character EncodingAESKey plus `=`; IV = the
//!   key's first 16 bytes; PKCS#7 padding to a 32-byte block (so 1..=32 bytes of padding). The
//!   plaintext frame is 16 random bytes, a 4-byte big-endian length, the XML, then the AppId.
//!
//! The signature is always checked before anything is decrypted, so padding errors cannot be
//! used as an oracle.
use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose::STANDARD};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::error::WechatError;

/// WeChat's PKCS#7 block: 32 bytes, not AES's 16.
const PAD_BLOCK: usize = 32;

/// EncodingAESKeys are 43 random alphanumerics: the last one often has non-zero trailing bits,
/// which WeChat's own SDKs ignore, so decoding must too.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Lower-case hex SHA-1 of the parts, sorted and concatenated (WeChat's signature).
pub fn signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let mut h = Sha1::new();
    for p in sorted {
        h.update(p.as_bytes());
    }
    hex(&h.finalize())
}

/// Whether `given` is the signature of `parts` (constant-time, case-insensitive hex).
pub fn verify(given: &str, parts: &[&str]) -> bool {
    let want = signature(parts);
    let given = given.trim().to_ascii_lowercase();
    want.as_bytes().ct_eq(given.as_bytes()).into()
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// An account's safe-mode cipher.
#[derive(Clone)]
pub struct Cipher {
    key: [u8; 32],
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(..)")
    }
}

/// A decrypted safe-mode frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// The inner XML message.
    pub xml: String,
    /// The AppId WeChat appended (the caller checks it against the account's).
    pub app_id: String,
}

impl Cipher {
    /// Builds the cipher from the 43-character EncodingAESKey shown in the WeChat console.
    pub fn new(encoding_aes_key: &str) -> Result<Self, WechatError> {
        let k = encoding_aes_key.trim();
        if k.len() != 43 {
            return Err(WechatError::BadAesKey);
        }
        let bytes = LENIENT
            .decode(format!("{k}="))
            .map_err(|_| WechatError::BadAesKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| WechatError::BadAesKey)?;
        Ok(Self { key })
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }

    /// Decrypts an `Encrypt` value into the inner XML and the AppId. Does not check the AppId.
    pub fn decrypt(&self, encrypt: &str) -> Result<Decrypted, WechatError> {
        let mut buf = LENIENT
            .decode(encrypt.trim())
            .map_err(|_| WechatError::BadBase64)?;
        if buf.is_empty() || !buf.len().is_multiple_of(PAD_BLOCK) {
            return Err(WechatError::BadBase64);
        }
        let plain = cbc::Decryptor::<Aes256>::new(&self.key.into(), &self.iv().into())
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| WechatError::BadBase64)?;
        let pad = usize::from(*plain.last().ok_or(WechatError::BadPadding)?);
        if !(1..=PAD_BLOCK).contains(&pad)
            || pad > plain.len()
            || plain[plain.len() - pad..]
                .iter()
                .any(|&b| usize::from(b) != pad)
        {
            return Err(WechatError::BadPadding);
        }
        let frame = &plain[..plain.len() - pad];
        let Some(len_bytes) = frame.get(16..20) else {
            return Err(WechatError::BadFrame("shorter than 20 bytes"));
        };
        let len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        let len = usize::try_from(len).map_err(|_| WechatError::BadFrame("length too large"))?;
        let rest = &frame[20..];
        if len > rest.len() {
            return Err(WechatError::BadFrame("length runs past the end"));
        }
        let (xml, app_id) = rest.split_at(len);
        let xml =
            std::str::from_utf8(xml).map_err(|_| WechatError::BadFrame("XML is not UTF-8"))?;
        let app_id =
            std::str::from_utf8(app_id).map_err(|_| WechatError::BadFrame("AppId is not UTF-8"))?;
        Ok(Decrypted {
            xml: xml.to_owned(),
            app_id: app_id.to_owned(),
        })
    }

    /// Encrypts `xml` for `app_id` with the caller's 16 random bytes; returns base64 for
    /// `Encrypt`. (Randomness comes from the caller so this crate stays pure and testable.)
    pub fn encrypt(&self, xml: &str, app_id: &str, random: [u8; 16]) -> String {
        let body_len = 20 + xml.len() + app_id.len();
        let pad = PAD_BLOCK - body_len % PAD_BLOCK;
        let mut buf = Vec::with_capacity(body_len + pad);
        buf.extend_from_slice(&random);
        // A reply is a few hundred bytes; a length over u32 cannot be built by this crate.
        buf.extend_from_slice(&u32::try_from(xml.len()).unwrap_or(u32::MAX).to_be_bytes());
        buf.extend_from_slice(xml.as_bytes());
        buf.extend_from_slice(app_id.as_bytes());
        // pad is 1..=32, so it fits a byte.
        buf.resize(body_len + pad, pad as u8);
        let n = buf.len();
        let ct = cbc::Encryptor::<Aes256>::new(&self.key.into(), &self.iv().into())
            .encrypt_padded_mut::<NoPadding>(&mut buf, n)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        STANDARD.encode(ct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    #[test]
    fn signature_sorts_the_parts() {
        // sha1("1409659813" + "263014780" + "token") per WeChat's documentation example shape.
        let s = signature(&["token", "1409659813", "263014780"]);
        assert_eq!(s, signature(&["263014780", "token", "1409659813"]));
        assert_eq!(s.len(), 40);
        assert!(verify(
            &s.to_uppercase(),
            &["1409659813", "263014780", "token"]
        ));
        assert!(!verify("0", &["token", "1409659813", "263014780"]));
    }

    #[test]
    fn known_sha1() {
        // sha1("abc") from FIPS 180-1.
        assert_eq!(
            signature(&["abc"]),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn round_trip_every_padding_length() {
        let c = Cipher::new(KEY).expect("key");
        for n in 0..70 {
            let xml = "x".repeat(n);
            let enc = c.encrypt(&xml, "wx1234", [7; 16]);
            let d = c.decrypt(&enc).expect("decrypts");
            assert_eq!(d.xml, xml);
            assert_eq!(d.app_id, "wx1234");
        }
    }

    #[test]
    fn key_with_trailing_bits_is_accepted_and_bad_keys_are_not() {
        assert!(Cipher::new(KEY).is_ok());
        assert_eq!(Cipher::new("short").err(), Some(WechatError::BadAesKey));
        assert_eq!(
            Cipher::new(&"!".repeat(43)).err(),
            Some(WechatError::BadAesKey)
        );
    }

    #[test]
    fn corrupt_input_is_refused_not_panicked_on() {
        let c = Cipher::new(KEY).expect("key");
        assert_eq!(c.decrypt("%%%"), Err(WechatError::BadBase64));
        assert_eq!(c.decrypt(""), Err(WechatError::BadBase64));
        assert_eq!(c.decrypt("AAAA"), Err(WechatError::BadBase64));
        let other = Cipher::new("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg").expect("key");
        let enc = other.encrypt("<xml/>", "wx1", [1; 16]);
        assert!(matches!(
            c.decrypt(&enc),
            Err(WechatError::BadPadding | WechatError::BadFrame(_))
        ));
    }
}
