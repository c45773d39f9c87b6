//! The real `WechatSender` against the stand-in WeChat API over loopback: which message goes,
//! what the stand-in accepted, and what each of WeChat's answers becomes.
use std::sync::Arc;

use minhu::notify::wechat::WechatSender;
use minhu::notify::{Address, Delivery, Facts, Notice, Sender};
use serde_json::json;

use super::stand_in::StandIn;
use super::{config, notice};

const ACCOUNT: &str = "wx5d8f1a2b3c4d5e6f";
const MINI: &str = "wx0a1b2c3d4e5f6a7b";
const SECRET: &str = "account-secret-1";
const MINI_SECRET: &str = "mini-secret-2";
/// 2026-05-12 11:30 in Beijing: the sender's clock in every test.
const NOW: i64 = 1_778_556_600_000;
const HOUR: i64 = 3_600_000;

/// The stand-in knowing both apps, plus `extra` flags.
async fn stand_in(extra: &[&str]) -> StandIn {
    let account = format!("{ACCOUNT}:{SECRET}");
    let mini = format!("{MINI}:{MINI_SECRET}");
    let mut args = vec!["--app", &account, "--app", &mini];
    args.extend_from_slice(extra);
    StandIn::start(&args).await
}

/// A sender pointed at `s`, with the account's template message and the mini-program.
fn sender(s: &StandIn, account_secret: &str) -> Arc<WechatSender> {
    let cfg = config(&format!(
        r#"
        enabled = true
        api_base = "{base}"
        timeout = "5s"
        [[accounts]]
        app_id = "{ACCOUNT}"
        app_secret = "{account_secret}"
        template_id = "TPL-result"
        url = "https://12345.example.gov.cn/case?ticket={{ticket_id}}"
        fields = {{ character_string1 = "{{ticket_id}}", thing2 = "{{title}}", thing3 = "{{result}}", time4 = "{{completed_at}}" }}
        [[miniprograms]]
        app_id = "{MINI}"
        app_secret = "{MINI_SECRET}"
        template_id = "SUB-result"
        page = "pages/case/detail?ticket={{ticket_id}}"
        fields = {{ character_string1 = "{{ticket_id}}", thing2 = "{{title}}", thing3 = "{{result}}", time4 = "{{completed_at}}" }}
        "#,
        base = s.base
    ));
    WechatSender::from_config(&cfg)
        .expect("sender")
        .expect("enabled")
}

fn facts() -> Facts {
    Facts {
        case_id: "C20260508000042".into(),
        ticket_id: "W20260508000123".into(),
        title: "菜市场周边早上六点前就有货车卸货噪音很大影响休息".into(),
        department_name: "市城管局".into(),
        result: "已约谈商户，卸货时间调整为七点以后，城管将持续巡查。".into(),
        completed_at_ms: NOW - HOUR,
        ..Default::default()
    }
}

/// A citizen of the official account who last wrote `hours_ago`.
fn citizen(openid: &str, hours_ago: i64) -> Notice {
    let address = Address {
        channel: 2,
        source_system: format!("wechat:{ACCOUNT}"),
        wechat_openid: openid.into(),
        last_seen_ms: NOW - hours_ago * HOUR,
        ..Default::default()
    };
    notice(&format!("ntc-{openid}"), address, facts())
}

fn sent_via(d: &Delivery) -> &str {
    match d {
        Delivery::Sent { via, .. } => via,
        other => panic!("not sent: {other:?}"),
    }
}

#[tokio::test]
async fn customer_service_text_inside_the_48_hours() {
    let s = stand_in(&[]).await;
    let d = sender(&s, SECRET)
        .send(&citizen("oCitizen1", 47), NOW)
        .await;
    assert_eq!(sent_via(&d), "wechat.custom");
    let m = s.messages().await;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["kind"], "custom");
    assert_eq!(m[0]["touser"], "oCitizen1");
    assert_eq!(m[0]["app_id"], ACCOUNT);
    let text = m[0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("W20260508000123") && text.contains("市城管局"),
        "{text}"
    );
}

#[tokio::test]
async fn template_message_outside_the_48_hours() {
    let s = stand_in(&[]).await;
    let d = sender(&s, SECRET)
        .send(&citizen("oCitizen2", 48), NOW)
        .await;
    assert_eq!(sent_via(&d), "wechat.template");
    assert!(matches!(&d, Delivery::Sent { receipt, .. } if receipt.starts_with("msgid ")));
    let m = s.messages().await;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["kind"], "template");
    assert_eq!(m[0]["template_id"], "TPL-result");
    assert_eq!(m[0]["client_msg_id"], "ntc-oCitizen2");
    assert_eq!(
        m[0]["url"],
        "https://12345.example.gov.cn/case?ticket=W20260508000123"
    );
    assert_eq!(m[0]["data"]["character_string1"], "W20260508000123");
    assert_eq!(m[0]["data"]["time4"], "2026-05-12 10:30");
}

#[tokio::test]
async fn a_closed_window_falls_back_to_the_template_message() {
    let s = stand_in(&["--closed", "oClosed"]).await;
    let d = sender(&s, SECRET).send(&citizen("oClosed", 1), NOW).await;
    assert_eq!(sent_via(&d), "wechat.template");
    let kinds: Vec<_> = s
        .messages()
        .await
        .iter()
        .map(|m| m["kind"].clone())
        .collect();
    assert_eq!(kinds, [json!("template")]);
    assert_eq!(s.stats().await["answers"]["45015"], 1);
}

#[tokio::test]
async fn unsubscribed_and_unknown_citizens_are_unreachable() {
    let s = stand_in(&["--unsubscribed", "oGone", "--invalid", "oNobody"]).await;
    let wechat = sender(&s, SECRET);
    for (openid, hours, code) in [
        ("oGone", 1, "43004"),
        ("oGone", 100, "43004"),
        ("oNobody", 1, "40003"),
    ] {
        match wechat.send(&citizen(openid, hours), NOW).await {
            Delivery::Unreachable { reason } => {
                assert!(reason.contains(code), "{reason}");
                assert!(
                    !reason.contains(openid),
                    "the reason names the openid: {reason}"
                );
            }
            other => panic!("{openid}: {other:?}"),
        }
    }
    assert!(s.messages().await.is_empty());
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_message_sent() {
    let s = stand_in(&[]).await;
    let wechat = sender(&s, SECRET);
    assert_eq!(
        sent_via(&wechat.send(&citizen("oA", 1), NOW).await),
        "wechat.custom"
    );
    s.expire_tokens().await;
    // Same clock reading: only WeChat's 42001 can tell the sender its token is gone.
    assert_eq!(
        sent_via(&wechat.send(&citizen("oB", 1), NOW).await),
        "wechat.custom"
    );
    let stats = s.stats().await;
    assert_eq!(stats["token_fetches"], 2, "{stats}");
    assert_eq!(stats["answers"]["42001"], 1, "{stats}");
    assert_eq!(stats["forced_refreshes"], 0, "{stats}");
    assert_eq!(s.messages().await.len(), 2);
}

#[tokio::test]
async fn a_refused_token_that_wechat_still_hands_out_is_force_refreshed() {
    let s = stand_in(&[]).await;
    let wechat = sender(&s, SECRET);
    assert_eq!(
        sent_via(&wechat.send(&citizen("oA", 1), NOW).await),
        "wechat.custom"
    );
    s.reject_tokens().await;
    assert_eq!(
        sent_via(&wechat.send(&citizen("oB", 1), NOW).await),
        "wechat.custom"
    );
    let stats = s.stats().await;
    assert_eq!(stats["answers"]["40001"], 1, "{stats}");
    assert_eq!(stats["token_fetches"], 3, "{stats}");
    assert_eq!(stats["forced_refreshes"], 1, "{stats}");
}

#[tokio::test]
async fn concurrent_sends_share_one_token_fetch_and_one_refresh() {
    let s = stand_in(&[]).await;
    let wechat = sender(&s, SECRET);
    let notices: Vec<Notice> = (0..12).map(|i| citizen(&format!("oMany{i}"), 1)).collect();
    let sends = notices.iter().map(|n| wechat.send(n, NOW));
    for d in futures::future::join_all(sends).await {
        assert_eq!(sent_via(&d), "wechat.custom");
    }
    assert_eq!(s.stats().await["token_fetches"], 1);
    // Every one of them meets the expired token; one refresh serves them all.
    s.expire_tokens().await;
    let sends = notices.iter().map(|n| wechat.send(n, NOW));
    for d in futures::future::join_all(sends).await {
        assert_eq!(sent_via(&d), "wechat.custom");
    }
    let stats = s.stats().await;
    assert_eq!(stats["token_fetches"], 2, "{stats}");
    assert_eq!(s.messages().await.len(), 24);
}

#[tokio::test]
async fn system_busy_is_retried_later() {
    let s = stand_in(&["--busy-every", "2"]).await;
    let wechat = sender(&s, SECRET);
    assert_eq!(
        sent_via(&wechat.send(&citizen("oA", 1), NOW).await),
        "wechat.custom"
    );
    match wechat.send(&citizen("oB", 1), NOW).await {
        Delivery::Retry { error, after } => {
            assert!(error.contains("errcode -1"), "{error}");
            assert_eq!(after, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.messages().await.len(), 1);
}

#[tokio::test]
async fn a_wrong_app_secret_is_a_clear_retryable_failure() {
    let s = stand_in(&[]).await;
    let wechat = sender(&s, "not-the-secret");
    let notices: Vec<Notice> = (0..5).map(|i| citizen(&format!("oA{i}"), 1)).collect();
    let sends = notices.iter().map(|n| wechat.send(n, NOW));
    for d in futures::future::join_all(sends).await {
        match d {
            Delivery::Retry { error, .. } => {
                assert!(
                    error.contains(ACCOUNT) && error.contains("40125"),
                    "{error}"
                );
                assert!(error.contains("AppSecret is wrong"), "{error}");
                assert!(
                    !error.contains("not-the-secret"),
                    "shows the secret: {error}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    // One refusal answers every sender for a while; then the token is asked for again.
    assert_eq!(s.stats().await["answers"]["40125"], 1);
    let later = wechat.send(&citizen("oB", 1), NOW + 31_000).await;
    assert!(matches!(later, Delivery::Retry { .. }), "{later:?}");
    assert_eq!(s.stats().await["answers"]["40125"], 2);
    assert!(s.messages().await.is_empty());
}

#[tokio::test]
async fn a_miniprogram_citizen_gets_a_subscribe_message_with_fitted_fields() {
    let s = stand_in(&["--refused", "oRefused"]).await;
    let wechat = sender(&s, SECRET);
    let mut n = citizen("oMini", 1);
    n.address.source_system = format!("wechat:{MINI}");
    n.address.miniprogram = true;
    let d = wechat.send(&n, NOW).await;
    assert_eq!(sent_via(&d), "wechat.subscribe");
    let m = s.messages().await;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["kind"], "subscribe");
    assert_eq!(m[0]["app_id"], MINI);
    assert_eq!(m[0]["page"], "pages/case/detail?ticket=W20260508000123");
    let thing = m[0]["data"]["thing2"].as_str().unwrap_or_default();
    assert_eq!(thing.chars().count(), 20, "{thing}");
    assert!(thing.ends_with('…'), "{thing}");
    assert_eq!(m[0]["data"]["character_string1"], "W20260508000123");

    n.address.wechat_openid = "oRefused".into();
    match wechat.send(&n, NOW).await {
        Delivery::Unreachable { reason } => assert!(reason.contains("43101"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_dead_api_is_retried_and_a_missing_template_is_unreachable() {
    let s = stand_in(&[]).await;
    let cfg = config(&format!(
        "enabled = true\napi_base = \"{}\"\n[[accounts]]\napp_id = \"{ACCOUNT}\"\napp_secret = \"{SECRET}\"\n",
        s.base
    ));
    let wechat = WechatSender::from_config(&cfg)
        .expect("sender")
        .expect("enabled");
    match wechat.send(&citizen("oOld", 49), NOW).await {
        Delivery::Unreachable { reason } => {
            assert!(reason.contains("no template message"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    let base = s.base.clone();
    drop(s);
    let cfg = config(&format!(
        "enabled = true\napi_base = \"{base}\"\ntimeout = \"2s\"\n[[accounts]]\napp_id = \"{ACCOUNT}\"\napp_secret = \"{SECRET}\"\n"
    ));
    let wechat = WechatSender::from_config(&cfg)
        .expect("sender")
        .expect("enabled");
    match wechat.send(&citizen("oA", 1), NOW).await {
        Delivery::Retry { error, .. } => {
            assert!(error.contains("access token for"), "{error}");
            assert!(error.contains("onnect"), "says why: {error}");
            assert!(!error.contains("access_token="), "{error}");
        }
        other => panic!("{other:?}"),
    }
}
