//! Rendering requests from gateway descriptions, and the problems `compile` reports.
use super::*;

/// 2026-11-22 09:30:15 Beijing time.
const NOW: i64 = 1_795_311_015_000;

fn spec(json: &str) -> GatewaySpec {
    serde_json::from_str(json).expect("spec")
}

fn render(spec: &GatewaySpec, text: &str) -> SmsRequest {
    let g = Gateway::compile(spec, "s3cret", &["ticket_id"]).expect("compiles");
    let phone = mobile("138 1234 5678").expect("mobile");
    g.render(&Message {
        phone: &phone,
        text,
        notice_id: "N-1",
        now_ms: NOW,
        vars: &[("ticket_id", "T20261122-0001")],
    })
}

fn header<'r>(r: &'r SmsRequest, name: &str) -> Option<&'r str> {
    r.headers
        .iter()
        .find(|(h, _)| h == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_json_template_body_is_escaped_and_signed_over_timestamp_and_body() {
    let s = spec(
        r#"{"url": "https://sms.example/v1/send",
            "body": "{{\"mobile\":\"{phone}\",\"content\":\"{text}\",\"id\":\"{notice_id}\"}}",
            "headers": {"X-Timestamp": "{timestamp}"},
            "signature": {}}"#,
    );
    let r = render(&s, "办结：\"已修复\"\n谢谢");
    assert_eq!(r.method, Method::POST);
    assert_eq!(
        r.body,
        r#"{"mobile":"13812345678","content":"办结：\"已修复\"\n谢谢","id":"N-1"}"#
    );
    assert!(serde_json::from_str::<Value>(&r.body).is_ok());
    assert_eq!(header(&r, "X-Timestamp"), Some("1795311015"));
    assert_eq!(
        header(&r, "Content-Type"),
        Some("application/json; charset=utf-8")
    );
    let want = sign::sign(
        Algorithm::HmacSha256,
        Encoding::Hex,
        b"s3cret",
        format!("1795311015\n{}", r.body).as_bytes(),
    );
    assert_eq!(header(&r, "X-Signature"), Some(want.as_str()));
}

#[test]
fn a_json_table_body_keeps_types_and_sorts_keys() {
    let s = spec(
        r#"{"url": "https://sms.example/send",
            "body": {"to": "{phone_e164}", "sign": "12345", "priority": 1,
                     "params": {"ticket": "{ticket_id}"}, "text": "{text}"}}"#,
    );
    let r = render(&s, "a\"b");
    assert_eq!(
        r.body,
        r#"{"params":{"ticket":"T20261122-0001"},"priority":1,"sign":"12345","text":"a\"b","to":"+8613812345678"}"#
    );
    assert_eq!(header(&r, "X-Signature"), None);
}

#[test]
fn a_form_body_and_a_get_query_are_percent_encoded() {
    let s = spec(
        r#"{"url": "https://sms.example/send", "content_type": "form",
            "body": {"mobile": "{phone}", "content": "{text}", "ts": "{datetime}"}}"#,
    );
    let r = render(&s, "路灯 a+b&c");
    assert_eq!(
        r.body,
        "content=%E8%B7%AF%E7%81%AF%20a%2Bb%26c&mobile=13812345678&ts=20261122093015"
    );
    assert_eq!(
        header(&r, "Content-Type"),
        Some("application/x-www-form-urlencoded; charset=utf-8")
    );
    let s = spec(
        r#"{"url": "http://10.0.0.5/sms?u=minhu&m={phone}&c={text}&t={iso8601}", "method": "GET"}"#,
    );
    let r = render(&s, "好 的");
    assert_eq!(r.method, Method::GET);
    assert_eq!(
        r.url,
        "http://10.0.0.5/sms?u=minhu&m=13812345678&c=%E5%A5%BD%20%E7%9A%84&t=2026-11-22T01%3A30%3A15Z"
    );
    assert_eq!((r.body.as_str(), r.headers.len()), ("", 0));
}

#[test]
fn a_signature_in_the_body_signs_a_string_without_the_body() {
    let s = spec(
        r#"{"url": "https://sms.example/send", "content_type": "form",
            "body": {"account": "minhu", "ts": "{timestamp}", "mobile": "{phone}", "sign": "{signature}"},
            "signature": {"algorithm": "sha256", "encoding": "hex-upper", "header": "",
                          "signed": "minhu{secret}{timestamp}"}}"#,
    );
    let r = render(&s, "x");
    let want = sign::sign(
        Algorithm::Sha256,
        Encoding::HexUpper,
        b"",
        b"minhus3cret1795311015",
    );
    assert!(r.body.contains(&format!("&sign={want}&ts=")), "{}", r.body);
    assert!(r.headers.iter().all(|(h, _)| h != "X-Signature"));
}

#[test]
fn the_signed_string_sees_method_path_query_and_body() {
    let s = spec(
        r#"{"url": "https://sms.example/api/send?app=1", "body": {"m": "{phone}"},
            "signature": {"header": "Authorization-Sig", "encoding": "base64",
                          "signed": "{method}\n{path}\n{query}\n{nonce}\n{body}"}}"#,
    );
    let r = render(&s, "x");
    let nonce = sign::nonce("N-1", NOW);
    let text = format!("POST\n/api/send\napp=1\n{nonce}\n{{\"m\":\"13812345678\"}}");
    let want = sign::sign(
        Algorithm::HmacSha256,
        Encoding::Base64,
        b"s3cret",
        text.as_bytes(),
    );
    assert_eq!(header(&r, "Authorization-Sig"), Some(want.as_str()));
}

fn problems(json: &str) -> Vec<(String, String)> {
    Gateway::compile(&spec(json), "k", &[]).expect_err("refused")
}

fn keys(p: &[(String, String)]) -> Vec<&str> {
    p.iter().map(|(k, _)| k.as_str()).collect()
}

#[test]
fn compile_reports_every_problem_with_its_key() {
    let p = problems(
        r#"{"url": "ftp://x/{nope}", "method": "GET", "body": "{text}",
            "headers": {"Bad Name": "v", "X-Text": "{text}", "X-Cn": "中文"},
            "code_field": "code", "success_codes": [], "permanent_codes": []}"#,
    );
    assert_eq!(
        keys(&p),
        [
            "url",
            "url",
            "body",
            "headers.Bad Name",
            "headers.X-Cn",
            "headers.X-Text",
            "success_codes"
        ],
        "{p:#?}"
    );
    assert!(p[1].1.contains("unknown placeholder {nope}"), "{p:?}");
    assert!(p[2].1.contains("GET request has no body"), "{p:?}");
}

#[test]
fn compile_refuses_signatures_that_sign_themselves_go_nowhere_or_prove_nothing() {
    let p = problems(
        r#"{"url": "https://x/send", "body": {"sig": "{signature}"},
            "signature": {"signed": "{body}"}}"#,
    );
    assert_eq!(keys(&p), ["signature.signed"]);
    let p = problems(
        r#"{"url": "https://x/send", "body": "{text}",
            "signature": {"header": "", "algorithm": "sha256", "signed": "{timestamp}"}}"#,
    );
    assert_eq!(keys(&p), ["signature.header", "signature.signed"], "{p:?}");
    let p = problems(
        r#"{"url": "https://x/{signature}", "success_codes": ["OK"], "permanent_codes": ["OK"]}"#,
    );
    assert_eq!(keys(&p), ["url", "permanent_codes"], "{p:?}");
    let p =
        problems(r#"{"url": "https://x/s", "content_type": "form", "body": {"a": {"b": "c"}}}"#);
    assert_eq!(keys(&p), ["body.a"], "{p:?}");
}

#[test]
fn debug_never_shows_the_secret() {
    let g = Gateway::compile(
        &spec(r#"{"url": "https://x/s", "signature": {}}"#),
        "s3cret",
        &[],
    );
    let text = format!("{g:?}");
    assert!(!text.contains("s3cret"), "{text}");
}
