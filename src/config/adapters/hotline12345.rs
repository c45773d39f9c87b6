//! `[adapters.hotline12345]`.
use serde::Deserialize;

/// hotline12345 adapter settings.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Hotline12345Config {
    /// Whether the hotline12345 endpoints are served.
    pub enabled: bool,
}
