//! Reporters' contacts in the store: which values are sealed where, and the store's side of
//! the keyring (see [`super::seal`] for the format).
//!
//! With `[privacy] keys` configured:
//! - a ticket's `request` is stored without the reporter's name, phone, openid and e-mail
//!   (`anonymous` and `no_contact` stay); those go, sealed, into `tickets.reporter`;
//! - a notice's `address` and every dispatch's outbox `payload` (it carries the report and
//!   its reporter to the department) are sealed;
//! - follow-up keys (`tickets.reporter_key`) and notices' `contact_key` are keyed digests
//!   (HMAC-SHA256 under the store's own random *pepper*, itself sealed in `meta`), so equal
//!   contacts still compare equal without a phone number being guessable from its digest.
//!
//! Without keys everything is written as before, in clear. Readers take either form: rows
//! written before keys were configured still read, and the re-key pass (`rekey`) seals them.
//!
//! `meta` remembers which key ids may have sealed values in the store (`seal.keys`) and
//! whether clear values may be left (`seal.clear`). A start without one of those keys fails
//! ([`prepare`]), rather than running on and showing contacts that do not open.
use std::borrow::Cow;
use std::sync::Arc;

use crate::db::{Conn, OptionalExtension, params};
use hmac::{Hmac, Mac};
use prost::Message;
use sha2::Sha256;

use super::StoreError;
use super::seal::{self, Keyring, Place};
use crate::pb;

/// Prefix of a keyed digest: a clear follow-up key (`wechat:…`) or contact key (hex) never has it.
pub const DIGEST_PREFIX: &str = "h1:";

/// How the store treats contacts: in clear (no keys), sealed, or — for read-only tools that
/// have no keys and need none — withheld.
#[derive(Clone, Default)]
pub struct Sealer(Mode);

#[derive(Clone, Default)]
enum Mode {
    #[default]
    Clear,
    Sealed(Arc<Keys>),
    Withheld,
}

struct Keys {
    ring: Keyring,
    /// Keys the digests; random per store, sealed in `meta` under the active key.
    pepper: [u8; 32],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Mode::Clear => f.write_str("Sealer(clear)"),
            Mode::Withheld => f.write_str("Sealer(withheld)"),
            Mode::Sealed(k) => write!(f, "Sealer({:?})", k.ring),
        }
    }
}

/// What a start found in the store.
#[derive(Debug)]
pub struct Prepared {
    pub sealer: Sealer,
    /// Values under other keys than the active one, or in clear, may be left: the re-key
    /// pass has work.
    pub rekey: bool,
}

impl Sealer {
    /// Contacts in clear, as before keys existed.
    pub fn clear() -> Sealer {
        Sealer(Mode::Clear)
    }

    /// Reads that leave sealed contacts out instead of opening them (tools without keys
    /// that need no contacts, such as `tickets explain`).
    pub fn withheld() -> Sealer {
        Sealer(Mode::Withheld)
    }

    /// Whether new values are sealed.
    pub fn is_on(&self) -> bool {
        matches!(self.0, Mode::Sealed(_))
    }

    /// The active key's id, when sealing.
    pub fn active_id(&self) -> Option<&str> {
        match &self.0 {
            Mode::Sealed(k) => Some(k.ring.active_id()),
            _ => None,
        }
    }

    /// `plain` as it is to be stored at `place`.
    pub fn seal<'a>(&self, place: Place<'_>, plain: &'a [u8]) -> Cow<'a, [u8]> {
        match &self.0 {
            Mode::Sealed(k) => Cow::Owned(k.ring.seal(place, plain)),
            _ => Cow::Borrowed(plain),
        }
    }

    /// A stored value read back: clear values as they are, sealed ones opened. None when it
    /// is sealed and this sealer withholds contacts.
    pub fn open<'a>(
        &self,
        place: Place<'_>,
        stored: &'a [u8],
    ) -> Result<Option<Cow<'a, [u8]>>, StoreError> {
        if !seal::is_sealed(stored) {
            return Ok(Some(Cow::Borrowed(stored)));
        }
        match &self.0 {
            Mode::Sealed(k) => k
                .ring
                .open(place, stored)
                .map(|v| Some(Cow::Owned(v)))
                .map_err(|e| StoreError::Sealed(format!("{place:?}: {e}"))),
            Mode::Withheld => Ok(None),
            Mode::Clear => Err(StoreError::Sealed(format!(
                "{place:?}: {}",
                seal::SealError::NoKeys
            ))),
        }
    }

    /// Whether a stored value should be rewritten: sealed under another key than the active
    /// one, or in clear while keys are configured.
    pub fn stale(&self, stored: &[u8]) -> bool {
        match &self.0 {
            Mode::Sealed(k) => seal::key_id(stored) != Some(k.ring.active_id()),
            _ => false,
        }
    }

    /// A follow-up key or contact key as stored: a keyed digest when sealing, else as given.
    pub fn digest<'a>(&self, value: &'a str) -> Cow<'a, str> {
        let Mode::Sealed(k) = &self.0 else {
            return Cow::Borrowed(value);
        };
        if value.starts_with(DIGEST_PREFIX) {
            return Cow::Borrowed(value);
        }
        // HMAC takes a key of any length, so this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&k.pepper) else {
            return Cow::Borrowed(value);
        };
        mac.update(value.as_bytes());
        let hex: String = mac.finalize().into_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Cow::Owned(format!("{DIGEST_PREFIX}{hex}"))
    }

    /// A ticket's request as stored: the encoded request and, when sealing and the reporter
    /// left contacts, the sealed contacts (the request then keeps only `anonymous` and
    /// `no_contact` of its reporter).
    pub fn store_request(&self, ticket_id: &str, req: &pb::Request) -> (Vec<u8>, Option<Vec<u8>>) {
        let Mode::Sealed(k) = &self.0 else {
            return (req.encode_to_vec(), None);
        };
        let Some(contacts) = contacts_of(req) else {
            return (req.encode_to_vec(), None);
        };
        let mut bare = req.clone();
        strip(&mut bare);
        let sealed = k
            .ring
            .seal(Place::Reporter(ticket_id), &contacts.encode_to_vec());
        (bare.encode_to_vec(), Some(sealed))
    }

    /// A ticket's request read back, its reporter's contacts opened from `reporter` (NULL: in
    /// the request itself, written in clear, or erased).
    pub fn load_request(
        &self,
        ticket_id: &str,
        request: &[u8],
        reporter: Option<&[u8]>,
    ) -> Result<pb::Request, StoreError> {
        let mut req = pb::Request::decode(request)
            .map_err(|e| StoreError::Corrupt(format!("ticket {ticket_id} request: {e}")))?;
        let Some(stored) = reporter else {
            return Ok(req);
        };
        let Some(plain) = self.open(Place::Reporter(ticket_id), stored)? else {
            return Ok(req);
        };
        let c = pb::Reporter::decode(plain.as_ref())
            .map_err(|e| StoreError::Corrupt(format!("ticket {ticket_id} reporter: {e}")))?;
        let r = req.reporter.get_or_insert_with(Default::default);
        r.name = c.name;
        r.phone = c.phone;
        r.wechat_openid = c.wechat_openid;
        r.email = c.email;
        Ok(req)
    }
}

/// The reporter's contacts alone, if they left any.
fn contacts_of(req: &pb::Request) -> Option<pb::Reporter> {
    let r = req.reporter.as_ref()?;
    let c = pb::Reporter {
        name: r.name.clone(),
        phone: r.phone.clone(),
        wechat_openid: r.wechat_openid.clone(),
        email: r.email.clone(),
        ..Default::default()
    };
    (c != pb::Reporter::default()).then_some(c)
}

/// Removes the reporter's contacts from a request; true when there were any.
pub fn strip(req: &mut pb::Request) -> bool {
    let Some(r) = req.reporter.as_mut() else {
        return false;
    };
    let had = !(r.name.is_empty()
        && r.phone.is_empty()
        && r.wechat_openid.is_empty()
        && r.email.is_empty());
    r.name.clear();
    r.phone.clear();
    r.wechat_openid.clear();
    r.email.clear();
    had
}

/// Checks the store's sealed state against the configured keys at start-up, and makes the
/// active key one the store records.
///
/// Fails when the store holds values sealed with a key that is not configured, or when it
/// holds sealed values and no keys are configured at all.
pub fn prepare(conn: &mut Conn, ring: Option<Keyring>) -> Result<Prepared, StoreError> {
    let tx = conn.transaction()?;
    let used = keys_used(&tx)?;
    let Some(ring) = ring else {
        if !used.is_empty() {
            return Err(StoreError::Sealed(format!(
                "this store holds contacts sealed with key(s) {}, and no [privacy] keys are \
                 configured; configure them (contacts cannot be read or written without)",
                used.join(", ")
            )));
        }
        set_meta(&tx, "seal.clear", "1")?;
        tx.commit()?;
        return Ok(Prepared {
            sealer: Sealer::clear(),
            rekey: false,
        });
    };
    let missing: Vec<&str> = used
        .iter()
        .map(String::as_str)
        .filter(|id| !ring.has(id))
        .collect();
    if !missing.is_empty() {
        return Err(StoreError::Sealed(format!(
            "this store holds contacts sealed with key(s) {} that [privacy] keys lacks; add \
             them back (once the re-key pass has re-sealed their rows under the active key, \
             they can go)",
            missing.join(", ")
        )));
    }
    let active = ring.active_id().to_owned();
    let pepper = match meta(&tx, "seal.pepper")? {
        Some(hex) => {
            let stored = from_hex(&hex)
                .ok_or_else(|| StoreError::Corrupt("meta seal.pepper is not hex".into()))?;
            let plain = ring
                .open(Place::Pepper, &stored)
                .map_err(|e| StoreError::Sealed(format!("the store's digest key: {e}")))?;
            let pepper: [u8; 32] = plain
                .try_into()
                .map_err(|_| StoreError::Corrupt("meta seal.pepper has the wrong length".into()))?;
            if seal::key_id(&stored) != Some(active.as_str()) {
                set_meta(
                    &tx,
                    "seal.pepper",
                    &to_hex(&ring.seal(Place::Pepper, &pepper)),
                )?;
            }
            pepper
        }
        None => {
            let pepper: [u8; 32] = rand::random();
            set_meta(
                &tx,
                "seal.pepper",
                &to_hex(&ring.seal(Place::Pepper, &pepper)),
            )?;
            pepper
        }
    };
    let rekey = used.iter().any(|id| *id != active) || meta(&tx, "seal.clear")?.is_some();
    let mut ids = used;
    if !ids.contains(&active) {
        ids.push(active);
    }
    set_meta(&tx, "seal.keys", &ids.join(","))?;
    tx.commit()?;
    Ok(Prepared {
        sealer: Sealer(Mode::Sealed(Arc::new(Keys { ring, pepper }))),
        rekey,
    })
}

/// After a complete re-key sweep: every value is sealed under the active key.
pub fn resealed(tx: &Conn, active: &str) -> Result<(), StoreError> {
    set_meta(tx, "seal.keys", active)?;
    tx.prepare_cached("DELETE FROM meta WHERE key = 'seal.clear'")?
        .execute([])?;
    Ok(())
}

/// What a store says of its sealed contacts (`minhu privacy status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealState {
    /// Ids of the keys values may still be sealed with: each must stay configured.
    pub keys: Vec<String>,
    /// Contacts written in clear may be left (until a re-key pass with keys configured).
    pub clear: bool,
}

/// Reads the sealed state of the store at `at`, read-only (works while `serve` runs).
pub fn state_at(at: &super::Location) -> Result<SealState, StoreError> {
    let conn = super::schema::open_existing(at)?;
    let keys = keys_used(&conn)?;
    let clear = meta(&conn, "seal.clear")?.is_some();
    Ok(SealState { keys, clear })
}

/// The ids of every key that has sealed something in this store (`meta` `seal.keys`).
fn keys_used(c: &Conn) -> Result<Vec<String>, StoreError> {
    Ok(meta(c, "seal.keys")?
        .map(|v| {
            v.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default())
}

fn meta(c: &Conn, key: &str) -> Result<Option<String>, StoreError> {
    Ok(c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row(params![key], |r| r.get(0))
        .optional()?)
}

fn set_meta(c: &Conn, key: &str, value: &str) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
#[path = "contacts_tests.rs"]
mod tests;
