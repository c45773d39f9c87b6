//! `[adapters.emergency]`.
use serde::Deserialize;

/// emergency adapter settings.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EmergencyConfig {
    /// Whether the emergency endpoints are served.
    pub enabled: bool,
}
