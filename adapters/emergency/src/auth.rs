//! Dispatch centres authenticate with `Authorization: Bearer <token>`. The configuration holds
//! only the token's SHA-256 digest in hex (`printf %s "$TOKEN" | sha256sum`), so a leaked config
//! file does not leak the tokens; digests are compared in constant time.
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The lower-case hex SHA-256 of a token, as it goes into the configuration.
pub fn token_sha256_hex(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 32 bytes from 64 hex digits (either case); None otherwise.
pub fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

/// Whether `token` hashes to `digest` (constant time in the digest comparison).
pub fn token_matches(token: &str, digest: &[u8; 32]) -> bool {
    let given = Sha256::digest(token.as_bytes());
    bool::from(given.as_slice().ct_eq(digest.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_round_trip_and_match() {
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(token_sha256_hex("abc"), abc);
        let d = parse_digest(&abc.to_ascii_uppercase()).unwrap();
        assert!(token_matches("abc", &d));
        assert!(!token_matches("abd", &d));
        assert!(!token_matches("", &d));
        assert_eq!(parse_digest("abc"), None);
        assert_eq!(parse_digest(&"g".repeat(64)), None);
    }
}
