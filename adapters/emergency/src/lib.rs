//! Emergency-line transfers (110/119/120/122 转办 12345) translated into the canonical
//! `minhu.v1.Request`, and the outbound message of the other direction (a 12345 report that is
//! really an emergency, 12345 → 110/119/120 联动). Pure translation: JSON in, requests out; no
//! gateway internals, no I/O, so it runs inside the gateway (`POST /v1/emergency/transfers`) or
//! in an edge process.
//!
//! - [`parse_transfers`]: a body holding one transfer object or an array of them → one
//!   [`Transfer`] (or a specific [`TransferError`]) per item;
//! - [`translate`]: a [`Transfer`] from an authenticated dispatch centre → `pb::Request` with
//!   channel `CHANNEL_EMERGENCY_1xx`, urgency URGENT (CRITICAL when flagged),
//!   `source_system` `emergency:<line>:<centre>` and `source_id` the incident number (so a
//!   re-sent transfer is a replay);
//! - [`linkage::EmergencyLinkage`]: the JSON message for the emergency linkage queue;
//! - [`result::TransferResult`]: the result sent back to the centre that transferred the call;
//! - [`auth`]: bearer tokens checked against configured SHA-256 digests.
#![forbid(unsafe_code)]

pub mod auth;
mod error;
pub mod linkage;
pub mod result;
mod time;
mod transfer;
mod translate;

pub use error::TransferError;
pub use minhu_adapter::pb;
pub use time::{format_rfc3339, parse_time};
pub use transfer::{Line, Position, Transfer, parse_transfer, parse_transfers};
pub use translate::translate;

/// `extra` keys this adapter sets.
pub mod extra {
    /// The emergency line the call came in on: `110`, `119`, `120` or `122`.
    pub const LINE: &str = "emergency.line";
    /// The dispatch centre (接警中心) that transferred it, as configured.
    pub const CENTRE: &str = "emergency.centre";
    /// Why the dispatch centre transferred it (转办原因), e.g. 非警情.
    pub const REASON: &str = "emergency.transfer_reason";
    /// `received_at` exactly as the centre sent it.
    pub const RECEIVED_AT: &str = "emergency.received_at";
}

/// Limits on one transfer's text fields, in characters.
pub mod limits {
    /// Longest incident number (接警单号).
    pub const INCIDENT_NUMBER: usize = 64;
    /// Longest content (诉求内容).
    pub const CONTENT: usize = 10_000;
    /// Longest reason, address, caller name or phone, category.
    pub const FIELD: usize = 200;
}
