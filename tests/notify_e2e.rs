//! The citizen side of the loop end to end, against the real binary, a real RabbitMQ (one
//! vhost per test), the real SMTP server aiosmtpd, a stand-in WeChat API that enforces
//! WeChat's request shapes and error codes, and a stand-in SMS gateway that checks signatures:
//! three citizens report one pothole through WeChat, the mayor's mailbox and the 12345
//! hotline; the reports merge into one case; the department completes it over
//! `minhu.updates`; each citizen receives the answer exactly once on their own channel — also
//! with the gateway SIGKILLed while sending and the WeChat API answering `-1` (system busy)
//! to half the calls.
//!
//! The reports enter through `Submit` with each channel's canonical fields (the adapters'
//! own translation is tested in their own suites); from there everything is the real path.
mod common;

#[path = "notify_email/sink.rs"]
#[allow(dead_code)]
mod sink;
#[path = "notify_sms/gateway.rs"]
#[allow(dead_code)]
mod sms;
#[path = "notify_wechat/stand_in.rs"]
mod wechat;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::broker::{TestVhost, connect, drain_all, publish_update};
use common::gateway::{Gateway, Options, request, submit};
use common::handling::header;
use lapin::options::ConfirmSelectOptions;
use minhu::pb;
use minhu::pb::case_update::Update;
use prost::Message;

const APP_ID: &str = "wxe2e00000000000001";
const APP_SECRET: &str = "e2e-app-secret";
const OPENID: &str = "oE2E-citizen-wechat-0001";
const EMAIL: &str = "li.na@example.cn";
const MESSAGE_ID: &str = "20261206.pothole.1@mail.example.cn";
const PHONE: &str = "13800000003";
const SMS_SECRET: &str = "sms-e2e-secret";
/// How long a test waits for every answer to arrive.
const WAIT: Duration = Duration::from_secs(60);

/// The stand-ins and the gateway's service file lines that point at them.
struct World {
    wechat: wechat::StandIn,
    smtp: sink::Sink,
    sms: sms::StandIn,
}

impl World {
    async fn start(wechat_args: &[&str]) -> World {
        let app = format!("{APP_ID}:{APP_SECRET}");
        let mut args = vec!["--app", app.as_str()];
        args.extend_from_slice(wechat_args);
        World {
            wechat: wechat::StandIn::start(&args).await,
            smtp: sink::Sink::start(&[]),
            sms: sms::StandIn::start(SMS_SECRET).await,
        }
    }

    fn options(&self, url: &str) -> Options {
        let mut o = Options::new(url);
        o.extra = format!(
            r#"[merge]
enabled = true
[notify]
backoff = "300ms"
max_backoff = "1s"
[notify.wechat]
enabled = true
api_base = "{wechat}"
[[notify.wechat.accounts]]
app_id = "{APP_ID}"
app_secret = "{APP_SECRET}"
template_id = "TPL-e2e-result"
fields = {{ thing1 = "{{title}}", thing2 = "{{result}}" }}
[notify.email]
enabled = true
host = "127.0.0.1"
port = {smtp}
tls = "none"
from = "mayor@xian.gov.cn"
from_name = "市长信箱"
message_id_domain = "minhu.xian.gov.cn"
[notify.sms]
enabled = true
secret = "{SMS_SECRET}"
quiet_hours = "off"
[notify.sms.gateway]
url = "{sms}"
body = {{ mobile = "{{phone}}", content = "{{text}}", requestId = "{{notice_id}}", ts = "{{timestamp}}" }}
headers = {{ "X-Timestamp" = "{{timestamp}}" }}
code_field = "code"
success_codes = ["OK"]
permanent_codes = ["MOBILE_BLACKLISTED", "MOBILE_INVALID"]
receipt_field = "data.bizId"
[notify.sms.gateway.signature]
header = "X-Signature"
signed = "{{timestamp}}\n{{body}}"
"#,
            wechat = self.wechat.base,
            smtp = self.smtp.port,
            sms = self.sms.url(),
        );
        o
    }

    /// What each citizen has received so far: (WeChat texts to the openid, e-mails to the
    /// address by Message-ID, SMS to the phone by request id), each with how many copies.
    async fn received(&self) -> Received {
        let mut r = Received::default();
        for m in self.wechat.messages().await {
            if m["touser"] == OPENID {
                *r.wechat.entry(m["msgid"].to_string()).or_default() += 1;
                r.wechat_text.push(m.to_string());
            }
        }
        for m in self.smtp.accepted() {
            let data = m["data"].as_str().unwrap_or_default().to_owned();
            if m["rcpt_tos"]
                .as_array()
                .is_some_and(|t| t.iter().any(|a| a == EMAIL))
            {
                let id = mail_header(&data, "Message-ID");
                *r.email.entry(id).or_default() += 1;
                r.email_raw.push(data);
            }
        }
        for s in self.sms.seen() {
            if s.signature_ok && s.body["mobile"] == PHONE {
                let id = s.body["requestId"].as_str().unwrap_or_default().to_owned();
                *r.sms.entry(id).or_default() += 1;
                r.sms_text
                    .push(s.body["content"].as_str().unwrap_or_default().to_owned());
            }
        }
        r
    }
}

#[derive(Debug, Default)]
struct Received {
    wechat: BTreeMap<String, usize>,
    wechat_text: Vec<String>,
    email: BTreeMap<String, usize>,
    email_raw: Vec<String>,
    sms: BTreeMap<String, usize>,
    sms_text: Vec<String>,
}

impl Received {
    fn all_arrived(&self) -> bool {
        !self.wechat.is_empty() && !self.email.is_empty() && !self.sms.is_empty()
    }
}

/// A header's value in a raw message (first occurrence, unfolded enough for ids).
fn mail_header(raw: &str, name: &str) -> String {
    raw.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
        .unwrap_or_default()
}

/// The three reports of one pothole at the north gate.
fn reports() -> [pb::Request; 3] {
    let at = |r: &mut pb::Request| {
        if let Some(l) = r.location.as_mut() {
            (l.lat, l.lng) = (34.27618, 108.91230);
            (l.original_lat, l.original_lng) = (l.lat, l.lng);
            l.coordinate_system = pb::CoordinateSystem::Wgs84 as i32;
            l.has_coordinates = true;
        }
    };
    let mut wechat = request(pb::Channel::Wechat, "wx-msg-1", "road.pothole");
    wechat.source_system = format!("wechat:{APP_ID}");
    wechat.reporter = Some(pb::Reporter {
        wechat_openid: OPENID.into(),
        ..Default::default()
    });
    wechat.extra.insert("wechat.msg_type".into(), "text".into());
    let mut mail = request(pb::Channel::MayorMailbox, MESSAGE_ID, "road.pothole");
    mail.source_system = "mailbox:xian".into();
    mail.title = "北门口路面塌陷".into();
    mail.reporter = Some(pb::Reporter {
        name: "李娜".into(),
        email: EMAIL.into(),
        ..Default::default()
    });
    mail.extra.insert("mailbox.kind".into(), "email".into());
    let mut hotline = request(pb::Channel::Hotline12345, "GD20261206-0003", "road.pothole");
    hotline.source_system = "xian-12345".into();
    hotline.reporter = Some(pb::Reporter {
        name: "张先生".into(),
        phone: PHONE.into(),
        ..Default::default()
    });
    let mut all = [wechat, mail, hotline];
    for r in &mut all {
        at(r);
    }
    all
}

/// Submits the three reports; the case they share and the first ticket.
async fn report(gw: &Gateway) -> (String, String) {
    let mut client = gw.client().await;
    let mut accepted = Vec::new();
    for r in reports() {
        accepted.push(submit(&mut client, r).await.unwrap());
    }
    let case = accepted[0].case_id.clone();
    assert!(
        accepted.iter().all(|a| a.case_id == case),
        "one case: {accepted:?}"
    );
    (case, accepted[0].ticket_id.clone())
}

/// The department signs for and completes `case` over `minhu.updates`, reading the case's
/// version from the last dispatch on its queue.
async fn complete_over_amqp(url: &str, case: &str) {
    // Three reports: one NEW_CASE and two CASE_UPDATED dispatches.
    let deadline = Instant::now() + WAIT;
    let (mut seen, mut version) = (0, 0);
    while seen < 3 {
        assert!(
            Instant::now() < deadline,
            "{seen} dispatches on minhu.dept.roads"
        );
        for d in drain_all(url, "minhu.dept.roads").await {
            let d = pb::Dispatch::decode(d.data.as_slice()).expect("a Dispatch");
            version = version.max(d.case.map_or(0, |c| c.version));
            seen += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let conn = connect(url).await;
    let ch = conn.create_channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let updates = [
        Update::SignFor(pb::SignForRequest {
            header: header_of(case, version, "e2e-sign"),
            note: "已签收".into(),
        }),
        Update::Complete(pb::CompleteRequest {
            header: header_of(case, version + 1, "e2e-done"),
            result: "已组织施工队回填路面，北门口坑洼已修复".into(),
            handling_type: pb::HandlingType::Promised as i32,
            ..Default::default()
        }),
    ];
    for (u, id) in updates.into_iter().zip(["e2e-sign", "e2e-done"]) {
        let body = pb::CaseUpdate { update: Some(u) }.encode_to_vec();
        publish_update(&ch, id, &body).await;
    }
}

fn header_of(case: &str, version: u64, id: &str) -> Option<pb::UpdateHeader> {
    header(case, "roads", version, id)
}

/// Waits until every citizen has their answer; what they received.
async fn until_all_arrived(world: &World, gw: &Gateway) -> Received {
    let deadline = Instant::now() + WAIT;
    loop {
        let r = world.received().await;
        if r.all_arrived() {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "not every answer arrived: {r:?}\nlog:\n{}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every notice of the case, as GetTicket shows them, once none is pending any more.
async fn settled_notices(gw: &Gateway, ticket: &str) -> Vec<pb::NoticeStatus> {
    let deadline = Instant::now() + WAIT;
    loop {
        let t = gw
            .client()
            .await
            .get_ticket(pb::GetTicketRequest {
                ticket_id: ticket.into(),
            })
            .await
            .unwrap()
            .into_inner();
        let pending = t
            .notices
            .iter()
            .any(|n| n.state == pb::NoticeState::Pending as i32);
        if !t.notices.is_empty() && !pending {
            return t.notices;
        }
        assert!(
            Instant::now() < deadline,
            "notices still pending: {:?}",
            t.notices
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Each citizen got one answer on their channel, in the right form.
fn assert_each_once(r: &Received) {
    assert_eq!(r.wechat.len(), 1, "one WeChat message: {r:?}");
    assert_eq!(r.wechat.values().sum::<usize>(), 1, "{r:?}");
    assert!(r.wechat_text[0].contains("北门口坑洼已修复"), "{r:?}");
    assert_eq!(r.email.len(), 1, "one e-mail (by Message-ID): {r:?}");
    let mail = &r.email_raw[0];
    assert!(
        mail_header(mail, "In-Reply-To").contains(MESSAGE_ID),
        "threaded under the citizen's mail: {mail}"
    );
    assert_eq!(r.sms.len(), 1, "one SMS (by request id): {r:?}");
    assert!(r.sms_text[0].contains("北门口坑洼已修复"), "{r:?}");
}

#[tokio::test]
async fn three_citizens_on_three_channels_each_hear_the_result_once() {
    let world = World::start(&[]).await;
    let vhost = TestVhost::new("notify-e2e");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &world.options(&vhost.url)).await;
    let (case, ticket) = report(&gw).await;
    complete_over_amqp(&vhost.url, &case).await;
    let r = until_all_arrived(&world, &gw).await;
    let notices = settled_notices(&gw, &ticket).await;
    let sent = notices
        .iter()
        .filter(|n| n.state == pb::NoticeState::Sent as i32)
        .count();
    assert_eq!(sent, 3, "{notices:?}");
    // Nothing more goes out afterwards.
    let after = world.received().await;
    assert_each_once(&after);
    assert_eq!(after.wechat, r.wechat);
    // Without a crash, not even a copy: one delivery each.
    for copies in [&after.wechat, &after.email, &after.sms] {
        assert_eq!(copies.values().sum::<usize>(), 1, "{after:?}");
    }
    let metrics = gw.http_get("/metrics").await.unwrap_or_default();
    for route in ["wechat", "email", "sms"] {
        assert!(
            metrics.contains(&format!("minhu_notices_sent_total{{route=\"{route}\"}} 1")),
            "{metrics}"
        );
    }
}

#[tokio::test]
async fn each_hears_once_across_a_sigkill_while_wechat_is_busy() {
    // Every WeChat send fails with -1 until the gateway is killed, so a success can never be
    // lost between sending and recording; after the restart half the calls still fail.
    let world = World::start(&["--busy-every", "1"]).await;
    let vhost = TestVhost::new("notify-e2e-kill");
    let dir = tempfile::tempdir().unwrap();
    let mut gw = Gateway::start(dir.path(), &world.options(&vhost.url)).await;
    let (case, ticket) = report(&gw).await;
    complete_over_amqp(&vhost.url, &case).await;
    // Killed while sending: at least one WeChat attempt has failed.
    let deadline = Instant::now() + WAIT;
    while world.wechat.stats().await["answers"]["-1"]
        .as_u64()
        .unwrap_or(0)
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "no WeChat attempt: {}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gw.kill();
    world
        .wechat
        .configure(serde_json::json!({ "busy_every": 2 }))
        .await;
    gw.restart().await;
    until_all_arrived(&world, &gw).await;
    settled_notices(&gw, &ticket).await;
    // A copy sent before the kill and not yet recorded goes out again with the same id (the
    // e-mail's Message-ID, the SMS gateway's request id), which receivers drop; WeChat, which
    // has no such id for customer-service messages, never succeeded before the kill.
    let r = world.received().await;
    assert_each_once(&r);
    assert_eq!(r.wechat.values().sum::<usize>(), 1, "{r:?}");
}
