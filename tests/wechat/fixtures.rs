//! Golden fixtures: every `tests/fixtures/wechat/<case>.xml` (the HTTP body as WeChat sends it)
//! with `<case>.query` (the query string) goes through the adapter's whole pure path — signature,
//! timestamp window, decryption and AppId check, XML, translation — and the outcome must equal
//! `<case>.json`: `{"account": …, "expect": {"ticket": <Request as JSON>} | {"event": …} |
//! {"unsupported": …} | {"error": <message>}}`. Inputs are rebuilt by `generate.py` (an
//! independent Python implementation of WeChat's side); expectations are written by hand.
//!
//! Set `WECHAT_FIXTURES_PRINT=1` to print the actual outcomes (to write a new expectation).
use std::path::{Path, PathBuf};

use minhu_adapter_wechat::crypto::Cipher;
use minhu_adapter_wechat::{AccountKeys, Outcome, Query, protocol, translate};
use serde_json::{Value, json};

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wechat")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// The fixture accounts: `accounts.json`.
pub fn accounts() -> Value {
    serde_json::from_str(&read(&dir().join("accounts.json"))).expect("accounts.json")
}

/// The keys of a fixture account, and its `now`.
pub fn account(name: &str) -> (AccountKeys, i64) {
    let a = &accounts()[name];
    let s = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
    let aes = s("encoding_aes_key");
    let keys = AccountKeys {
        token: s("token"),
        app_id: s("app_id"),
        cipher: (!aes.is_empty()).then(|| Cipher::new(&aes).expect("fixture key")),
    };
    (keys, a["now"].as_i64().expect("now"))
}

/// Runs one case; returns the outcome as JSON in the `expect` shape.
pub fn run(case: &str) -> (Value, Value) {
    let d = dir();
    let body = read(&d.join(format!("{case}.xml")));
    let query = read(&d.join(format!("{case}.query")));
    let spec: Value = serde_json::from_str(&read(&d.join(format!("{case}.json"))))
        .unwrap_or_else(|e| panic!("{case}.json: {e}"));
    let (keys, now) = account(spec["account"].as_str().expect("account"));
    let source_system = format!("wechat:{}", keys.app_id);
    let got = match protocol::open_push(&keys, &Query::parse(query.trim()), &body, now, 300) {
        Err(e) => json!({ "error": e.to_string() }),
        Ok(inbound) => match translate(&inbound.message, &source_system) {
            Outcome::Ticket(r) => json!({ "ticket": crate::common::golden::request_json(&r) }),
            Outcome::Event { event } => json!({ "event": event }),
            Outcome::Unsupported { msg_type } => json!({ "unsupported": msg_type }),
        },
    };
    (got, spec["expect"].clone())
}

/// Every case name (the `.xml` files), sorted.
pub fn cases() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir())
        .expect("fixture dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".xml").map(str::to_owned)
        })
        .collect();
    v.sort();
    v
}
