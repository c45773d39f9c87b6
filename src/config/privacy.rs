//! `[privacy]` in `config/minhu.toml`: the keys reporters' contacts are sealed with in the
//! store, and how long after a case is closed its contacts are kept.
//!
//! ```toml
//! [privacy]
//! active_key = "2027-01"     # new values are sealed with this key; older ones still open
//! erase_after = "180d"       # contacts erased this long after closure; "0s": never
//!
//! [[privacy.keys]]
//! id = "2027-01"
//! key_file = "/etc/minhu/contacts-2027-01.key"   # base64 of 32 random bytes
//! ```
//!
//! Without keys the store keeps contacts in clear, as before; `check-config` warns.
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;

use super::problem::Problems;
use super::secret::{self, Sources};
use crate::store::seal::{self, KEY_LEN, Keyring};

/// Personal data settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Keys reporters' contacts are sealed with (XChaCha20-Poly1305). Empty: contacts are kept
    /// in clear. Keep every key the store still has values under (see `minhu privacy
    /// status`); a start without one of them fails.
    pub keys: Vec<SealKey>,
    /// The id of the key new values are sealed with; may be left out with a single key.
    pub active_key: String,
    /// How long after a case is closed (办结) its reporters' contacts are erased, the case,
    /// its texts and its ratings kept; `0s`: never. At least a day otherwise.
    #[serde(with = "humantime_serde")]
    pub erase_after: Duration,
}

/// One sealing key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SealKey {
    /// Named in every value sealed with the key (letters, digits, `.`, `_`, `-`; at most 32),
    /// e.g. the month it was made: `2027-01`.
    pub id: String,
    /// The key: base64 of 32 random bytes (`head -c 32 /dev/urandom | base64`). Prefer
    /// `key_env` or `key_file`.
    pub key: String,
    /// Name of an environment variable holding the key (not a `MINHU_` one).
    pub key_env: String,
    /// A file holding the key.
    pub key_file: Option<PathBuf>,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            active_key: String::new(),
            erase_after: Duration::from_secs(180 * 86_400),
        }
    }
}

/// A key's problem: (config key, message).
type KeyProblem = (String, String);

impl PrivacyConfig {
    /// The keyring (None without keys), or the problems that keep it from being built.
    pub fn keyring(&self) -> Result<Option<Keyring>, Vec<KeyProblem>> {
        if self.keys.is_empty() {
            return Ok(None);
        }
        let mut problems = Vec::new();
        let mut keys = Vec::with_capacity(self.keys.len());
        for (i, k) in self.keys.iter().enumerate() {
            let at = format!("privacy.keys[{i}]");
            if let Some(p) = seal::id_problem(&k.id) {
                problems.push((format!("{at}.id"), p.to_owned()));
            } else if self.keys[..i].iter().any(|o| o.id == k.id) {
                problems.push((format!("{at}.id"), format!("duplicate key id {:?}", k.id)));
            }
            match k.bytes(&at) {
                Ok(bytes) => keys.push((k.id.clone(), bytes)),
                Err(p) => problems.push(p),
            }
        }
        let active = self.active();
        if !self.keys.iter().any(|k| k.id == active) {
            let message = if self.active_key.is_empty() {
                "name the key new values are sealed with (required with more than one key)"
                    .to_owned()
            } else {
                format!("no key has the id {active:?}")
            };
            problems.push(("privacy.active_key".into(), message));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Keyring::new(keys, active)
            .map(Some)
            .map_err(|e| vec![("privacy.keys".into(), e)])
    }

    /// The active key's id: `active_key`, or the only key's.
    fn active(&self) -> &str {
        match self.keys.as_slice() {
            [only] if self.active_key.is_empty() => &only.id,
            _ => &self.active_key,
        }
    }

    /// Records every problem under `privacy.*`.
    pub fn check(&self, p: &mut Problems) {
        if let Err(problems) = self.keyring() {
            for (key, message) in problems {
                p.add(key, message);
            }
        }
        if !self.erase_after.is_zero() && self.erase_after < Duration::from_secs(86_400) {
            p.add(
                "privacy.erase_after",
                "must be at least 1d (or 0s: never erase)",
            );
        }
    }

    /// What an operator should hear about, though it is allowed.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.keys.is_empty() {
            out.push(
                "[privacy] has no keys: reporters' contacts (names, phones, e-mail addresses, \
                 openids) are stored in clear; configure privacy.keys to seal them"
                    .to_owned(),
            );
        }
        if self.erase_after.is_zero() {
            out.push("privacy.erase_after is 0s: reporters' contacts are kept for ever".to_owned());
        }
        out
    }
}

impl SealKey {
    /// The key's 32 bytes, from wherever it is configured.
    fn bytes(&self, at: &str) -> Result<[u8; KEY_LEN], KeyProblem> {
        let text = secret::resolve(Sources {
            section: at,
            name: "key",
            inline: &self.key,
            env: &self.key_env,
            file: secret::path(&self.key_file),
        })?;
        if text.is_empty() {
            return Err((
                format!("{at}.key"),
                "set one of key, key_env and key_file".into(),
            ));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| (format!("{at}.key"), "is not base64".to_owned()))?;
        decoded.try_into().map_err(|d: Vec<u8>| {
            (
                format!("{at}.key"),
                format!(
                    "must be {KEY_LEN} bytes (base64 of `head -c 32 /dev/urandom`), not {}",
                    d.len()
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn key(id: &str, fill: u8) -> SealKey {
        SealKey {
            id: id.into(),
            key: b64(&[fill; 32]),
            ..SealKey::default()
        }
    }

    fn problems(c: &PrivacyConfig) -> Vec<String> {
        let mut p = Problems::new("minhu.toml");
        c.check(&mut p);
        p.list.into_iter().map(|x| x.key).collect()
    }

    #[test]
    fn no_keys_is_allowed_with_a_warning() {
        let c = PrivacyConfig::default();
        assert!(problems(&c).is_empty());
        assert!(c.keyring().unwrap().is_none());
        assert!(c.warnings()[0].contains("in clear"));
        assert_eq!(c.erase_after, Duration::from_secs(180 * 86_400));
    }

    #[test]
    fn one_key_is_active_by_itself_and_several_need_active_key() {
        let mut c = PrivacyConfig {
            keys: vec![key("a", 1)],
            ..PrivacyConfig::default()
        };
        assert_eq!(c.keyring().unwrap().unwrap().active_id(), "a");
        assert!(c.warnings().is_empty());
        c.keys.push(key("b", 2));
        assert_eq!(problems(&c), ["privacy.active_key"]);
        c.active_key = "b".into();
        assert_eq!(c.keyring().unwrap().unwrap().active_id(), "b");
        c.active_key = "c".into();
        assert_eq!(problems(&c), ["privacy.active_key"]);
    }

    #[test]
    fn bad_keys_are_named() {
        let mut short = key("short", 0);
        short.key = b64(&[1; 16]);
        let mut junk = key("junk", 0);
        junk.key = "not base64!".into();
        let c = PrivacyConfig {
            keys: vec![
                key("a b", 1),
                short,
                junk,
                key("dup", 1),
                key("dup", 2),
                SealKey {
                    id: "none".into(),
                    ..SealKey::default()
                },
            ],
            active_key: "dup".into(),
            erase_after: Duration::from_secs(3600),
        };
        assert_eq!(
            problems(&c),
            [
                "privacy.keys[0].id",
                "privacy.keys[1].key",
                "privacy.keys[2].key",
                "privacy.keys[4].id",
                "privacy.keys[5].key",
                "privacy.erase_after",
            ]
        );
    }

    #[test]
    fn keys_come_from_files_and_zero_means_never() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("k");
        std::fs::write(&f, format!("{}\n", b64(&[9; 32]))).unwrap();
        let c = PrivacyConfig {
            keys: vec![SealKey {
                id: "f".into(),
                key_file: Some(f),
                ..SealKey::default()
            }],
            erase_after: Duration::ZERO,
            ..PrivacyConfig::default()
        };
        assert!(problems(&c).is_empty());
        assert!(c.keyring().unwrap().is_some());
        assert!(c.warnings()[0].contains("kept for ever"));
    }
}
