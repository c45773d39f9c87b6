//! 12345 hotline (市民热线) adapter: call-centre work orders (工单) translated into the canonical
//! `minhu.v1.Request`, driven by a per-source-system [`SourceMapping`] from the service config,
//! so onboarding a new call-centre is config, not code. Pure translation: no I/O, no async
//! runtime, no gateway internals; the same code serves `POST /v1/hotline/{source}/orders`,
//! `minhu import hotline` and an edge process.
//!
//! - [`Order`]: one work order as source field → string, from a JSON object ([`Order::from_json`],
//!   nested objects flattened with dots: `caller.phone`) or a CSV row ([`csv::Rows`]).
//! - [`translate`]: an order and a compiled [`Mapping`] → a `Request` or an [`OrderError`]
//!   naming the source field to blame.
//! - [`csv::decode`] and [`csv::Rows`]: legacy CSV exports in UTF-8 (BOM or not) or GBK.
//! - [`sms`]: the way back to hotline callers: an HTTP SMS gateway described in config, phone
//!   numbers normalised, requests rendered and signed, answers classified, quiet hours.
//! - [`followup`]: 回访 for call-centres that call their callers back: the task out (the
//!   order mapping read backwards) and the call's result in.
//! - [`sms_reply`]: the way in from them: the SMS gateway's callback for citizens' replies
//!   (上行短信) described in config, authenticated (token or signature) and read.
#![forbid(unsafe_code)]

pub mod csv;
mod date;
mod error;
pub mod followup;
mod mapping;
pub mod sms;
pub mod sms_reply;
mod translate;

use std::collections::HashMap;

pub use error::{CsvError, OrderError, RowError};
pub use mapping::{Mapping, SourceMapping};
pub use minhu_adapter::pb;
pub use translate::translate;

/// The channel every hotline request carries.
pub const CHANNEL: pb::Channel = pb::Channel::Hotline12345;

/// `extra` keys this adapter sets (besides `hotline12345.<key>` from `extra.<key>` mappings).
pub mod extra {
    /// The source's category value when `categories` is configured and does not list it.
    pub const SOURCE_CATEGORY: &str = "hotline12345.source_category";
}

/// One work order: the source system's field names and their values as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Order {
    fields: HashMap<String, String>,
}

impl Order {
    /// An order from (field, value) pairs, e.g. a CSV header and row.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            fields: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// An order from a JSON object. Nested objects are flattened with dots (`caller.phone`),
    /// array items by index (`photos.0`); numbers and booleans become their text, `null` is
    /// absent. Anything but an object is refused.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, OrderError> {
        let serde_json::Value::Object(m) = v else {
            return Err(OrderError::new("order", "must be a JSON object"));
        };
        let mut fields = HashMap::with_capacity(m.len());
        for (k, v) in m {
            flatten(k, v, &mut fields, 0);
        }
        Ok(Self { fields })
    }

    /// The value of `field`, trimmed; None when absent or blank.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .get(field)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

fn flatten(key: &str, v: &serde_json::Value, out: &mut HashMap<String, String>, depth: usize) {
    use serde_json::Value;
    // Work orders are shallow; a pathological nesting is cut rather than recursed into.
    if depth > 8 {
        return;
    }
    match v {
        Value::Null => {}
        Value::String(s) => drop(out.insert(key.to_owned(), s.clone())),
        Value::Bool(b) => drop(out.insert(key.to_owned(), b.to_string())),
        Value::Number(n) => drop(out.insert(key.to_owned(), n.to_string())),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{key}.{i}"), x, out, depth + 1);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                flatten(&format!("{key}.{k}"), x, out, depth + 1);
            }
        }
    }
}
