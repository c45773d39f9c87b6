//! `[adapters.citymgmt]`: the digital city-management platform (数字城管, `POST
//! /v1/citymgmt/events`) and Open311 GeoReport v2 (`/open311/v2/…`). Scalar keys can be
//! overridden as `MINHU_ADAPTERS__CITYMGMT__<KEY>`.
//!
//! ```toml
//! [adapters.citymgmt]
//! enabled = true
//! source_system = "citymgmt:xian"
//! taxonomy = "config/taxonomy.toml"
//! jurisdiction_id = "xian.gov.cn"
//! verify = true           # 核查 task on minhu.return.citymgmt; closure waits for the verdict
//!
//! [[adapters.citymgmt.class_codes]]
//! kind = "component"      # 部件; "event" for 事件
//! major = "01"            # 大类
//! minor = "0103"          # 小类; leave out to cover the whole major class
//! category = "road.manhole"
//!
//! [[adapters.citymgmt.api_keys]]
//! name = "fixmystreet"    # source_system becomes "open311:fixmystreet"
//! sha256 = "…"            # printf %s "$KEY" | sha256sum
//! ```
use std::path::PathBuf;

use minhu_adapter_citymgmt::open311::ApiKeys;
use minhu_adapter_citymgmt::taxonomy::Taxonomy;
use minhu_adapter_citymgmt::{ClassTable, Kind, Options};
use serde::Deserialize;

use crate::config::problem::Problems;

/// City-management and Open311 settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CitymgmtConfig {
    /// Whether `/v1/citymgmt/events` and `/open311/v2/*` are served.
    pub enabled: bool,
    /// `source_system` of every 数字城管 event, e.g. `citymgmt:xian`; with the case number
    /// (案卷号) it is the idempotency key, so a platform re-sending an event makes no new ticket.
    pub source_system: String,
    /// The taxonomy file (categories; every category is an Open311 service). Relative paths are
    /// relative to the working directory (like `[store] path`).
    pub taxonomy: PathBuf,
    /// The Open311 `jurisdiction_id` this server answers for. Requests naming another get 404;
    /// requests naming none are served. Empty: any is accepted.
    pub jurisdiction_id: String,
    /// The platform's class codes (大类/小类, 事件/部件) → taxonomy categories. An event whose
    /// codes are not here is refused (400, naming the codes).
    pub class_codes: Vec<ClassCode>,
    /// Keys Open311 clients must send as `api_key` to post requests (403 otherwise). Reading
    /// services and requests needs no key. No keys: posting is refused.
    pub api_keys: Vec<ApiKey>,
    /// Largest request body accepted (bytes); larger gets 413.
    pub max_body_bytes: usize,
    /// 核查: when a case that began as one of the platform's events is completed, publish a
    /// verification task to the queue `minhu.return.citymgmt` and keep the case COMPLETED
    /// until the grid inspector's verdict (`POST /v1/citymgmt/verifications`) closes it (结案)
    /// or, failed, reopens it to the department. Off: the platform's reports are answered like
    /// any other (the inspector's phone by SMS) and nothing waits.
    pub verify: bool,
}

/// One row of the class-code table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassCode {
    /// `event` (事件) or `component` (部件).
    pub kind: String,
    /// Major class code (大类), as the platform sends it, e.g. `01`.
    pub major: String,
    /// Minor class code (小类), e.g. `0103`; empty or absent covers every minor class of `major`
    /// that has no row of its own.
    #[serde(default)]
    pub minor: String,
    /// The taxonomy category, e.g. `road.manhole`; must be in the taxonomy file.
    pub category: String,
}

/// One Open311 API key, stored as its hash so the config file holds no secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// Who holds the key (an app or a vendor); requests get `source_system`
    /// `open311:<name>`. Letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// Lower-case hex SHA-256 of the key (`printf %s "$KEY" | sha256sum`). Never the key.
    pub sha256: String,
}

impl Default for CitymgmtConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            source_system: "citymgmt".into(),
            taxonomy: PathBuf::from("config/taxonomy.toml"),
            jurisdiction_id: String::new(),
            class_codes: Vec::new(),
            api_keys: Vec::new(),
            max_body_bytes: 256 * 1024,
            verify: false,
        }
    }
}

impl CitymgmtConfig {
    /// Reads and checks the taxonomy file.
    pub fn read_taxonomy(&self) -> Result<Taxonomy, String> {
        let text = std::fs::read_to_string(&self.taxonomy)
            .map_err(|e| format!("cannot read {}: {e}", self.taxonomy.display()))?;
        Taxonomy::from_toml(&text).map_err(|e| format!("{}: {e}", self.taxonomy.display()))
    }

    /// The event translator's options (rows with an unknown `kind` are left out; `check`
    /// reports them).
    pub fn options(&self) -> Options {
        let mut classes = ClassTable::default();
        for c in &self.class_codes {
            if let Some(kind) = Kind::parse(&c.kind) {
                classes.insert(kind, &c.major, &c.minor, &c.category);
            }
        }
        Options {
            source_system: self.source_system.clone(),
            classes,
            ..Options::default()
        }
    }

    /// The Open311 keys (bad hashes are left out; `check` reports them).
    pub fn keys(&self) -> ApiKeys {
        let mut keys = ApiKeys::default();
        for k in &self.api_keys {
            keys.add(&k.name, &k.sha256);
        }
        keys
    }

    /// Validates the section (only when enabled): the taxonomy file, every class-code row and
    /// every key.
    pub fn check(&self, p: &mut Problems) {
        if !self.enabled {
            return;
        }
        let key = "adapters.citymgmt";
        if self.source_system.trim().is_empty() {
            p.add(format!("{key}.source_system"), "must not be empty");
        }
        if self.max_body_bytes < 1024 {
            p.add(format!("{key}.max_body_bytes"), "must be at least 1024");
        }
        let taxonomy = match self.read_taxonomy() {
            Ok(t) => Some(t),
            Err(e) => {
                p.add(format!("{key}.taxonomy"), e);
                None
            }
        };
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.class_codes.iter().enumerate() {
            let k = format!("{key}.class_codes[{i}]");
            if Kind::parse(&c.kind).is_none() {
                p.add(
                    format!("{k}.kind"),
                    "must be event (事件) or component (部件)",
                );
            }
            if c.major.trim().is_empty() {
                p.add(format!("{k}.major"), "must not be empty");
            }
            if let Some(t) = &taxonomy
                && t.get(&c.category).is_none()
            {
                p.add(
                    format!("{k}.category"),
                    format!("{:?} is not a category of the taxonomy file", c.category),
                );
            }
            if !seen.insert((c.kind.trim(), c.major.trim(), c.minor.trim())) {
                p.add(k, "the same kind/major/minor appears twice");
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, a) in self.api_keys.iter().enumerate() {
            let k = format!("{key}.api_keys[{i}]");
            let name_ok = !a.name.is_empty()
                && a.name.len() <= 64
                && a.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !name_ok {
                p.add(
                    format!("{k}.name"),
                    "must be 1 to 64 letters, digits, '-', '_', '.'",
                );
            }
            if !names.insert(a.name.as_str()) {
                p.add(
                    format!("{k}.name"),
                    format!("duplicate key name {:?}", a.name),
                );
            }
            if a.sha256.len() != 64 || !a.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                p.add(
                    format!("{k}.sha256"),
                    "must be the 64-hex-digit SHA-256 of the key (printf %s \"$KEY\" | sha256sum), never the key",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_every_bad_key() {
        let c = CitymgmtConfig {
            enabled: true,
            taxonomy: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/config/taxonomy.toml")),
            class_codes: vec![
                ClassCode {
                    kind: "部件".into(),
                    major: "01".into(),
                    minor: "0103".into(),
                    category: "road.manhole".into(),
                },
                ClassCode {
                    kind: "thing".into(),
                    major: "".into(),
                    minor: "".into(),
                    category: "no.such".into(),
                },
            ],
            api_keys: vec![ApiKey {
                name: "app".into(),
                sha256: "plain-key".into(),
            }],
            ..Default::default()
        };
        let mut p = Problems::new("minhu.toml");
        c.check(&mut p);
        let keys: Vec<_> = p.list.iter().map(|x| x.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "adapters.citymgmt.class_codes[1].kind",
                "adapters.citymgmt.class_codes[1].major",
                "adapters.citymgmt.class_codes[1].category",
                "adapters.citymgmt.api_keys[0].sha256",
            ]
        );
        assert_eq!(c.options().classes.len(), 1);
    }
}
