//! Protection against floods (rate limits), through the real binary over loopback: a
//! flooding reporter is refused with a retry hint while everyone else is accepted, and nothing
//! accepted is lost or altered.
mod common;
#[path = "wechat/push.rs"]
#[allow(dead_code)]
mod push;

use common::broker::TestVhost;
use common::gateway::{Gateway, Options, request, submit};
use common::http::send;
use minhu::pb;
use tonic::Code;

const LIMITS: &str = "[rate_limits]\nper_reporter = { requests = 5, per = \"1h\", burst = 5 }\n\
                      per_system = { requests = 100000, per = \"1m\" }\n";

fn from(phone: &str, source_id: &str) -> pb::Request {
    let mut r = request(pb::Channel::Hotline12345, source_id, "road");
    if let Some(rep) = r.reporter.as_mut() {
        rep.phone = phone.into();
    }
    r
}

#[tokio::test]
async fn a_flooding_reporter_is_refused_while_others_are_accepted_and_nothing_is_lost() {
    let vhost = TestVhost::new("protect-flood");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = LIMITS.into();
    let gw = Gateway::start(dir.path(), &opts).await;

    // The flood and the others run at once, on separate connections.
    let flood = {
        let mut c = gw.client().await;
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for i in 0..300 {
                outcomes.push(submit(&mut c, from("13800000001", &format!("flood-{i}"))).await);
            }
            outcomes
        })
    };
    let others = {
        let mut c = gw.client().await;
        tokio::spawn(async move {
            let mut accepted = Vec::new();
            for i in 0..30 {
                let req = from(&format!("139000000{i:02}"), &format!("other-{i}"));
                let ok = submit(&mut c, req.clone())
                    .await
                    .unwrap_or_else(|s| panic!("reporter {i} refused during the flood: {s:?}"));
                accepted.push((ok.ticket_id, req));
            }
            accepted
        })
    };
    let flood = flood.await.unwrap();
    let others = others.await.unwrap();

    let (ok, refused): (Vec<_>, Vec<_>) = flood.into_iter().partition(|r| r.is_ok());
    assert_eq!(
        ok.len(),
        5,
        "the flooding reporter gets exactly their burst"
    );
    for s in refused.iter().map(|r| r.as_ref().unwrap_err()) {
        assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
        assert!(s.message().contains("reporter"), "{}", s.message());
        let retry: u64 = s
            .metadata()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("retry-after metadata in seconds");
        assert!((1..=720).contains(&retry), "retry after {retry}s");
    }
    assert_eq!(
        gw.metric("minhu_rate_limited_total{scope=\"reporter\"}")
            .await,
        295
    );

    // Emergency transfers from the same number are never limited.
    let mut c = gw.client().await;
    for i in 0..10 {
        let mut r = from("13800000001", &format!("em-{i}"));
        r.channel = pb::Channel::Emergency120 as i32;
        submit(&mut c, r).await.expect("emergency is exempt");
    }

    // Everything accepted is in the store, intact; nothing refused was written.
    assert_eq!(gw.count("tickets"), 5 + 30 + 10);
    for (ticket, sent) in &others {
        let got = c
            .get_ticket(pb::GetTicketRequest {
                ticket_id: ticket.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let stored = got.request.unwrap();
        assert_eq!(stored.source_id, sent.source_id);
        assert_eq!(stored.description, sent.description);
        assert_eq!(
            stored.reporter.as_ref().map(|r| &r.phone),
            sent.reporter.as_ref().map(|r| &r.phone)
        );
    }
    // No raw phone number of the flood in the log.
    assert!(!gw.log_text().contains("13800000001"));
}

#[tokio::test]
async fn http_adapters_answer_429_with_retry_after() {
    let vhost = TestVhost::new("protect-http");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = format!(
        "{LIMITS}[adapters.mailbox]\nenabled = true\nsource_system = \"mailbox:test\"\nattachments_dir = \"{}\"\n",
        dir.path().join("attachments").display()
    );
    let gw = Gateway::start(dir.path(), &opts).await;
    let mut statuses = Vec::new();
    let mut last = None;
    for i in 0..8 {
        let body = format!(
            r#"{{"subject":"路灯","content":"北门路灯不亮 {i}","name":"王小明","phone":"13700000007"}}"#
        );
        let r = send(
            gw.http,
            "POST",
            "/v1/mailbox/forms",
            "application/json",
            "",
            body.as_bytes(),
        )
        .await;
        statuses.push(r.status);
        last = Some(r);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 200, 429, 429, 429],
        "{last:?}"
    );
    let r = last.unwrap();
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert!(r.json()["error"].as_str().unwrap().contains("rate limit"));
    assert_eq!(gw.count("tickets"), 5);
}

#[tokio::test]
async fn wechat_floods_are_answered_in_wechats_protocol_asking_the_citizen_to_wait() {
    let vhost = TestVhost::new("protect-wechat");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = format!(
        "[rate_limits]\nper_reporter = {{ requests = 2, per = \"1h\" }}\n{}",
        push::config()
    );
    let gw = Gateway::start(dir.path(), &opts).await;
    let mut replies = Vec::new();
    for i in 0..5 {
        // Distinct messages (MsgId), not WeChat retries, from one citizen.
        let xml = push::text(
            "oFloodOpenid000000001",
            &format!("路灯不亮 {i}"),
            &format!("90{i}"),
        );
        let (status, body) = push::post(gw.http, &push::plain_query(push::TOKEN), &xml).await;
        assert_eq!(status, 200, "WeChat must get 200, else it retries: {body}");
        replies.push(body);
    }
    // Two tickets (follow-ups may merge them into one case), three polite refusals.
    assert!(
        replies[..2].iter().all(|r| r.contains("工单号")),
        "{replies:?}"
    );
    for r in &replies[2..] {
        assert!(r.contains("<xml>") && r.contains("过于频繁"), "{r}");
    }
    // Another citizen is unaffected.
    let xml = push::text("oOtherOpenid000000002", "井盖丢失", "9100");
    let (_, body) = push::post(gw.http, &push::plain_query(push::TOKEN), &xml).await;
    assert!(body.contains("工单号"), "{body}");
    assert_eq!(gw.count("tickets"), 3);
}
