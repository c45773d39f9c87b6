//! `[adapters.citymgmt]`.
use serde::Deserialize;

/// citymgmt adapter settings.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CitymgmtConfig {
    /// Whether the citymgmt endpoints are served.
    pub enabled: bool,
}
