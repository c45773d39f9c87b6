//! The SMS sender: golden fixtures of the requests it renders from gateway descriptions
//! (`tests/fixtures/hotline12345/sms/*.toml` → `*.expected.json`, `UPDATE_GOLDEN=1` rewrites
//! them), then the real sender against a strict stand-in gateway over loopback that verifies
//! the signature and body shape the config describes. Every instant is passed explicitly: no
//! test depends on today's date or on timing.
mod common;
#[path = "notify_sms/gateway.rs"]
mod gateway;

use std::path::PathBuf;
use std::time::Duration;

use gateway::{BLACKLISTED, BUSY, StandIn};
use minhu::config::notify::sms::SmsNotifyConfig;
use minhu::notify::sms::SmsSender;
use minhu::notify::{Address, Delivery, Facts, Notice, NoticeKind, Route, Sender};
use serde::Deserialize;
use serde_json::json;

/// 2026-11-22 10:00 Beijing time (02:00Z): daytime.
const DAY: i64 = 1_795_312_800_000;
/// 2026-11-22 23:10 Beijing time: quiet hours.
const NIGHT: i64 = 1_795_360_200_000;
/// 2026-11-23 08:00 Beijing time: the end of that night's quiet hours.
const MORNING: i64 = 1_795_392_000_000;

/// One golden fixture: a `[notify.sms]` section and a notice.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    now_ms: i64,
    notice_id: String,
    phone: String,
    facts: Facts,
    sms: SmsNotifyConfig,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hotline12345/sms")
}

fn notice(id: &str, phone: &str, facts: Facts) -> Notice {
    Notice {
        notice_id: id.into(),
        kind: NoticeKind::Result,
        route: Route::Sms,
        address: Address {
            phone: phone.into(),
            ..Address::default()
        },
        facts,
        attempts: 0,
    }
}

fn facts() -> Facts {
    Facts {
        case_id: "C20261120-0007".into(),
        ticket_id: "T20261120-0042".into(),
        department_name: "莲湖区市政管理局".into(),
        result: "路面已修补，恢复通行".into(),
        ..Facts::default()
    }
}

#[test]
fn golden_fixtures_render_the_expected_requests() {
    common::golden::check_fixtures(
        &fixtures(),
        |n| n.ends_with(".toml"),
        |n| n.replace(".toml", ".expected.json"),
        6,
        |name| {
            let text = std::fs::read_to_string(fixtures().join(name)).expect("fixture");
            let f: Fixture = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let sender = SmsSender::from_config(&f.sms)
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .expect("enabled");
            let n = notice(&f.notice_id, &f.phone, f.facts);
            match sender.prepare(&n, f.now_ms) {
                Ok((_, r)) => json!({
                    "method": r.method,
                    "url": r.url,
                    "headers": r.headers,
                    "body": r.body,
                }),
                Err(Delivery::Held { until_ms, why }) => {
                    json!({"held_until_ms": until_ms, "why": why})
                }
                Err(Delivery::Unreachable { reason }) => json!({"unreachable": reason}),
                Err(other) => json!({"unexpected": format!("{other:?}")}),
            }
        },
    );
}

/// A sender for the stand-in's JSON + HMAC convention, signing with `secret`.
fn sender(url: &str, secret: &str) -> std::sync::Arc<SmsSender> {
    let text = format!(
        r#"
enabled = true
secret = "{secret}"
timeout = "5s"

[gateway]
url = "{url}"
body = {{ mobile = "{{phone}}", content = "{{text}}", requestId = "{{notice_id}}", ts = "{{timestamp}}" }}
headers = {{ "X-Timestamp" = "{{timestamp}}" }}
code_field = "code"
success_codes = ["OK"]
permanent_codes = ["MOBILE_BLACKLISTED", "MOBILE_INVALID"]
receipt_field = "data.bizId"
message_field = "message"

[gateway.signature]
header = "X-Signature"
signed = "{{timestamp}}\n{{body}}"
"#
    );
    let cfg: SmsNotifyConfig = toml::from_str(&text).expect("config");
    let mut p = minhu::config::problem::Problems::new("test.toml");
    cfg.check(&mut p);
    assert!(p.list.is_empty(), "{:?}", p.list);
    SmsSender::from_config(&cfg)
        .expect("builds")
        .expect("enabled")
}

#[tokio::test]
async fn sent_with_the_gateways_receipt_and_a_body_the_gateway_verified() {
    let gw = StandIn::start("right-secret").await;
    let s = sender(&gw.url(), "right-secret");
    let n = notice("N-sent-1", "+86 138-1234-5678", facts());
    let d = s.send(&n, DAY).await;
    assert_eq!(
        d,
        Delivery::Sent {
            via: "sms".into(),
            receipt: "B-N-sent-1".into()
        }
    );
    let seen = gw.seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].signature_ok);
    let body = &seen[0].body;
    assert_eq!(body["mobile"], "13812345678");
    assert_eq!(body["requestId"], "N-sent-1");
    assert_eq!(body["ts"], (DAY / 1000).to_string());
    let content = body["content"].as_str().unwrap_or_default();
    assert!(content.contains("T20261120-0042"), "{content}");
    assert!(content.contains("莲湖区市政管理局"), "{content}");
    assert!(content.contains("路面已修补，恢复通行"), "{content}");
    // A retry of the same notice carries the same request id, so the gateway can drop it.
    let again = s.send(&n, DAY + 60_000).await;
    assert!(matches!(again, Delivery::Sent { .. }), "{again:?}");
    assert_eq!(gw.seen()[1].body["requestId"], "N-sent-1");
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_reported_as_such() {
    let gw = StandIn::start("right-secret").await;
    let s = sender(&gw.url(), "wrong-secret");
    let d = s.send(&notice("N-x", "13812345678", facts()), DAY).await;
    let Delivery::Retry { error, after } = d else {
        panic!("a refused request is retried once the secret is fixed: {d:?}");
    };
    assert!(error.contains("refused"), "{error}");
    assert!(error.contains("HTTP 401"), "{error}");
    assert!(error.contains("SIGNATURE_MISMATCH"), "{error}");
    assert!(error.contains("secret"), "{error}");
    assert_eq!(after, None);
    assert_eq!(gw.seen().len(), 1);
    assert!(!gw.seen()[0].signature_ok);
}

#[tokio::test]
async fn a_permanent_failure_code_is_unreachable_with_the_number_masked() {
    let gw = StandIn::start("k").await;
    let s = sender(&gw.url(), "k");
    let d = s.send(&notice("N-b", BLACKLISTED, facts()), DAY).await;
    let Delivery::Unreachable { reason } = d else {
        panic!("blacklisted is permanent: {d:?}");
    };
    assert!(reason.contains("MOBILE_BLACKLISTED"), "{reason}");
    assert!(reason.contains("139****0000"), "{reason}");
    assert!(!reason.contains(BLACKLISTED), "{reason}");
}

#[tokio::test]
async fn a_busy_gateway_is_retried_after_what_it_asked() {
    let gw = StandIn::start("k").await;
    let s = sender(&gw.url(), "k");
    let d = s.send(&notice("N-busy", BUSY, facts()), DAY).await;
    let Delivery::Retry { error, after } = d else {
        panic!("503 is retried: {d:?}");
    };
    assert!(error.contains("HTTP 503"), "{error}");
    assert_eq!(after, Some(Duration::from_secs(7)));
    assert_eq!(gw.seen().len(), 1);
}

#[tokio::test]
async fn a_landline_is_unreachable_without_a_call() {
    let gw = StandIn::start("k").await;
    let s = sender(&gw.url(), "k");
    let d = s
        .send(&notice("N-land", "029-8765 4321", facts()), DAY)
        .await;
    let Delivery::Unreachable { reason } = d else {
        panic!("a landline takes no SMS: {d:?}");
    };
    assert!(reason.contains("landline"), "{reason}");
    assert!(!reason.contains("8765"), "{reason}");
    assert!(gw.seen().is_empty());
}

#[tokio::test]
async fn quiet_hours_hold_until_eight_beijing_time_without_a_call() {
    let gw = StandIn::start("k").await;
    let s = sender(&gw.url(), "k");
    let n = notice("N-night", "13812345678", facts());
    assert_eq!(
        s.send(&n, NIGHT).await,
        Delivery::Held {
            until_ms: MORNING,
            why: "sms quiet hours 22:00-08:00 (Beijing time)".into()
        }
    );
    assert_eq!(s.send(&n, MORNING - 1).await, {
        Delivery::Held {
            until_ms: MORNING,
            why: "sms quiet hours 22:00-08:00 (Beijing time)".into(),
        }
    });
    assert!(gw.seen().is_empty());
    // At 08:00 sharp it goes out.
    assert!(matches!(s.send(&n, MORNING).await, Delivery::Sent { .. }));
    assert_eq!(gw.seen().len(), 1);
}

#[tokio::test]
async fn a_gateway_that_cannot_be_reached_is_retried_without_the_url() {
    // A port that was free a moment ago: connection refused.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let s = sender(&format!("http://{addr}/sms/send"), "k");
    let d = s.send(&notice("N-down", "13812345678", facts()), DAY).await;
    let Delivery::Retry { error, .. } = d else {
        panic!("a network error is retried: {d:?}");
    };
    assert!(error.contains("not reached"), "{error}");
    assert!(!error.contains(&addr.port().to_string()), "{error}");
}

/// The `[notify.sms]` sample for `config/minhu.toml` (as in the config module's docs).
const SAMPLE: &str = r#"
[notify.sms]
enabled = true
quiet_hours = "22:00-08:00"      # Beijing time; "off" sends at any hour
secret_env = "SMS_GATEWAY_SECRET"

[notify.sms.gateway]
url = "https://sms.example.gov.cn/api/v1/send"
body = { mobile = "{phone}", content = "{text}", requestId = "{notice_id}", ts = "{timestamp}" }
headers = { "X-App-Id" = "minhu" }
code_field = "code"
success_codes = ["OK"]
permanent_codes = ["MOBILE_INVALID", "MOBILE_BLACKLISTED"]
receipt_field = "data.bizId"

[notify.sms.gateway.signature]
algorithm = "hmac-sha256"
header = "X-Signature"
signed = "{timestamp}\n{body}"
"#;

#[test]
fn the_sample_section_loads_with_the_service_config_as_the_gateway_reads_it() {
    // The whole service file through the same loader (the `config` crate, strict), with the
    // secret from a file: the sample's variable may not be set here.
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("sms.secret");
    std::fs::write(&secret, "s3cret\n").expect("write secret");
    let routing = repo.join("config/routing.toml");
    let service = std::fs::read_to_string(repo.join("config/minhu.toml"))
        .expect("sample service file")
        .replace(
            "path = \"routing.toml\"",
            &format!("path = {:?}", routing.display().to_string()),
        );
    let section = SAMPLE.replace(
        "secret_env = \"SMS_GATEWAY_SECRET\"",
        &format!("secret_file = {:?}", secret.display().to_string()),
    );
    let path = dir.path().join("minhu.toml");
    std::fs::write(&path, service + &section).expect("write config");
    let loaded = minhu::config::load::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let sms = &loaded.service.notify.sms;
    assert!(sms.enabled);
    let minhu_adapter_hotline12345::sms::BodySpec::Fields(body) = &sms.gateway.body else {
        panic!("the body table is read as fields: {:?}", sms.gateway.body);
    };
    // Key case survives the loader: gateways are case-sensitive.
    assert!(body.contains_key("requestId"), "{body:?}");
    let s = SmsSender::from_config(sms)
        .expect("builds")
        .expect("enabled");
    let (_, r) = s
        .prepare(&notice("N-1", "13812345678", facts()), DAY)
        .unwrap_or_else(|d| panic!("{d:?}"));
    assert!(r.headers.iter().any(|(h, _)| h == "X-Signature"));
}

#[test]
fn disabled_builds_no_sender() {
    let cfg = SmsNotifyConfig::default();
    assert!(matches!(SmsSender::from_config(&cfg), Ok(None)));
}
