//! Golden fixtures: every `tests/fixtures/mailbox/*.eml` through the translator, compared with
//! the `.json` beside it, in the JSON view of `common::golden::request_json` (a reviewer reads it
//! as the department would see the request). `UPDATE_GOLDEN=1` rewrites the `.json` files
//! (review the diff before committing).
use std::path::PathBuf;

use minhu_adapter_mailbox::{MailOutcome, Options, translate_mail};
use serde_json::{Value, json};

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mailbox")
}

/// The fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// What the translator made of `raw`, as JSON.
pub fn outcome_json(raw: &[u8]) -> Value {
    match translate_mail(raw, &Options::default()) {
        Ok(MailOutcome::Ticket(t)) => {
            for (a, r) in t.attachments.iter().zip(&t.request.attachments) {
                assert_eq!(a.sha256, r.sha256, "attachment bytes and reference agree");
                assert_eq!(a.bytes.len() as u64, r.size);
            }
            json!({ "request": crate::common::golden::request_json(&t.request) })
        }
        Ok(MailOutcome::Ignored(i)) => json!({ "ignored": {
            "reason": i.reason.as_str(),
            "detail": i.detail,
            "sender": i.sender,
            "source_id": i.source_id,
        }}),
        Err(e) => json!({ "error": { "field": e.field(), "message": e.to_string() } }),
    }
}
