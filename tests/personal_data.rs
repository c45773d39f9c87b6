//! Personal data never reaches the logs: a full run through the real binary with JSON logs
//! at debug level — gRPC, WeChat, mayor's mailbox (form and e-mail), 12345, city management
//! (event and Open311), emergency transfers; accepted, refused-as-invalid, rate-limited and
//! unauthorised submissions — then the whole output (stdout and stderr) is scanned for every
//! raw personal value used.
mod common;
#[path = "wechat/push.rs"]
#[allow(dead_code)]
mod push;

use std::time::Duration;

use common::broker::TestVhost;
use common::gateway::{Gateway, Options, request, submit};
use common::http::send;
use minhu::pb;

const NAME: &str = "欧阳明月";
const PHONE: &str = "13655512345";
const EMAIL: &str = "ouyang.mingyue@example.cn";
const OPENID: &str = "oQ7xYpersonal0penid99";
const NAME2: &str = "司马长风";
const PHONE2: &str = "18966654321";
const EMAIL2: &str = "sima.cf@mail.example.org";
const BAD_PHONE: &str = "1365551234599999";

fn config(dir: &std::path::Path) -> String {
    let taxonomy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/taxonomy.toml");
    format!(
        "[log]\nformat = \"json\"\nlevel = \"debug\"\n\
         [rate_limits]\nper_reporter = {{ requests = 3, per = \"1h\" }}\n\
         [adapters.mailbox]\nenabled = true\nsource_system = \"mailbox:test\"\nattachments_dir = \"{}\"\n\
         [adapters.citymgmt]\nenabled = true\nsource_system = \"citymgmt:test\"\ntaxonomy = {:?}\n\
         [[adapters.citymgmt.class_codes]]\nkind = \"event\"\nmajor = \"05\"\ncategory = \"market.street_vendor\"\n\
         [[adapters.citymgmt.api_keys]]\nname = \"app\"\nsha256 = \"{}\"\n\
         [adapters.emergency]\nenabled = true\n[[adapters.emergency.centres]]\nid = \"xian-119\"\ntoken_sha256 = \"{}\"\nlines = [\"119\"]\n\
         {}",
        dir.join("attachments").display(),
        taxonomy.display().to_string(),
        minhu_adapter_citymgmt::sha256_hex(b"app-key"),
        minhu_adapter_emergency::auth::token_sha256_hex("em-token"),
        push::config(),
    )
}

#[tokio::test]
async fn no_personal_value_appears_anywhere_in_the_output_of_a_full_run() {
    let vhost = TestVhost::new("pii");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = config(dir.path());
    let mut gw = Gateway::start(dir.path(), &opts).await;
    let mut c = gw.client().await;

    // gRPC: accepted, invalid (a personal value in a bad field), rate-limited.
    let with_reporter = |id: &str, phone: &str| {
        let mut r = request(pb::Channel::Hotline12345, id, "road");
        r.reporter = Some(pb::Reporter {
            name: NAME.into(),
            phone: phone.into(),
            email: EMAIL.into(),
            wechat_openid: OPENID.into(),
            anonymous: false,
            no_contact: false,
        });
        r
    };
    submit(&mut c, with_reporter("P-1", PHONE)).await.unwrap();
    let bad = submit(&mut c, with_reporter("P-2", BAD_PHONE)).await;
    if let Err(s) = &bad {
        assert!(!s.message().contains(BAD_PHONE), "{}", s.message());
    }
    for i in 3..8 {
        let _ = submit(&mut c, with_reporter(&format!("P-{i}"), PHONE)).await;
    }

    // WeChat: a text message, plain mode and safe mode.
    let q = push::plain_query(push::TOKEN);
    let (status, _) = push::post(
        gw.http,
        &q,
        &push::text(OPENID, "路灯坏了 欧阳明月 13655512345", "7001"),
    )
    .await;
    assert_eq!(status, 200);
    let (q, body) = push::safe(&push::text(OPENID, "井盖丢失", "7002"));
    assert_eq!(push::post(gw.http, &q, &body).await.0, 200);

    // Mayor's mailbox: a web form and an e-mail.
    let form = format!(
        r#"{{"subject":"噪音","content":"夜间施工噪音","name":"{NAME2}","phone":"{PHONE2}","email":"{EMAIL2}"}}"#
    );
    let r = send(
        gw.http,
        "POST",
        "/v1/mailbox/forms",
        "application/json",
        "",
        form.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let bad_form = format!(
        r#"{{"content":"x","name":"{NAME2}","phone":"{BAD_PHONE}","email":"not-an-email {EMAIL2}"}}"#
    );
    let r = send(
        gw.http,
        "POST",
        "/v1/mailbox/forms",
        "application/json",
        "",
        bad_form.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        !r.body.contains(BAD_PHONE) && !r.body.contains(EMAIL2),
        "{}",
        r.body
    );
    let mail = format!(
        "From: {NAME2} <{EMAIL2}>\r\nTo: mayor@xian.example.gov.cn\r\nSubject: =?UTF-8?B?5Y+N5pig?=\r\nMessage-ID: <pii-1@example.org>\r\n\
         Date: Sun, 22 Nov 2026 09:00:00 +0800\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n我的电话 {PHONE2}，小区门口垃圾堆积。\r\n"
    );
    let r = send(
        gw.http,
        "POST",
        "/v1/mailbox/messages",
        "message/rfc822",
        "",
        mail.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");

    // City management: an event with an inspector's name, and an Open311 post.
    let event = format!(
        r#"{{"case_number":"AJ-PII-1","kind":"事件","major_code":"05","minor_code":"0507","description":"早市占道经营","street_code":"610104003","address":"莲湖区大兴东路","inspector":{{"name":"{NAME}","id":"W1"}},"reported_at":"2026-11-22T07:40:05+08:00"}}"#
    );
    let r = send(
        gw.http,
        "POST",
        "/v1/citymgmt/events",
        "application/json",
        "",
        event.as_bytes(),
    )
    .await;
    assert!(r.status < 500, "{r:?}");
    let open311 = format!(
        "api_key=app-key&service_code=market.street_vendor&lat=34.2251&long=108.9468&description=x&first_name=%E6%98%8E%E6%9C%88&last_name=%E6%AC%A7%E9%98%B3&phone={PHONE}&email={}",
        EMAIL.replace('@', "%40")
    );
    let r = send(
        gw.http,
        "POST",
        "/open311/v2/requests.json",
        "application/x-www-form-urlencoded",
        "",
        open311.as_bytes(),
    )
    .await;
    assert!(r.status < 500, "{r:?}");

    // Emergency: a 119 transfer with the caller's name and phone, and one with a wrong token.
    let transfer = format!(
        r#"[{{"line":119,"incident_number":"XA119-PII-1","received_at":"2026-11-22 09:31:45","caller":{{"name":"{NAME2}","phone":"{PHONE2}"}},"content":"楼道堆放杂物堵塞消防通道","address":"莲湖区青年路 45 号院","community_code":"610104003002","reason":"非紧急：转 12345"}}]"#
    );
    let auth = "Authorization: Bearer em-token\r\n";
    let r = send(
        gw.http,
        "POST",
        "/v1/emergency/transfers",
        "application/json",
        auth,
        transfer.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = send(
        gw.http,
        "POST",
        "/v1/emergency/transfers",
        "application/json",
        "Authorization: Bearer wrong\r\n",
        transfer.as_bytes(),
    )
    .await;
    assert!(matches!(r.status, 401 | 403), "{r:?}");

    gw.wait_outbox_empty(Duration::from_secs(20)).await;
    assert!(gw.terminate());
    let log = gw.log_text();
    assert!(log.lines().count() > 10, "{log}");
    // The masked forms are there: the scan looks at lines that do talk about these people.
    assert!(log.contains("oQ7x…(21)"), "no masked openid in:\n{log}");
    for line in log.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    for secret in [
        NAME,
        PHONE,
        EMAIL,
        OPENID,
        NAME2,
        PHONE2,
        EMAIL2,
        BAD_PHONE,
        "ouyang.mingyue",
        "sima.cf",
    ] {
        assert!(
            !log.contains(secret),
            "{secret} leaked into the output:\n{log}"
        );
    }
}

/// A citizen who asked not to be identified (匿名) reaches the department without contacts,
/// while Minhu keeps them to answer the citizen itself.
#[tokio::test]
async fn an_anonymous_reporter_reaches_the_department_without_contacts() {
    let vhost = TestVhost::new("pii-anon");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let mut r = request(pb::Channel::Hotline12345, "ANON-1", "road.pothole");
    r.reporter = Some(pb::Reporter {
        name: NAME.into(),
        phone: PHONE.into(),
        anonymous: true,
        ..Default::default()
    });
    let accepted = submit(&mut gw.client().await, r).await.unwrap();
    let queue = format!("minhu.dept.{}", accepted.department_id);
    let got = common::broker::drain(&vhost.url, &queue, 1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    let d = common::broker::dispatch_of(&got[0]);
    let seen = d.tickets[0]
        .request
        .as_ref()
        .unwrap()
        .reporter
        .clone()
        .unwrap();
    assert_eq!(
        seen,
        pb::Reporter {
            anonymous: true,
            ..Default::default()
        }
    );
    let raw = String::from_utf8_lossy(&got[0].data);
    assert!(!raw.contains(PHONE), "no phone anywhere in the dispatch");
    // Minhu itself still holds them, for the answer.
    let t = gw
        .client()
        .await
        .get_ticket(pb::GetTicketRequest {
            ticket_id: accepted.ticket_id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.request.unwrap().reporter.unwrap().phone, PHONE);
}
