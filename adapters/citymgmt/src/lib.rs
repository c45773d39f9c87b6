//! Digital city management (数字城管) adapter: events from a city-management platform and
//! Open311 GeoReport v2 service requests translated into the canonical `minhu.v1.Request`, plus
//! Open311's answer shapes (JSON and XML) and its error format `[{code, description}]`. Pure
//! translation: no gateway internals, no I/O, no async runtime, so the same code runs inside
//! the gateway or in an edge process.
//!
//! - [`event::translate_event`]: one 数字城管 event (JSON) → request. The platform's class codes
//!   (大类/小类, for 事件 events and 部件 components) become taxonomy categories through a
//!   [`ClassTable`] the operator configures; an unknown code is refused, naming it.
//! - [`open311`]: the GeoReport v2 form post → request, and tickets → Open311 service requests.
//! - [`taxonomy::Taxonomy`]: the category list (`config/taxonomy.toml`), which is also the list
//!   of Open311 services.
//! - [`verification`]: 核查 both ways: the verification task for a completed case and the
//!   grid inspector's verdict.
#![forbid(unsafe_code)]

use std::collections::HashMap;

pub mod error;
pub mod event;
pub mod open311;
pub mod taxonomy;
pub mod time;
pub mod verification;

pub use error::{Invalid, Open311Error};
pub use minhu_adapter::pb;
/// The XML library the Open311 answers are written with, for callers that read them back.
pub use quick_xml;

/// The channel of every 数字城管 event.
pub const CHANNEL: pb::Channel = pb::Channel::CityManagement;

/// The channel of every Open311 service request: Open311 clients are citizens' apps and web
/// sites (the city's self-service portal), not a platform of the city's own.
pub const OPEN311_CHANNEL: pb::Channel = pb::Channel::WebPortal;

/// `extra` keys this adapter sets.
pub mod extra {
    /// `"event"` (事件) or `"component"` (部件).
    pub const KIND: &str = "citymgmt.kind";
    /// The platform's major class code (大类).
    pub const MAJOR_CODE: &str = "citymgmt.major_code";
    /// The platform's minor class code (小类).
    pub const MINOR_CODE: &str = "citymgmt.minor_code";
    /// The inspector's (网格员) id on the platform.
    pub const INSPECTOR_ID: &str = "citymgmt.inspector_id";
    /// Open311 `device_id`.
    pub const DEVICE_ID: &str = "open311.device_id";
    /// Open311 `account_id`.
    pub const ACCOUNT_ID: &str = "open311.account_id";
    /// Open311 `address_id`.
    pub const ADDRESS_ID: &str = "open311.address_id";
    /// Prefix of `open311.attribute.<code>`: the service's attributes as posted.
    pub const ATTRIBUTE_PREFIX: &str = "open311.attribute.";
}

/// Event (事件) or component (部件): the two halves of a 数字城管 class-code standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 事件: something happening (street vendors, garbage piling up, illegal construction).
    Event,
    /// 部件: a piece of city furniture that is damaged or missing (manhole covers, lamps).
    Component,
}

impl Kind {
    /// Parses `event`/`事件` or `component`/`部件`.
    pub fn parse(s: &str) -> Option<Kind> {
        match s.trim() {
            "event" | "事件" => Some(Kind::Event),
            "component" | "部件" => Some(Kind::Component),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Event => "event",
            Kind::Component => "component",
        }
    }
}

/// Class codes (大类/小类) → taxonomy category. A row with an empty minor code covers every
/// minor class of its major class; an exact (kind, major, minor) row wins over it.
#[derive(Debug, Clone, Default)]
pub struct ClassTable {
    map: HashMap<(Kind, String, String), String>,
}

impl ClassTable {
    /// Adds a row; a later row for the same codes replaces an earlier one.
    pub fn insert(&mut self, kind: Kind, major: &str, minor: &str, category: &str) {
        self.map.insert(
            (kind, major.trim().to_owned(), minor.trim().to_owned()),
            category.to_owned(),
        );
    }

    /// The category for these codes, if the table has one.
    pub fn category(&self, kind: Kind, major: &str, minor: &str) -> Option<&str> {
        let key = (kind, major.to_owned(), minor.to_owned());
        self.map
            .get(&key)
            .or_else(|| self.map.get(&(kind, major.to_owned(), String::new())))
            .map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// How to translate events.
#[derive(Debug, Clone)]
pub struct Options {
    /// `source_system` of every event, e.g. `citymgmt:xian`.
    pub source_system: String,
    /// Class codes → categories.
    pub classes: ClassTable,
    /// Longest title, name or address in characters.
    pub max_field_chars: usize,
    /// Longest description in characters.
    pub max_description_chars: usize,
    /// Most photos on one event.
    pub max_attachments: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            source_system: "citymgmt".into(),
            classes: ClassTable::default(),
            max_field_chars: 200,
            max_description_chars: 10_000,
            max_attachments: 20,
        }
    }
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// Whether `url` is an http(s) URL without whitespace, at most 2048 bytes.
pub(crate) fn is_http_url(url: &str) -> bool {
    let lower = url
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() <= 2048
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}
