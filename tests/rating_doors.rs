//! The citizens' rating doors (回访 by reply) against the real `minhu` binary, a real RabbitMQ
//! vhost and real HTTP over loopback: a case completed over `Handling`, its result notice sent
//! to an in-test SMS gateway (or the stand-in WeChat API), then the citizen's reply. An SMS "1"
//! is recorded (a `rated` event), the gateway's retry of it is a replay, "0 还是不亮" reopens
//! the case (a REDISPATCH on minhu.dept.roads), a forged callback is 401 and an unrelated text
//! is refused without a ticket; a WeChat "2" after a WeChat result notice is a rating, and a
//! text from a citizen no notice awaits is a report. No test depends on the date or on timing
//! (quiet hours are off; waits are for outcomes, with a deadline).
mod common;

#[allow(dead_code)]
#[path = "wechat/push.rs"]
mod push;
#[allow(dead_code)]
#[path = "notify_sms/gateway.rs"]
mod sms_gateway;
#[path = "notify_wechat/stand_in.rs"]
mod stand_in;
#[path = "rating_doors/support.rs"]
mod support;

use std::path::PathBuf;

use common::broker::TestVhost;
use common::gateway::{Gateway, Options, submit};
use common::handling::road_report;
use minhu::pb;
use minhu_adapter_wechat::xml;
use support::{complete, ratings, sms_reply, ticket, wait_dispatch, wait_sent};

const ROADS: &str = "minhu.dept.roads";

/// A road report from `phone`, its case completed by roads and its SMS notice sent.
async fn completed_by_sms(gw: &Gateway, source_id: &str, phone: &str) -> pb::SubmitResponse {
    let mut r = road_report(source_id);
    if let Some(rep) = r.reporter.as_mut() {
        rep.phone = phone.into();
    }
    let accepted = submit(&mut gw.client().await, r).await.expect("submit");
    complete(gw, &accepted.ticket_id).await;
    wait_sent(gw, &accepted.ticket_id).await;
    accepted
}

#[tokio::test]
async fn sms_replies_rate_replay_reopen_and_refuse() {
    let vhost = TestVhost::new("rating-doors-sms");
    let sms = sms_gateway::StandIn::start("send-key-for-tests").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = Options::new(&vhost.url);
    opts.extra = support::sms_sections(&sms.url());
    let gw = Gateway::start(dir.path(), &opts).await;

    let first = completed_by_sms(&gw, "sms-1", "13912345601").await;
    // The notice told the citizen how to reply.
    let sent = sms.seen();
    let content = sent[0].body["content"].as_str().unwrap_or_default();
    assert!(content.contains("满意请回复1"), "{content}");

    // "1" from the citizen's phone, written as the gateway writes it: recorded as 满意.
    let rated = sms_reply(&gw, "+8613912345601", "1", "up-1").await;
    assert_eq!(rated.status, 200, "{}; log:\n{}", rated.body, gw.log_text());
    let a = rated.json();
    assert_eq!(a["status"], "rated");
    assert_eq!(a["ticket_id"], first.ticket_id.as_str());
    assert_eq!(
        (a["reopened"].as_bool(), a["replay"].as_bool()),
        (Some(false), Some(false))
    );
    let events = ratings(&gw, &first.ticket_id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["satisfaction"], "SATISFACTION_SATISFIED");
    assert_eq!(events[0]["via"], "sms");
    assert_eq!(events[0]["rating_id"], "sms-up-1");

    // The gateway's retry of the same message is a replay, recorded once.
    let again = sms_reply(&gw, "13912345601", "1", "up-1").await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["replay"], true);
    assert_eq!(ratings(&gw, &first.ticket_id).await.len(), 1);
    // Another reply about the same result: rated already.
    let twice = sms_reply(&gw, "13912345601", "3 路灯还是不亮", "up-2").await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert_eq!(twice.json()["status"], "already_rated");

    // Forged: a wrong key, no signature at all.
    let body = support::reply_body("13912345601", "1", "up-3");
    let forged = support::post_signed(&gw, &body, "not-the-key").await;
    assert_eq!(forged.status, 401, "{}", forged.body);
    let unsigned = common::http::send(
        gw.http,
        "POST",
        "/v1/sms/replies",
        "application/json",
        "",
        body.as_bytes(),
    )
    .await;
    assert_eq!(unsigned.status, 401, "{}", unsigned.body);
    // Malformed: the field is named.
    let no_id = support::post_signed(
        &gw,
        r#"{"mobile":"13912345601","content":"1"}"#,
        support::REPLY_SECRET,
    )
    .await;
    assert_eq!(
        (no_id.status, no_id.json()["field"].as_str()),
        (400, Some("msgId"))
    );
    let landline = sms_reply(&gw, "029-87654321", "1", "up-4").await;
    assert_eq!(
        (landline.status, landline.json()["field"].as_str()),
        (400, Some("mobile"))
    );

    // Not a rating: refused, and no report made of it.
    let tickets = gw.count("tickets");
    let chat = sms_reply(&gw, "13912345601", "请问小区垃圾什么时候清运", "up-5").await;
    assert_eq!(chat.status, 422, "{}", chat.body);
    assert_eq!(chat.json()["status"], "not_a_rating");
    // A rating from a phone no notice went to.
    let stranger = sms_reply(&gw, "13700001111", "1", "up-6").await;
    assert_eq!(
        (stranger.status, stranger.json()["status"].as_str()),
        (422, Some("no_notice"))
    );
    assert_eq!(gw.count("tickets"), tickets, "nothing became a report");

    // "0 还是不亮" on another case: not solved, reopened to roads as a re-dispatch.
    let second = completed_by_sms(&gw, "sms-2", "13912345602").await;
    let reopened = sms_reply(&gw, "13912345602", "0 还是不亮", "up-7").await;
    assert_eq!(
        reopened.status,
        200,
        "{}; log:\n{}",
        reopened.body,
        gw.log_text()
    );
    assert_eq!(reopened.json()["reopened"], true);
    let d = wait_dispatch(
        &vhost.url,
        ROADS,
        &second.case_id,
        pb::DispatchKind::Redispatch,
    )
    .await;
    assert!(
        d.update_reason.contains("0 还是不亮"),
        "{}",
        d.update_reason
    );
    let events = ratings(&gw, &second.ticket_id).await;
    assert_eq!(events[0]["solved"], "SOLVED_NO");
    assert_eq!(events[0]["satisfaction"], "SATISFACTION_DISSATISFIED");
    let status = ticket(&gw, &second.ticket_id).await.case_status;
    let again_with_roads = [
        pb::CaseStatus::Open as i32,
        pb::CaseStatus::Dispatched as i32,
    ];
    assert!(again_with_roads.contains(&status), "{status}");
    // Its retry is still a replay, though the case is no longer completed.
    let retry = sms_reply(&gw, "13912345602", "0 还是不亮", "up-7").await;
    assert_eq!(
        (retry.status, retry.json()["replay"].as_bool()),
        (200, Some(true)),
        "{}",
        retry.body
    );
    // A new reply while the department has it again.
    let busy = sms_reply(&gw, "13912345602", "3", "up-8").await;
    assert_eq!(
        (busy.status, busy.json()["status"].as_str()),
        (409, Some("handled_again"))
    );
}

#[tokio::test]
async fn a_wechat_text_that_reads_as_a_rating_rates_the_result_notice() {
    const SECRET: &str = "account-secret-1";
    let vhost = TestVhost::new("rating-doors-wechat");
    let api = stand_in::StandIn::start(&["--app", &format!("{}:{SECRET}", push::APP_ID)]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = Options::new(&vhost.url);
    opts.extra = push::config() + &support::wechat_notify_section(&api.base, push::APP_ID, SECRET);
    let gw = Gateway::start(dir.path(), &opts).await;
    let citizen = "oRate_wechat_user_0000000001";
    let say = |openid: &'static str, text: &'static str, msg_id: &'static str| {
        let gw = &gw;
        async move {
            let (status, body) = push::post(
                gw.http,
                &push::plain_query(push::TOKEN),
                &push::text(openid, text, msg_id),
            )
            .await;
            assert_eq!(status, 200, "{body}; log:\n{}", gw.log_text());
            xml::parse(&body)
                .expect("a passive reply")
                .text("Content")
                .to_owned()
        }
    };

    // A report, completed, answered by a customer-service message.
    let acknowledged = say(
        citizen,
        "大兴东路北门口井盖丢了，晚上很危险",
        "7400000000000000001",
    )
    .await;
    assert!(acknowledged.contains("已受理"), "{acknowledged}");
    let reported = gw.count("tickets");
    assert_eq!(reported, 1);
    let ticket_id: String = rusqlite::Connection::open(dir.path().join("minhu.db"))
        .and_then(|c| c.query_row("SELECT ticket_id FROM tickets", [], |r| r.get(0)))
        .expect("the ticket");
    complete(&gw, &ticket_id).await;
    wait_sent(&gw, &ticket_id).await;
    let messages = api.messages().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["touser"], citizen);

    // "2": a rating, thanked, no new ticket; WeChat's retry of it is the same rating.
    let thanks = say(citizen, "2", "7400000000000000002").await;
    assert!(thanks.contains("已收到您的评价"), "{thanks}");
    assert_eq!(gw.count("tickets"), reported);
    let events = ratings(&gw, &ticket_id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0]["satisfaction"],
        "SATISFACTION_BASICALLY_SATISFIED"
    );
    assert_eq!(events[0]["via"], "wechat");
    assert_eq!(events[0]["rating_id"], "wechat-7400000000000000002");
    let retry = say(citizen, "2", "7400000000000000002").await;
    assert_eq!(retry, thanks);
    assert_eq!(ratings(&gw, &ticket_id).await.len(), 1);
    // A second rating-like text: told it was rated, still no report.
    let twice = say(citizen, "1", "7400000000000000003").await;
    assert!(twice.contains("已经评价过"), "{twice}");
    assert_eq!(gw.count("tickets"), reported);

    // A new problem from the same citizen, and from one no notice awaits: reports.
    let new_problem = say(citizen, "路灯又坏了", "7400000000000000004").await;
    assert!(new_problem.contains("已受理"), "{new_problem}");
    let stranger = say(
        "oRate_wechat_user_0000000002",
        "路灯又坏了",
        "7400000000000000005",
    )
    .await;
    assert!(stranger.contains("已受理"), "{stranger}");
    assert_eq!(gw.count("tickets"), reported + 2);
}

/// The `[adapters.sms_replies]` sample (`tests/fixtures/sms_replies/minhu.toml`, as in the
/// config module's docs) loads through the service config loader with the sample service file.
#[test]
fn the_sample_section_loads_with_the_service_config() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("sms-reply.secret");
    std::fs::write(&secret, "s3cret\n").expect("write secret");
    let routing = repo.join("config/routing.toml");
    let service = std::fs::read_to_string(repo.join("config/minhu.toml"))
        .expect("sample service file")
        .replace(
            "path = \"routing.toml\"",
            &format!("path = {:?}", routing.display().to_string()),
        );
    let section = std::fs::read_to_string(repo.join("tests/fixtures/sms_replies/minhu.toml"))
        .expect("fixture")
        .replace(
            "secret_env = \"SMS_REPLY_SECRET\"",
            &format!("secret_file = {:?}", secret.display().to_string()),
        );
    let path = dir.path().join("minhu.toml");
    std::fs::write(&path, service + &section).expect("write config");
    let loaded = minhu::config::load::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let cfg = &loaded.service.adapters.sms_replies;
    assert!(cfg.enabled);
    assert_eq!(cfg.window, std::time::Duration::from_secs(7 * 86_400));
    assert_eq!(cfg.callback.message_id_field, "msgId");
    assert!(cfg.compile().is_ok());
    assert_eq!(loaded.service.adapters.wechat.rating_window, cfg.window);
}
