//! Translator behaviour on hand-written inputs: what is ignored and why, limits, the web form's
//! checks. The real-world shapes are the golden fixtures in `tests/fixtures/mailbox/` (run by
//! the gateway's `tests/mailbox.rs`).
use minhu_adapter_mailbox::form::Form;
use minhu_adapter_mailbox::{
    IgnoreReason, MailError, MailOutcome, Options, Translated, extra, translate_form,
    translate_mail,
};

fn mail(headers: &str, body: &str) -> Vec<u8> {
    format!("{headers}\r\n\r\n{body}").into_bytes()
}

const BASE: &str = "From: Zhang San <zhang.san@example.cn>\r\nTo: mayor@xa.gov.cn\r\nSubject: test\r\nMessage-ID: <id-1@example.cn>";

fn ticket(raw: &[u8], opts: &Options) -> Translated {
    match translate_mail(raw, opts) {
        Ok(MailOutcome::Ticket(t)) => *t,
        other => panic!("expected a ticket, got {other:?}"),
    }
}

fn ignored(raw: &[u8]) -> IgnoreReason {
    match translate_mail(raw, &Options::default()) {
        Ok(MailOutcome::Ignored(i)) => i.reason,
        other => panic!("expected ignored, got {other:?}"),
    }
}

#[test]
fn machine_generated_mail_is_ignored_with_its_reason() {
    let cases = [
        (
            "Auto-Submitted: auto-generated",
            IgnoreReason::AutoSubmitted,
        ),
        ("X-Autoreply: yes", IgnoreReason::AutoSubmitted),
        ("Precedence: bulk", IgnoreReason::Precedence),
        ("Precedence: junk", IgnoreReason::Precedence),
        ("List-Id: <news.example.cn>", IgnoreReason::MailingList),
        (
            "List-Unsubscribe: <mailto:u@example.cn>",
            IgnoreReason::MailingList,
        ),
        (
            "Content-Type: multipart/report; report-type=disposition-notification; boundary=b",
            IgnoreReason::DeliveryReport,
        ),
    ];
    for (h, want) in cases {
        assert_eq!(
            ignored(&mail(&format!("{BASE}\r\n{h}"), "body")),
            want,
            "{h}"
        );
    }
    let daemon = "From: postmaster@mx.example.cn\r\nSubject: failure\r\n";
    assert_eq!(ignored(&mail(daemon, "x")), IgnoreReason::MailerDaemon);
    // "no" means a human sent it.
    let human = mail(&format!("{BASE}\r\nAuto-Submitted: no"), "路灯不亮");
    assert_eq!(
        ticket(&human, &Options::default()).request.description,
        "路灯不亮"
    );
}

#[test]
fn bad_mail_is_refused_with_the_reason() {
    let o = Options::default();
    assert_eq!(
        translate_mail(b"", &o),
        Err(MailError::NotMail("the input is empty"))
    );
    assert_eq!(
        translate_mail(br#"{"content":"hello"}"#, &o),
        Err(MailError::NotMail("no From address"))
    );
    assert_eq!(
        translate_mail(&[0, 159, 146, 150, 255], &o),
        Err(MailError::NotMail("no From address"))
    );
    assert_eq!(
        translate_mail(&mail(BASE, "  \r\n "), &o),
        Err(MailError::EmptyBody)
    );
    let no_parts = format!("{BASE}\r\nContent-Type: multipart/mixed; boundary=zzz");
    assert!(matches!(
        translate_mail(&mail(&no_parts, "text but no part\r\n"), &o),
        Err(MailError::MalformedMime(_))
    ));
    let bad_b64 = format!("{BASE}\r\nContent-Transfer-Encoding: base64");
    assert!(matches!(
        translate_mail(&mail(&bad_b64, "!!!! not base64 ####\r\n"), &o),
        Err(MailError::MalformedMime(_))
    ));
}

#[test]
fn mbox_envelope_line_limits_and_hash_fallback() {
    let o = Options {
        max_description_chars: 4,
        max_attachments: 1,
        ..Options::default()
    };
    let mut raw = b"From zhang.san@example.cn Mon Nov 23 09:00:00 2026\n".to_vec();
    let mixed = "From: a@example.cn\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=b";
    let parts = "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n路灯不亮已经一周\r\n\
                 --b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n\
                 --b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nd29ybGQ=\r\n--b--\r\n";
    raw.extend(mail(mixed, parts));
    let t = ticket(&raw, &o);
    assert_eq!(t.request.description, "路灯不亮");
    assert_eq!(t.request.extra[extra::DESCRIPTION_TRUNCATED], "true");
    assert_eq!(t.request.extra[extra::ATTACHMENTS_DROPPED], "1");
    assert_eq!(t.attachments.len(), 1);
    assert_eq!(t.attachments[0].bytes, b"hello");
    assert_eq!(t.request.attachments[0].media_type, "image/png");
    assert!(
        t.request.source_id.starts_with("sha256:"),
        "no Message-ID: content hash"
    );
    // Same bytes, same key (an MTA's retry is a replay).
    assert_eq!(ticket(&raw, &o).request.source_id, t.request.source_id);
}

#[test]
fn forms_in_json_and_urlencoded_give_the_same_request() {
    let o = Options::default();
    let json = r#"{"name":"王小明","phone":"13912345678","e-mail":"w@example.cn","subject":"路面塌陷",
        "content":"大兴东路北门口路面塌陷","address":"莲湖区大兴东路","district":"610104",
        "attachments":["https://img.example.cn/a.jpg"]}"#;
    let a = translate_form(&Form::from_json(json.as_bytes()).unwrap(), &o).unwrap();
    let url = "name=%E7%8E%8B%E5%B0%8F%E6%98%8E&phone=13912345678&email=w%40example.cn&subject=%E8%B7%AF%E9%9D%A2%E5%A1%8C%E9%99%B7\
               &content=%E5%A4%A7%E5%85%B4%E4%B8%9C%E8%B7%AF%E5%8C%97%E9%97%A8%E5%8F%A3%E8%B7%AF%E9%9D%A2%E5%A1%8C%E9%99%B7\
               &address=%E8%8E%B2%E6%B9%96%E5%8C%BA%E5%A4%A7%E5%85%B4%E4%B8%9C%E8%B7%AF&district=610104\
               &attachments%5B%5D=https%3A%2F%2Fimg.example.cn%2Fa.jpg";
    let b = translate_form(&Form::from_urlencoded(url.as_bytes()).unwrap(), &o).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.location.as_ref().unwrap().district_code, "610104");
    assert_eq!(a.reporter.as_ref().unwrap().phone, "13912345678");
    assert_eq!(a.attachments[0].url, "https://img.example.cn/a.jpg");
    assert!(a.source_id.starts_with("form:sha256:"));
    let with_id = Form::from_json(br#"{"id":"LY-2026-0001","content":"x"}"#).unwrap();
    assert_eq!(
        translate_form(&with_id, &o).unwrap().source_id,
        "form:LY-2026-0001"
    );
}

#[test]
fn bad_form_fields_are_named() {
    let o = Options::default();
    let field = |json: &str| -> String {
        match Form::from_json(json.as_bytes()).and_then(|f| translate_form(&f, &o)) {
            Err(e) => e.field,
            Ok(r) => panic!("{json} accepted: {r:?}"),
        }
    };
    assert_eq!(field(r#"{"content":"x","district":"61010"}"#), "district");
    assert_eq!(field(r#"{"content":"x","district":"6101041"}"#), "district");
    assert_eq!(field(r#"{"content":"x","district":"61010a"}"#), "district");
    assert_eq!(field(r#"{"subject":"only a subject"}"#), "content");
    assert_eq!(field(r#"{"content":"   "}"#), "content");
    assert_eq!(field(r#"{"content":"x","phone":"call me"}"#), "phone");
    assert_eq!(
        field(r#"{"content":"x","email":"not-an-address"}"#),
        "email"
    );
    assert_eq!(
        field(r#"{"content":"x","attachments":["ftp://x/a.jpg"]}"#),
        "attachments[0]"
    );
    assert_eq!(
        field(r#"{"content":"x","attachments":[1]}"#),
        "attachments[0]"
    );
    assert_eq!(field(r#"{"content":"x","colour":"red"}"#), "colour");
    assert_eq!(field(r#"{"content":["x"]}"#), "content");
    assert_eq!(field("[1,2]"), "body");
    assert_eq!(field("not json"), "body");
    // A district given as a number is fine.
    let f = Form::from_json(br#"{"content":"x","district":610104}"#).unwrap();
    assert_eq!(
        translate_form(&f, &o)
            .unwrap()
            .location
            .unwrap()
            .district_code,
        "610104"
    );
}
