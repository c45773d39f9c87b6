//! The answer to a citizen (`reply::render_reply`): golden messages and their round trip.
//!
//! Every `tests/fixtures/mailbox/reply/<name>.json` describes one answer (the mailbox's
//! settings, the citizen, the facts, and the send time, so nothing depends on today's date);
//! the rendered message must equal `<name>.eml` byte for byte. `UPDATE_GOLDEN=1` rewrites the
//! `.eml` files instead (review the diff: it is what citizens receive). Each rendered message
//! is also parsed back with mail-parser, the parser the mailbox's own intake uses, and must
//! decode to what was meant: subject, body, threading headers, addresses.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};
use minhu_adapter::template::Template;
use minhu_adapter_mailbox::reply::{
    Answer, Reply, ReplyError, ReplyStyle, plain_text, render_reply, thread_id,
};
use minhu_adapter_mailbox::{IgnoreReason, MailOutcome, Options, translate_mail};
use serde::Deserialize;

/// One fixture's input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    from_address: String,
    from_name: String,
    message_id_domain: String,
    subject_template: String,
    body_template: String,
    to_address: String,
    #[serde(default)]
    to_name: String,
    source_id: String,
    #[serde(default)]
    subject: String,
    notice_id: String,
    date_ms: i64,
    vars: BTreeMap<String, String>,
    /// The subject the citizen should see.
    expect_subject: String,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mailbox/reply")
}

/// `template` filled from the case's vars, as the gateway fills its configured templates.
fn fill(case: &Case, template: &str) -> String {
    let known: Vec<&str> = case.vars.keys().map(String::as_str).collect();
    let vars: Vec<(&str, &str)> = case
        .vars
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Template::parse(template, &known)
        .expect("template")
        .render(&vars)
}

fn render(case: &Case) -> Result<Reply, ReplyError> {
    let style = ReplyStyle::new(&case.from_address, &case.from_name, &case.message_id_domain)?;
    render_reply(
        &style,
        &Answer {
            to_address: &case.to_address,
            to_name: &case.to_name,
            source_id: &case.source_id,
            subject: &case.subject,
            notice_id: &case.notice_id,
            date_ms: case.date_ms,
            fallback_subject: &fill(case, &case.subject_template),
            body: &fill(case, &case.body_template),
        },
    )
}

fn text(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => vec![],
    }
}

/// Parses `reply` back and checks it says what `case` meant.
fn check_round_trip(name: &str, case: &Case, reply: &Reply) {
    let raw = &reply.bytes;
    assert!(raw.is_ascii(), "{name}: not 7-bit clean");
    assert!(
        raw.windows(2)
            .enumerate()
            .all(|(i, w)| w[1] != b'\n' || w[0] == b'\r' || i == 0),
        "{name}: a bare LF"
    );
    for line in raw.split(|&b| b == b'\n') {
        assert!(line.len() <= 78 + 1, "{name}: line over 78 characters");
    }
    let msg = MessageParser::default().parse(raw).expect("parses");
    assert_eq!(msg.subject(), Some(case.expect_subject.as_str()), "{name}");
    assert_eq!(reply.subject, case.expect_subject, "{name}");
    let body = plain_text(&fill(case, &case.body_template));
    let got = msg.body_text(0).expect("a text body").replace("\r\n", "\n");
    assert_eq!(got, body, "{name}: body");
    assert!(
        msg.content_type()
            .and_then(|c| c.attribute("charset"))
            .is_some_and(|c| c.eq_ignore_ascii_case("utf-8")),
        "{name}: charset"
    );
    let from = msg.from().and_then(|a| a.first()).expect("From");
    assert_eq!(from.address(), Some(case.from_address.as_str()), "{name}");
    assert_eq!(from.name(), Some(case.from_name.as_str()), "{name}");
    let to = msg.to().and_then(|a| a.first()).expect("To");
    assert_eq!(to.address(), Some(case.to_address.as_str()), "{name}");
    assert_eq!(to.name().unwrap_or(""), case.to_name, "{name}");
    assert_eq!(
        (reply.from.as_str(), reply.to.as_str()),
        (case.from_address.as_str(), case.to_address.as_str())
    );
    assert_eq!(
        Some(format!("<{}>", msg.message_id().unwrap_or_default())),
        Some(reply.message_id.clone()),
        "{name}"
    );
    let parent = thread_id(&case.source_id).map(|id| id.trim_matches(['<', '>']).to_owned());
    assert_eq!(
        text(msg.in_reply_to()),
        parent.iter().cloned().collect::<Vec<_>>(),
        "{name}"
    );
    assert_eq!(
        text(msg.references()),
        parent.iter().cloned().collect::<Vec<_>>(),
        "{name}"
    );
    assert_eq!(
        msg.date().map(|d| d.to_timestamp()),
        Some(case.date_ms.div_euclid(1000)),
        "{name}"
    );
    // Should the answer come back into the mailbox (a forward, a loop), it makes no ticket.
    match translate_mail(raw, &Options::default()) {
        Ok(MailOutcome::Ignored(i)) => assert_eq!(i.reason, IgnoreReason::AutoSubmitted),
        other => panic!("{name}: the mailbox would take its own answer: {other:?}"),
    }
}

#[test]
fn golden_replies() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("fixtures folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "fixtures missing: {names:?}");
    let mut failed = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(dir().join(name)).expect("read fixture");
        let case: Case = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let reply = render(&case).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_round_trip(name, &case, &reply);
        let eml = dir().join(name.replace(".json", ".eml"));
        if update {
            std::fs::write(&eml, &reply.bytes).expect("write golden");
            continue;
        }
        let want = std::fs::read(&eml).unwrap_or_else(|_| panic!("{} missing", eml.display()));
        if want != reply.bytes {
            failed.push(format!(
                "{name}:\n got:\n{}\nwant:\n{}",
                String::from_utf8_lossy(&reply.bytes),
                String::from_utf8_lossy(&want)
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

fn sample() -> Case {
    let text = std::fs::read_to_string(dir().join("email-threaded.json")).expect("fixture");
    serde_json::from_str(&text).expect("fixture")
}

#[test]
fn a_bad_recipient_is_undeliverable_not_a_crash() {
    for bad in [
        "",
        "not-an-address",
        "a@",
        "张三 <a@b.cn>",
        "a@b.cn\r\nBcc: x@y.cn",
    ] {
        let mut case = sample();
        case.to_address = bad.into();
        assert_eq!(render(&case), Err(ReplyError::Recipient), "{bad:?}");
    }
}

#[test]
fn bad_sender_settings_are_refused() {
    let mut case = sample();
    case.from_address = "mayor".into();
    assert!(matches!(render(&case), Err(ReplyError::Sender(_))));
    let mut case = sample();
    case.message_id_domain = "a..b".into();
    assert!(matches!(render(&case), Err(ReplyError::Sender(_))));
}

#[test]
fn header_injection_through_subject_or_name_is_flattened() {
    let mut case = sample();
    case.subject = "路灯\r\nBcc: victim@example.cn".into();
    case.to_name = "张三\r\nX-Evil: 1".into();
    let reply = render(&case).expect("renders");
    let msg = MessageParser::default()
        .parse(&reply.bytes)
        .expect("parses");
    assert_eq!(msg.subject(), Some("Re: 路灯 Bcc: victim@example.cn"));
    assert!(msg.bcc().is_none());
    assert!(msg.header("X-Evil").is_none());
}

#[test]
fn a_resent_answer_is_the_same_message() {
    // A retry an hour later: only the Date differs, the Message-ID is the notice's.
    let case = sample();
    let first = render(&case).unwrap();
    let mut later = sample();
    later.date_ms += 3_600_000;
    let second = render(&later).unwrap();
    assert_eq!(first.message_id, second.message_id);
    assert_ne!(first.bytes, second.bytes);
}
