//! The outbound bodies and answer parsing (see `tests/fixtures/wechat/outbound/` for whole
//! bodies rendered from a case's facts).
use serde_json::json;

use super::*;

#[test]
fn custom_text_has_exactly_the_documented_shape() {
    assert_eq!(
        custom_text("oUser", "您的诉求已办结"),
        json!({"touser": "oUser", "msgtype": "text", "text": {"content": "您的诉求已办结"}})
    );
}

#[test]
fn custom_text_is_cut_to_2048_bytes_on_a_character_boundary() {
    let long = "办".repeat(1000); // 3000 bytes; 681 of them and the 3-byte "…" fit
    let body = custom_text("o", &long);
    let content = body["text"]["content"].as_str().unwrap_or_default();
    assert!(content.len() <= MAX_TEXT_BYTES, "{}", content.len());
    assert!(content.ends_with('…'));
    assert_eq!(content.chars().count(), 681 + 1);
    assert_eq!(truncate_bytes("abc", 3), "abc");
    assert_eq!(truncate_bytes("abcd", 3), "…");
}

#[test]
fn template_message_leaves_out_empty_optionals() {
    let body = template_message("o", "T1", None, Some(""), &[("keyword1", "W1")]);
    assert_eq!(
        body,
        json!({"touser": "o", "template_id": "T1", "data": {"keyword1": {"value": "W1"}}})
    );
    let body = template_message("o", "T1", Some("https://x/y"), Some("n-1"), &[]);
    assert_eq!(body["url"], "https://x/y");
    assert_eq!(body["client_msg_id"], "n-1");
    assert_eq!(body["data"], json!({}));
}

#[test]
fn subscribe_fields_respect_their_type_limits() {
    let body = subscribe_message(
        "o",
        "S1",
        Some("pages/case?id=1"),
        Some("trial"),
        &[
            (
                "thing1",
                "小区门口路灯连续一周不亮，晚上出行很不方便，请尽快修复",
            ),
            (
                "character_string2",
                "W20260512000123-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            ),
            ("phrase3", "已经全部办结完成"),
            ("time4", "2026-05-12 10:30"),
            ("name5", "欧阳张三丰李四王五赵六"),
            ("thing6", "第一行\n第二行"),
            ("thing7", "  "),
        ],
    );
    let v = |k: &str| {
        body["data"][k]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(v("thing1").chars().count(), 20);
    assert_eq!(v("thing1"), "小区门口路灯连续一周不亮，晚上出行很不…");
    assert_eq!(v("character_string2"), "W20260512000123-ABCDEFGHIJKLMNOP");
    assert_eq!(v("phrase3"), "已经全部办");
    assert_eq!(v("time4"), "2026-05-12 10:30");
    assert_eq!(v("name5").chars().count(), 10);
    assert_eq!(v("thing6"), "第一行 第二行");
    assert_eq!(v("thing7"), "-");
    assert_eq!(body["page"], "pages/case?id=1");
    assert_eq!(body["miniprogram_state"], "trial");
}

#[test]
fn field_types_come_from_the_key_prefix() {
    assert_eq!(FieldType::of_key("thing12"), FieldType::Thing);
    assert_eq!(
        FieldType::of_key("character_string3"),
        FieldType::CharacterString
    );
    assert_eq!(FieldType::of_key("date2"), FieldType::Time);
    assert_eq!(FieldType::of_key("keyword1"), FieldType::Other);
    assert_eq!(FieldType::Name.max_chars("Zhang San"), Some(20));
    assert_eq!(fit_value("keyword1", &"长".repeat(50)), "长".repeat(50));
}

#[test]
fn answers_are_classified_by_errcode() {
    let cases = [
        (0, Verdict::Sent),
        (40001, Verdict::TokenInvalid),
        (42001, Verdict::TokenInvalid),
        (40014, Verdict::TokenInvalid),
        (45015, Verdict::WindowClosed),
        (45047, Verdict::WindowClosed),
        (43004, Verdict::Unreachable),
        (43101, Verdict::Unreachable),
        (40003, Verdict::Unreachable),
        (-1, Verdict::Retry),
        (45009, Verdict::Retry),
        (47003, Verdict::Retry),
    ];
    for (code, want) in cases {
        assert_eq!(classify(code), want, "errcode {code}");
    }
}

#[test]
fn parses_answers_with_numeric_or_missing_msgid() {
    let a = parse_answer(br#"{"errcode":0,"errmsg":"ok","msgid":200228332}"#).unwrap();
    assert_eq!(a.msgid.as_deref(), Some("200228332"));
    assert_eq!(a.verdict(), Verdict::Sent);
    let a = parse_answer(br#"{"errcode":45015,"errmsg":"response out of time limit"}"#).unwrap();
    assert_eq!(a.msgid, None);
    assert_eq!(a.describe(), "errcode 45015 response out of time limit");
    assert!(parse_answer(b"<html>502</html>").is_err());
    assert!(parse_answer(br#"{"errcode":"x"}"#).is_err());
}

#[test]
fn parses_tokens_and_refusals() {
    let t = parse_token(br#"{"access_token":"TOK","expires_in":7200}"#).unwrap();
    assert_eq!(
        t,
        Ok(AccessToken {
            access_token: "TOK".into(),
            expires_in: 7200
        })
    );
    let r = parse_token(br#"{"errcode":40125,"errmsg":"invalid appsecret"}"#).unwrap();
    assert_eq!(r.map_err(|a| a.errcode), Err(40125));
    assert_eq!(
        token_hint(40125),
        Some("the AppSecret is wrong or was reset in the WeChat console")
    );
    assert!(parse_token(br#"{"access_token":"","expires_in":7200}"#).is_err());
    assert!(parse_token(br#"{"access_token":"T"}"#).is_err());
    assert!(parse_token(b"{}").is_err());
    assert!(parse_token(b"").is_err());
}

#[test]
fn token_request_names_every_documented_key() {
    assert_eq!(
        stable_token_request("wx1", "s3cret", false),
        json!({"grant_type": "client_credential", "appid": "wx1", "secret": "s3cret", "force_refresh": false})
    );
}

#[test]
fn url_values_are_percent_encoded() {
    assert_eq!(encode_url_value("W2026-01_a.b~"), "W2026-01_a.b~");
    assert_eq!(encode_url_value("a b&c=路"), "a%20b%26c%3D%E8%B7%AF");
}
