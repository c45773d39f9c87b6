//! Sealing personal data at rest: an AEAD keyring (XChaCha20-Poly1305) and the versioned form
//! a sealed value takes in the store. Pure: no SQL here; `contacts` decides what is sealed.
//!
//! A sealed value is
//!
//! ```text
//! 0x00 'm' 'h' 0x01 | id length (1 byte) | key id | nonce (24 bytes) | ciphertext and tag
//! ```
//!
//! The leading 0x00 can start neither an encoded protobuf message (field number 0 does not
//! exist) nor JSON text, so a column may hold sealed values beside clear ones written before
//! keys were configured, and a reader tells them apart by the first bytes. The key id says
//! which key opens the value, so a keyring can hold the new key and the old ones while a
//! re-key pass rewrites old rows; `0x01` is the format's version, for a later change of cipher.
//!
//! The associated data binds each value to its place (table, column and row id, see
//! [`Place`]) and to its own header: a value copied into another row, or given another key
//! id, does not open.
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use thiserror::Error;

/// Length of a key, in bytes.
pub const KEY_LEN: usize = 32;
/// Longest key id: it is repeated in every sealed value.
pub const MAX_ID_LEN: usize = 32;
/// How every sealed value starts (format version 1).
const MAGIC: [u8; 4] = [0x00, b'm', b'h', 0x01];
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Why a sealed value does not open.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SealError {
    /// Sealed with a key this keyring does not have.
    #[error("sealed with key {0:?}, which is not among the configured [privacy] keys")]
    UnknownKey(String),
    /// The value does not authenticate: damaged, tampered with, or moved from another row.
    #[error("sealed value does not authenticate (damaged, or not this row's)")]
    Tampered,
    /// Not in the sealed format at all (cut short, unknown version).
    #[error("not a sealed value of a known format")]
    Malformed,
    /// The value is sealed but no keys are configured.
    #[error("the value is sealed but no [privacy] keys are configured")]
    NoKeys,
}

/// Where a sealed value lives: part of its associated data.
#[derive(Debug, Clone, Copy)]
pub enum Place<'a> {
    /// `tickets.reporter` of a ticket.
    Reporter(&'a str),
    /// `notices.address` of a notice.
    Address(&'a str),
    /// `outbox.payload` of a dispatch.
    Payload(&'a str),
    /// The store's digest key, in `meta`.
    Pepper,
}

impl Place<'_> {
    fn bytes(self) -> Vec<u8> {
        let (what, id) = match self {
            Place::Reporter(id) => ("tickets.reporter", id),
            Place::Address(id) => ("notices.address", id),
            Place::Payload(id) => ("outbox.payload", id),
            Place::Pepper => ("meta.seal.pepper", ""),
        };
        [what.as_bytes(), &[0], id.as_bytes()].concat()
    }
}

/// One key and its id.
struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// The configured keys; one is active (new values are sealed with it).
pub struct Keyring {
    keys: Vec<Key>,
    active: usize,
}

impl std::fmt::Debug for Keyring {
    // Never the keys themselves.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("ids", &self.ids().collect::<Vec<_>>())
            .field("active", &self.active_id())
            .finish()
    }
}

impl Keyring {
    /// A keyring of `keys` (id, key) sealing with the key `active`. Ids must be unique,
    /// non-empty and at most [`MAX_ID_LEN`] bytes of `[A-Za-z0-9._-]` (config checks them
    /// first and names the key at fault; this is the last guard).
    pub fn new(keys: Vec<(String, [u8; KEY_LEN])>, active: &str) -> Result<Keyring, String> {
        let mut out: Vec<Key> = Vec::with_capacity(keys.len());
        for (id, key) in keys {
            if let Some(problem) = id_problem(&id) {
                return Err(format!("key id {id:?}: {problem}"));
            }
            if out.iter().any(|k| k.id == id) {
                return Err(format!("key id {id:?} is given twice"));
            }
            let cipher = XChaCha20Poly1305::new(&key.into());
            out.push(Key { id, cipher });
        }
        let active = out
            .iter()
            .position(|k| k.id == active)
            .ok_or_else(|| format!("the active key {active:?} is not among the keys"))?;
        Ok(Keyring { keys: out, active })
    }

    /// The id of the key new values are sealed with.
    pub fn active_id(&self) -> &str {
        &self.keys[self.active].id
    }

    /// Every key id, in configured order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    /// Whether the keyring has a key of this id.
    pub fn has(&self, id: &str) -> bool {
        self.keys.iter().any(|k| k.id == id)
    }

    /// Seals `plain` for `place` with the active key and a fresh random nonce.
    pub fn seal(&self, place: Place<'_>, plain: &[u8]) -> Vec<u8> {
        let key = &self.keys[self.active];
        let mut out = header(&key.id);
        let header_len = out.len();
        // 192 random bits: no two values under one key share a nonce, however many there are.
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = [&out[..header_len], &place.bytes()].concat();
        // Encrypting into memory cannot fail for inputs under the cipher's 256 GiB limit.
        let sealed = key
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value sealed for `place` by whichever key it names.
    pub fn open(&self, place: Place<'_>, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let parts = parse(sealed)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id.as_bytes() == parts.id)
            .ok_or_else(|| SealError::UnknownKey(String::from_utf8_lossy(parts.id).into()))?;
        let aad = [parts.header, &place.bytes()].concat();
        key.cipher
            .decrypt(
                XNonce::from_slice(parts.nonce),
                Payload {
                    msg: parts.body,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Tampered)
    }
}

/// What is wrong with a key id, if anything.
pub fn id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() {
        Some("must not be empty")
    } else if id.len() > MAX_ID_LEN {
        Some("must be at most 32 characters")
    } else if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        Some("may hold only letters, digits, '.', '_' and '-'")
    } else {
        None
    }
}

/// Whether a stored value is sealed (rather than written in clear before keys were set).
pub fn is_sealed(stored: &[u8]) -> bool {
    stored.starts_with(&MAGIC)
}

/// The id of the key a sealed value names; None for a clear or malformed value.
pub fn key_id(stored: &[u8]) -> Option<&str> {
    parse(stored)
        .ok()
        .and_then(|p| std::str::from_utf8(p.id).ok())
}

fn header(id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + 1 + id.len() + NONCE_LEN + TAG_LEN + 64);
    out.extend_from_slice(&MAGIC);
    // Ids are checked to be at most MAX_ID_LEN (< 256) bytes when the keyring is built.
    out.push(id.len() as u8);
    out.extend_from_slice(id.as_bytes());
    out
}

/// A sealed value's parts.
struct Parts<'a> {
    /// Magic, id length and id: authenticated with the body.
    header: &'a [u8],
    id: &'a [u8],
    nonce: &'a [u8],
    body: &'a [u8],
}

fn parse(stored: &[u8]) -> Result<Parts<'_>, SealError> {
    let rest = stored.strip_prefix(&MAGIC).ok_or(SealError::Malformed)?;
    let (&len, rest) = rest.split_first().ok_or(SealError::Malformed)?;
    let len = usize::from(len);
    if rest.len() < len + NONCE_LEN + TAG_LEN {
        return Err(SealError::Malformed);
    }
    let header_len = MAGIC.len() + 1 + len;
    let (id, rest) = rest.split_at(len);
    let (nonce, body) = rest.split_at(NONCE_LEN);
    Ok(Parts {
        header: &stored[..header_len],
        id,
        nonce,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(keys: &[(&str, u8)], active: &str) -> Keyring {
        Keyring::new(
            keys.iter()
                .map(|(id, b)| ((*id).to_owned(), [*b; KEY_LEN]))
                .collect(),
            active,
        )
        .unwrap()
    }

    const PHONE: &[u8] = b"13912345678";

    #[test]
    fn a_sealed_value_opens_in_its_place_and_hides_its_content() {
        let r = ring(&[("k1", 1)], "k1");
        let s = r.seal(Place::Reporter("T1"), PHONE);
        assert!(is_sealed(&s));
        assert_eq!(key_id(&s), Some("k1"));
        assert!(!s.windows(PHONE.len()).any(|w| w == PHONE));
        assert_eq!(r.open(Place::Reporter("T1"), &s).unwrap(), PHONE);
        // Random nonces: the same value sealed twice differs.
        assert_ne!(s, r.seal(Place::Reporter("T1"), PHONE));
    }

    #[test]
    fn a_value_does_not_open_in_another_place() {
        let r = ring(&[("k1", 1)], "k1");
        let s = r.seal(Place::Reporter("T1"), PHONE);
        assert_eq!(r.open(Place::Reporter("T2"), &s), Err(SealError::Tampered));
        assert_eq!(r.open(Place::Address("T1"), &s), Err(SealError::Tampered));
    }

    #[test]
    fn a_tampered_value_does_not_open() {
        let r = ring(&[("k1", 1)], "k1");
        let s = r.seal(Place::Payload("D1"), PHONE);
        for i in [s.len() - 1, s.len() - TAG_LEN - 1, MAGIC.len() + 3 + 5] {
            let mut t = s.clone();
            t[i] ^= 1;
            assert_eq!(
                r.open(Place::Payload("D1"), &t),
                Err(SealError::Tampered),
                "byte {i}"
            );
        }
        assert_eq!(
            r.open(Place::Payload("D1"), &s[..s.len() - TAG_LEN]),
            Err(SealError::Malformed)
        );
        assert_eq!(
            r.open(Place::Payload("D1"), b"{}"),
            Err(SealError::Malformed)
        );
    }

    #[test]
    fn an_unknown_or_renamed_key_id_is_refused() {
        let old = ring(&[("k1", 1)], "k1");
        let s = old.seal(Place::Pepper, PHONE);
        let other = ring(&[("k2", 2)], "k2");
        assert_eq!(
            other.open(Place::Pepper, &s),
            Err(SealError::UnknownKey("k1".into()))
        );
        // The same key under another id: the header is authenticated too.
        let renamed = ring(&[("k9", 1)], "k9");
        let mut moved = s.clone();
        moved[MAGIC.len() + 2] = b'9';
        assert_eq!(
            renamed.open(Place::Pepper, &moved),
            Err(SealError::Tampered)
        );
        // A key of the right id but the wrong bytes.
        let wrong = ring(&[("k1", 7)], "k1");
        assert_eq!(wrong.open(Place::Pepper, &s), Err(SealError::Tampered));
    }

    #[test]
    fn rotation_seals_with_the_new_key_and_still_opens_the_old() {
        let before = ring(&[("2026", 1)], "2026");
        let old = before.seal(Place::Address("N1"), PHONE);
        let after = ring(&[("2026", 1), ("2027", 2)], "2027");
        let new = after.seal(Place::Address("N1"), PHONE);
        assert_eq!(key_id(&new), Some("2027"));
        assert_eq!(after.open(Place::Address("N1"), &old).unwrap(), PHONE);
        assert_eq!(after.open(Place::Address("N1"), &new).unwrap(), PHONE);
        // Once re-sealed, the old key can go.
        let only_new = ring(&[("2027", 2)], "2027");
        assert_eq!(only_new.open(Place::Address("N1"), &new).unwrap(), PHONE);
        assert!(only_new.open(Place::Address("N1"), &old).is_err());
    }

    #[test]
    fn clear_values_are_not_taken_for_sealed_ones() {
        for clear in [&b"{\"phone\":\"1\"}"[..], &[0x0a, 0x02, b'h', b'i'], b""] {
            assert!(!is_sealed(clear));
            assert_eq!(key_id(clear), None);
        }
    }

    #[test]
    fn key_ids_are_checked() {
        assert!(id_problem("2027-01").is_none());
        assert!(id_problem("").is_some());
        assert!(id_problem("a b").is_some());
        assert!(id_problem(&"x".repeat(33)).is_some());
        assert!(Keyring::new(vec![("a".into(), [0; 32])], "b").is_err());
        assert!(Keyring::new(vec![("a".into(), [0; 32]), ("a".into(), [1; 32])], "a").is_err());
        let r = ring(&[("a", 0), ("b", 1)], "b");
        assert_eq!(r.ids().collect::<Vec<_>>(), ["a", "b"]);
        assert!(!format!("{r:?}").contains("[0"));
    }
}
