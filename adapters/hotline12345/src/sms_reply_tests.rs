//! The reply callback: descriptions checked with every problem named, tokens and signatures
//! (against an HMAC computed here, independently of `sign`), stale timestamps, JSON and form
//! bodies read by the configured fields.
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::*;

const NOW: i64 = 1_795_312_800;

fn spec(toml_like: serde_json::Value) -> ReplySpec {
    serde_json::from_value(toml_like).expect("spec")
}

fn signed_spec() -> ReplySpec {
    ReplySpec {
        signature: Some(ReplySignatureSpec::default()),
        ..ReplySpec::default()
    }
}

fn compile(s: &ReplySpec) -> Replies {
    Replies::compile(s, "k3y", Duration::from_secs(300)).expect("compiles")
}

fn hmac_hex(secret: &str, msg: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    m.update(msg.as_bytes());
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn callback<'a>(headers: &'a [(&'a str, &'a str)], body: &'a [u8], query: &'a str) -> Callback<'a> {
    Callback {
        method: "POST",
        path: "/v1/sms/replies",
        query,
        headers,
        body,
        now_s: NOW,
    }
}

#[test]
fn every_problem_of_a_description_is_named() {
    let s = spec(serde_json::json!({
        "phone_field": "",
        "token_header": "X-Token",
        "signature": { "header": "", "signed": "{timestamp}{nope}", "timestamp_header": "" }
    }));
    let problems = Replies::compile(&s, "", Duration::from_secs(300)).expect_err("problems");
    let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "phone_field",
            "signature",
            "secret",
            "signature.signed",
            "signature.header"
        ],
        "{problems:?}"
    );
    let none = Replies::compile(&ReplySpec::default(), "k", Duration::from_secs(1))
        .expect_err("no scheme");
    assert_eq!(none[0].0, "signature");
    let plain = spec(serde_json::json!({
        "signature": { "algorithm": "sha256", "signed": "{timestamp}{body}" }
    }));
    let p = Replies::compile(&plain, "k", Duration::from_secs(1)).expect_err("needs secret");
    assert!(p[0].1.contains("{secret}"), "{p:?}");
    let nonce = spec(
        serde_json::json!({ "signature": { "signed": "{nonce}{body}", "timestamp_header": "" } }),
    );
    let p = Replies::compile(&nonce, "k", Duration::from_secs(1)).expect_err("nonce header");
    assert_eq!(p[0].0, "signature.nonce_header");
}

#[test]
fn a_signed_callback_is_checked_over_timestamp_and_body() {
    let r = compile(&signed_spec());
    let body = br#"{"mobile":"13812345678","content":"1","msgId":"m-1"}"#;
    let ts = NOW.to_string();
    let sig = hmac_hex(
        "k3y",
        &format!("{ts}\n{}", std::str::from_utf8(body).unwrap()),
    );
    let upper = sig.to_ascii_uppercase();
    let ok = [("X-Timestamp", ts.as_str()), ("x-signature", sig.as_str())];
    assert_eq!(r.authenticate(&callback(&ok, body, "")), Ok(()));
    let up = [
        ("X-Timestamp", ts.as_str()),
        ("X-Signature", upper.as_str()),
    ];
    assert_eq!(
        r.authenticate(&callback(&up, body, "")),
        Ok(()),
        "hex is case-blind"
    );
    // Another body under the same signature.
    let other = br#"{"mobile":"13812345678","content":"3","msgId":"m-1"}"#;
    assert_eq!(
        r.authenticate(&callback(&ok, other, "")),
        Err(Forged::Mismatch("X-Signature".into()))
    );
    // No signature, no timestamp.
    assert_eq!(
        r.authenticate(&callback(&[("X-Timestamp", ts.as_str())], body, "")),
        Err(Forged::Missing("X-Signature".into()))
    );
    assert_eq!(
        r.authenticate(&callback(&[("X-Signature", sig.as_str())], body, "")),
        Err(Forged::Missing("X-Timestamp".into()))
    );
}

#[test]
fn a_callback_outside_the_skew_is_refused_even_when_signed() {
    let r = compile(&signed_spec());
    let body = b"{}";
    for (ts, ok) in [
        (NOW - 300, true),
        (NOW + 300, true),
        (NOW - 301, false),
        (NOW + 3600, false),
    ] {
        let t = ts.to_string();
        let sig = hmac_hex("k3y", &format!("{t}\n{{}}"));
        let h = [("X-Timestamp", t.as_str()), ("X-Signature", sig.as_str())];
        assert_eq!(r.authenticate(&callback(&h, body, "")).is_ok(), ok, "{ts}");
    }
    // Milliseconds are read as such.
    let ms = (NOW * 1000 + 5).to_string();
    let sig = hmac_hex("k3y", &format!("{ms}\n{{}}"));
    let h = [("X-Timestamp", ms.as_str()), ("X-Signature", sig.as_str())];
    assert_eq!(r.authenticate(&callback(&h, body, "")), Ok(()));
    let h = [("X-Timestamp", "yesterday"), ("X-Signature", sig.as_str())];
    assert_eq!(
        r.authenticate(&callback(&h, body, "")),
        Err(Forged::BadTimestamp("X-Timestamp".into()))
    );
}

#[test]
fn tokens_in_a_header_or_the_query() {
    let h = compile(&spec(serde_json::json!({ "token_header": "X-Token" })));
    assert_eq!(
        h.authenticate(&callback(&[("x-token", "k3y")], b"", "")),
        Ok(())
    );
    assert!(
        h.authenticate(&callback(&[("X-Token", "k3y ")], b"", ""))
            .is_err()
    );
    assert!(h.authenticate(&callback(&[], b"", "")).is_err());
    let q = compile(&spec(serde_json::json!({ "token_query": "key" })));
    assert_eq!(q.authenticate(&callback(&[], b"", "a=1&key=k3y")), Ok(()));
    assert_eq!(
        q.authenticate(&callback(&[], b"", "key=k3z")),
        Err(Forged::Mismatch("key".into()))
    );
    assert_eq!(
        q.authenticate(&callback(&[], b"", "")),
        Err(Forged::Missing("key".into()))
    );
}

#[test]
fn json_and_form_bodies_are_read_by_the_configured_fields() {
    let j = compile(&spec(serde_json::json!({
        "phone_field": "data.phone",
        "text_field": "data.text",
        "message_id_field": "data.id",
        "token_header": "X-Token"
    })));
    let got = j
        .read(r#"{"data":{"phone":"+86 138 1234 5678","text":"0 还是不亮","id":70001}}"#.as_bytes())
        .expect("reads");
    assert_eq!(
        got,
        SmsReply {
            phone: "+86 138 1234 5678".into(),
            text: "0 还是不亮".into(),
            message_id: "70001".into()
        }
    );
    let f = compile(&spec(serde_json::json!({
        "content_type": "form",
        "phone_field": "mobile",
        "text_field": "content",
        "message_id_field": "msgid",
        "token_header": "X-Token"
    })));
    let got = f
        .read("mobile=13812345678&content=3%20%E8%B7%AF%E7%81%AF&msgid=m-9".as_bytes())
        .expect("reads");
    assert_eq!(got.text, "3 路灯");
    assert_eq!(got.message_id, "m-9");
}

#[test]
fn a_malformed_body_names_the_field() {
    let r = compile(&spec(serde_json::json!({ "token_header": "X-Token" })));
    let field = |body: &str| r.read(body.as_bytes()).map_err(|e| e.field);
    assert_eq!(field("not json"), Err("body".into()));
    assert_eq!(
        field(r#"{"content":"1","msgId":"m"}"#),
        Err("mobile".into())
    );
    assert_eq!(
        field(r#"{"mobile":"1","msgId":"m"}"#),
        Err("content".into())
    );
    assert_eq!(
        field(r#"{"mobile":"1","content":"1"}"#),
        Err("msgId".into())
    );
    assert_eq!(
        field(r#"{"mobile":"1","content":"1","msgId":"a b"}"#),
        Err("msgId".into())
    );
    let long = "m".repeat(MAX_MESSAGE_ID + 1);
    assert_eq!(
        field(&format!(
            r#"{{"mobile":"1","content":"1","msgId":"{long}"}}"#
        )),
        Err("msgId".into())
    );
    // An empty text is a reply (that is not a rating), not a malformed callback.
    assert!(field(r#"{"mobile":"1","content":"","msgId":"m"}"#).is_ok());
}
