//! `[adapters.hotline12345]`: 12345 call-centre work orders (工单) — `POST /v1/hotline/{source}/orders`
//! and `minhu import hotline`. Every call-centre system that pushes orders has its own field
//! mapping under `[adapters.hotline12345.sources.<system>]`; the system's name is the
//! `source_system` of its requests (part of the idempotency key with the order number), so
//! onboarding a new call-centre is a config section, not code. Scalar keys can be overridden as
//! `MINHU_ADAPTERS__HOTLINE12345__<KEY>`; mappings belong in the file.
use std::collections::BTreeMap;

use minhu_adapter_hotline12345::{Mapping, SourceMapping};
use serde::Deserialize;

use crate::config::problem::Problems;

/// 12345 hotline adapter settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Hotline12345Config {
    /// Whether `/v1/hotline/*` is served.
    pub enabled: bool,
    /// Most orders in one POST; a larger array gets 413 and nothing is submitted.
    pub max_batch: usize,
    /// Largest request body accepted (bytes); larger gets 413.
    pub max_body_bytes: usize,
    /// When set, the endpoints require `Authorization: Bearer <token>` (401 otherwise).
    /// Empty: no authentication (bind the HTTP listener to a trusted network).
    pub token: String,
    /// Call-centre systems by name (letters, digits, `-`, `_`, `.`, `:`), each with its field
    /// mapping. The name appears in the URL (`/v1/hotline/<name>/orders`), in
    /// `minhu import hotline --source <name>` and as the requests' `source_system`.
    pub sources: BTreeMap<String, SourceMapping>,
}

impl Default for Hotline12345Config {
    fn default() -> Self {
        Self {
            enabled: false,
            max_batch: 500,
            max_body_bytes: 4 * 1024 * 1024,
            token: String::new(),
            sources: BTreeMap::new(),
        }
    }
}

/// Whether `name` can name a source system.
pub fn valid_source_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

impl Hotline12345Config {
    /// Records every problem of this section (mappings are checked even when disabled, because
    /// `minhu import hotline` uses them).
    pub fn check(&self, p: &mut Problems) {
        let key = "adapters.hotline12345";
        if self.enabled && self.sources.is_empty() {
            p.add(
                format!("{key}.sources"),
                "enabled, but no source system is configured",
            );
        }
        if self.max_batch == 0 {
            p.add(format!("{key}.max_batch"), "must be at least 1");
        }
        if self.max_body_bytes < 1024 {
            p.add(format!("{key}.max_body_bytes"), "must be at least 1024");
        }
        for (name, m) in &self.sources {
            if !valid_source_name(name) {
                p.add(
                    format!("{key}.sources.{name}"),
                    "name must be 1-64 letters, digits, '-', '_', '.' or ':'",
                );
            }
            if let Err(problems) = m.compile() {
                for (k, msg) in problems {
                    p.add(format!("{key}.sources.{name}.{k}"), msg);
                }
            }
        }
    }

    /// The compiled mappings of the sources that compile (all of them once `check` passed).
    pub fn mappings(&self) -> BTreeMap<String, Mapping> {
        self.sources
            .iter()
            .filter_map(|(n, m)| Some((n.clone(), m.compile().ok()?)))
            .collect()
    }
}
