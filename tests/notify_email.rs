//! The e-mail notifier (`notify::email`) against a real SMTP server over loopback: aiosmtpd,
//! run by `tests/interop/smtp_sink.py` from the interop venv (see tests/common/python.rs), with
//! certificates made by rcgen for each run. What arrives is parsed back with mail-parser as a
//! mail client would. Every send passes its time in; nothing depends on today's date. The
//! config section's checks and the sample are in `notify_email/config.rs`.
mod common;
#[path = "notify_email/config.rs"]
mod config;
#[path = "notify_email/sink.rs"]
mod sink;

use std::time::Duration;

use mail_parser::{HeaderValue, MessageParser};
use minhu::config::notify::email::{EmailNotifyConfig, SmtpTls};
use minhu::notify::email::EmailSender;
use minhu::notify::{Address, Delivery, Facts, Notice, NoticeKind, Route, Sender};
use minhu::pb;
use sink::{Sink, certificates};

/// 2025-06-03 10:00 in Beijing.
const NOW_MS: i64 = 1_748_916_000_000;
const CITIZEN: &str = "zhang.san@example.cn";
const MESSAGE_ID: &str = "CAF3x9Q+bK2mN7@mail.example.cn";

fn config(port: u16) -> EmailNotifyConfig {
    EmailNotifyConfig {
        enabled: true,
        host: "127.0.0.1".into(),
        port: Some(port),
        tls: SmtpTls::None,
        from: "mayor@xian.gov.cn".into(),
        from_name: "市长信箱".into(),
        message_id_domain: "minhu.test".into(),
        timeout: Duration::from_secs(20),
        ..Default::default()
    }
}

fn sender(cfg: &EmailNotifyConfig) -> std::sync::Arc<EmailSender> {
    let mut p = minhu::config::problem::Problems::new("minhu.toml");
    cfg.check(&mut p);
    assert!(p.list.is_empty(), "{:?}", p.list);
    EmailSender::from_config(cfg).unwrap().expect("enabled")
}

/// The answer to a citizen who mailed the mayor's mailbox.
fn notice(email: &str, source_id: &str, subject: &str) -> Notice {
    Notice {
        notice_id: "ntc-000123-email".into(),
        kind: NoticeKind::Result,
        route: Route::Email,
        address: Address {
            channel: pb::Channel::MayorMailbox as i32,
            source_system: "mailbox:xian".into(),
            source_id: source_id.into(),
            subject: subject.into(),
            name: "张三".into(),
            email: email.into(),
            ..Default::default()
        },
        facts: Facts {
            case_id: "C20250528-0007".into(),
            ticket_id: "T20250528-0007".into(),
            title: "小区门口路灯不亮".into(),
            category: "城市管理".into(),
            department_id: "cgj".into(),
            department_name: "西安市城市管理和综合执法局".into(),
            result: "路灯线路老化，已更换线路并恢复照明。".into(),
            completed_at_ms: NOW_MS - 3_600_000,
            reported_at_ms: NOW_MS - 5 * 86_400_000,
            ..Default::default()
        },
        attempts: 0,
    }
}

fn text(v: &HeaderValue<'_>) -> Option<String> {
    match v {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::TextList(l) => Some(l.join(" ")),
        _ => None,
    }
}

fn assert_sent(d: &Delivery) {
    match d {
        Delivery::Sent { via, receipt } => {
            assert_eq!(via, "smtp");
            assert!(
                receipt.starts_with("250 2.0.0 Ok: queued as SINK"),
                "{receipt}"
            );
        }
        other => panic!("not sent: {other:?}"),
    }
}

#[tokio::test]
async fn a_reply_threads_under_the_citizens_mail() {
    let sink = Sink::start(&[]);
    let s = sender(&config(sink.port));
    let n = notice(CITIZEN, MESSAGE_ID, "小区门口路灯不亮");
    assert_sent(&s.send(&n, NOW_MS).await);

    let got = sink.accepted();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["mail_from"], "mayor@xian.gov.cn");
    assert_eq!(got[0]["rcpt_tos"], serde_json::json!([CITIZEN]));
    let raw = got[0]["data"].as_str().unwrap();
    // Exactly what the renderer made (its golden files pin the bytes).
    let rendered = s.render(&n, NOW_MS).unwrap();
    assert_eq!(raw.as_bytes(), rendered.bytes.as_slice());

    let msg = MessageParser::default().parse(raw.as_bytes()).unwrap();
    assert_eq!(text(msg.in_reply_to()).as_deref(), Some(MESSAGE_ID));
    assert_eq!(text(msg.references()).as_deref(), Some(MESSAGE_ID));
    assert_eq!(msg.message_id(), Some("ntc-000123-email@minhu.test"));
    assert_eq!(msg.subject(), Some("Re: 小区门口路灯不亮"));
    assert_eq!(msg.date().map(|d| d.to_timestamp()), Some(NOW_MS / 1000));
    let from = &msg.from().unwrap().first().unwrap();
    assert_eq!(
        (from.name(), from.address()),
        (Some("市长信箱"), Some("mayor@xian.gov.cn"))
    );
    let to = &msg.to().unwrap().first().unwrap();
    assert_eq!((to.name(), to.address()), (Some("张三"), Some(CITIZEN)));
    let body = msg.body_text(0).unwrap();
    for part in [
        "您反映的“小区门口路灯不亮”（诉求编号 T20250528-0007）已由西安市城市管理和综合执法局办理完毕。",
        "路灯线路老化，已更换线路并恢复照明。",
        "办结时间：2025-06-03 09:00",
    ] {
        assert!(body.contains(part), "{part} not in {body}");
    }

    // The same notice sent again (a crash before it was recorded): the same Message-ID.
    assert_sent(&s.send(&n, NOW_MS + 60_000).await);
    let again = MessageParser::default()
        .parse(sink.accepted()[1]["data"].as_str().unwrap().as_bytes())
        .unwrap()
        .message_id()
        .map(str::to_owned);
    assert_eq!(again.as_deref(), Some("ntc-000123-email@minhu.test"));
}

#[tokio::test]
async fn a_web_form_reporter_gets_the_subject_template() {
    let sink = Sink::start(&[]);
    let s = sender(&config(sink.port));
    let n = notice("li.si@example.com", "form:web-20250601-0042", "");
    assert_sent(&s.send(&n, NOW_MS).await);
    let raw = sink.accepted()[0]["data"].as_str().unwrap().to_owned();
    let msg = MessageParser::default().parse(raw.as_bytes()).unwrap();
    assert_eq!(msg.subject(), Some("您的诉求 T20250528-0007 办理结果"));
    assert!(msg.in_reply_to().is_empty() && msg.references().is_empty());
    assert!(!raw.contains("In-Reply-To") && !raw.contains("References"));
}

#[tokio::test]
async fn a_rating_link_is_asked_for_in_results_and_a_reopened_case_has_its_own_words() {
    let sink = Sink::start(&[]);
    let s = sender(&config(sink.port));
    let mut n = notice(CITIZEN, MESSAGE_ID, "小区门口路灯不亮");
    n.facts.rate_url = "https://minhu.test/v1/feedback/tok".into();
    assert_sent(&s.send(&n, NOW_MS).await);
    let body = |i: usize| {
        let raw = sink.accepted()[i]["data"].as_str().unwrap().to_owned();
        let msg = MessageParser::default().parse(raw.as_bytes()).unwrap();
        (
            msg.subject().map(str::to_owned),
            msg.body_text(0).unwrap().into_owned(),
        )
    };
    let (_, text) = body(0);
    assert!(
        text.contains("请您对本次办理结果进行评价：https://minhu.test/v1/feedback/tok"),
        "{text}"
    );

    // 二次办理: another reporter said it is not solved. Still in the citizen's thread.
    n.kind = NoticeKind::Reopened;
    n.notice_id = "C20250528-0007/7/reopened/0".into();
    n.facts.result =
        "有市民反映问题尚未解决（“还是不亮”），已重新交办（二次办理），办理后将再次答复您".into();
    assert_sent(&s.send(&n, NOW_MS).await);
    let (subject, text) = body(1);
    assert_eq!(subject.as_deref(), Some("Re: 小区门口路灯不亮"));
    assert!(text.contains("已重新交办（二次办理）"), "{text}");
    assert!(
        !text.contains("办理完毕") && !text.contains("评价"),
        "{text}"
    );
    // A form reporter gets the reopened subject.
    n.address.source_id = "form:web-1".into();
    n.address.subject.clear();
    assert_sent(&s.send(&n, NOW_MS).await);
    assert_eq!(
        body(2).0.as_deref(),
        Some("您的诉求 T20250528-0007 已重新交办")
    );
}

#[tokio::test]
async fn starttls_and_login() {
    let probe = Sink::start(&[]);
    let (ca, cert, key) = certificates(probe.dir.path());
    let password = probe.file("password", "pa55 word\n");
    let sink = Sink::start(&[
        "--starttls",
        cert.to_str().unwrap(),
        key.to_str().unwrap(),
        "--auth",
        "mailbox:pa55 word",
    ]);
    let mut cfg = config(sink.port);
    cfg.tls = SmtpTls::Starttls;
    cfg.ca_file = Some(ca.clone());
    cfg.username = "mailbox".into();
    cfg.password_file = Some(password);
    let n = notice(CITIZEN, MESSAGE_ID, "路灯");
    assert_sent(&sender(&cfg).send(&n, NOW_MS).await);
    assert_eq!(sink.accepted().len(), 1);

    // A wrong password is the gateway's problem, not the citizen's: retried, never written off.
    let mut wrong = cfg.clone();
    wrong.password_file = None;
    wrong.password = "guess".into();
    match sender(&wrong).send(&n, NOW_MS).await {
        Delivery::Retry { error, .. } => assert!(error.contains("refused the login"), "{error}"),
        other => panic!("{other:?}"),
    }
    // A certificate nobody vouched for ends the handshake: retried, nothing sent in clear.
    let mut untrusted = cfg.clone();
    untrusted.ca_file = None;
    match sender(&untrusted).send(&n, NOW_MS).await {
        Delivery::Retry { error, .. } => {
            assert!(error.contains("invalid peer certificate"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    // A server that does not offer STARTTLS is not talked to in plain text instead.
    let mut plain = cfg.clone();
    plain.port = Some(probe.port);
    match sender(&plain).send(&n, NOW_MS).await {
        Delivery::Retry { error, .. } => assert!(error.contains("STARTTLS"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(sink.accepted().len(), 1);
    assert!(probe.accepted().is_empty());
}

#[tokio::test]
async fn implicit_tls() {
    let files = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(files.path());
    let sink = Sink::start(&["--tls", cert.to_str().unwrap(), key.to_str().unwrap()]);
    let mut cfg = config(sink.port);
    cfg.tls = SmtpTls::Tls;
    cfg.ca_file = Some(ca);
    assert_sent(
        &sender(&cfg)
            .send(&notice(CITIZEN, MESSAGE_ID, "路灯"), NOW_MS)
            .await,
    );
    assert_eq!(sink.accepted().len(), 1);
}

#[tokio::test]
async fn a_refused_recipient_is_unreachable_a_full_mailbox_is_retried() {
    let sink = Sink::start(&["--reject", "nobody@example.cn", "--full", "full@example.cn"]);
    let s = sender(&config(sink.port));
    match s
        .send(&notice("nobody@example.cn", MESSAGE_ID, "路灯"), NOW_MS)
        .await
    {
        Delivery::Unreachable { reason } => {
            assert!(
                reason.contains("550") && reason.contains("User unknown"),
                "{reason}"
            );
            // The server echoed the address; the ledger and the logs get it masked.
            assert!(!reason.contains("nobody@"), "{reason}");
            assert!(reason.contains("n***@example.cn"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // A full mailbox (552) is temporary (RFC 5321 4.5.3.1.10): tried again later.
    match s
        .send(&notice("full@example.cn", MESSAGE_ID, "路灯"), NOW_MS)
        .await
    {
        Delivery::Retry { error, .. } => assert!(error.contains("552"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert!(sink.accepted().is_empty());
}

#[tokio::test]
async fn a_deferred_message_is_retried_then_sent() {
    let sink = Sink::start(&["--defer", "1"]);
    let s = sender(&config(sink.port));
    let n = notice(CITIZEN, MESSAGE_ID, "路灯");
    match s.send(&n, NOW_MS).await {
        Delivery::Retry { error, after } => {
            assert!(error.contains("451"), "{error}");
            assert_eq!(after, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(sink.accepted().is_empty());
    assert_sent(&s.send(&n, NOW_MS + 30_000).await);
    assert_eq!(sink.accepted().len(), 1);
}

#[tokio::test]
async fn a_server_that_is_down_is_retried() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = sender(&config(port));
    match s.send(&notice(CITIZEN, MESSAGE_ID, "路灯"), NOW_MS).await {
        Delivery::Retry { error, .. } => assert!(error.contains("mail server"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_never_answers_is_retried_after_the_timeout() {
    // Accepts the connection and says nothing: lettre bounds only the connect.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _held = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(socket);
    });
    let mut cfg = config(port);
    cfg.timeout = Duration::from_millis(300);
    match sender(&cfg)
        .send(&notice(CITIZEN, MESSAGE_ID, "路灯"), NOW_MS)
        .await
    {
        Delivery::Retry { error, .. } => assert!(error.contains("no answer within"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn no_usable_address_is_unreachable_without_a_connection() {
    // Port 9 (discard) on loopback: nothing listens there, and nothing is tried.
    let s = sender(&config(9));
    for (email, want) in [
        ("", "no e-mail address"),
        ("zhang.san", "not an e-mail address"),
    ] {
        match s.send(&notice(email, MESSAGE_ID, "路灯"), NOW_MS).await {
            Delivery::Unreachable { reason } => assert!(reason.contains(want), "{reason}"),
            other => panic!("{email:?}: {other:?}"),
        }
    }
}

#[test]
fn from_config_is_none_when_disabled_and_fails_on_an_unreadable_password_file() {
    assert!(
        EmailSender::from_config(&EmailNotifyConfig::default())
            .unwrap()
            .is_none()
    );
    let mut cfg = config(25);
    cfg.username = "mailbox".into();
    cfg.password_file = Some("/nonexistent/minhu-smtp-password".into());
    cfg.tls = SmtpTls::Starttls;
    let err = EmailSender::from_config(&cfg).unwrap_err().to_string();
    assert!(err.contains("notify.email.password_file"), "{err}");
}
