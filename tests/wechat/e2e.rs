//! End-to-end: WeChat pushes through the real `minhu` binary's HTTP listener, stored in its
//! SQLite store and dispatched to a real RabbitMQ vhost.
use std::time::Duration;

use minhu::pb;
use minhu_adapter_wechat::crypto::{self, Cipher};
use minhu_adapter_wechat::{miniprogram, xml};
use prost::Message as _;

use super::common::broker::{TestVhost, drain, message_count};
use super::common::gateway::{Gateway, Options};
use super::push::{self, APP_ID, TOKEN};

async fn start(name: &str) -> (TestVhost, tempfile::TempDir, Gateway) {
    let vhost = TestVhost::new(name);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = Options::new(&vhost.url);
    opts.extra = push::config();
    let gw = Gateway::start(dir.path(), &opts).await;
    (vhost, dir, gw)
}

/// The ticket number (`T` and 14 digits) in a reply's text.
fn ticket_in(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len())
        .find_map(|i| {
            let cand: String = chars[i..].iter().take(15).collect();
            (cand.len() == 15
                && cand.starts_with('T')
                && cand[1..].bytes().all(|b| b.is_ascii_digit()))
            .then_some(cand)
        })
        .unwrap_or_else(|| panic!("no ticket number in {text:?}"))
}

/// The `Content` of a plain passive reply.
fn content(reply: &str) -> String {
    xml::parse(reply)
        .unwrap_or_else(|e| panic!("reply {reply:?}: {e}"))
        .text("Content")
        .to_owned()
}

#[tokio::test]
async fn a_plain_push_reaches_the_department_queue_and_a_retry_does_not() {
    let (vhost, _dir, gw) = start("wechat-plain").await;
    let openid = "oE2E_plain_user_000000000001";
    let body = push::text(
        openid,
        "大兴东路北门口井盖丢了，晚上很危险",
        "7300000000000000001",
    );
    let (status, reply) = push::post(gw.http, &push::plain_query(TOKEN), &body).await;
    assert_eq!(status, 200, "{reply}; log:\n{}", gw.log_text());
    let f = xml::parse(&reply).expect("reply is XML");
    assert_eq!(f.text("ToUserName"), openid);
    assert_eq!(f.text("FromUserName"), push::GH);
    assert_eq!(f.text("MsgType"), "text");
    let ticket = ticket_in(f.text("Content"));

    // WeChat retries when it has no answer in 5 s: the same MsgId is the same ticket.
    let (status, again) = push::post(gw.http, &push::plain_query(TOKEN), &body).await;
    assert_eq!(status, 200);
    assert_eq!(ticket_in(&content(&again)), ticket);

    let got = drain(&vhost.url, "minhu.dept.roads", 2, Duration::from_secs(20)).await;
    assert_eq!(
        got.len(),
        1,
        "one dispatch on minhu.dept.roads; log:\n{}",
        gw.log_text()
    );
    let d = pb::Dispatch::decode(got[0].data.as_slice()).expect("Dispatch");
    assert_eq!(d.tickets.len(), 1);
    assert_eq!(d.tickets[0].ticket_id, ticket);
    let req = d.tickets[0].request.as_ref().expect("request");
    assert_eq!(req.channel, pb::Channel::Wechat as i32);
    assert_eq!(req.source_system, format!("wechat:{APP_ID}"));
    assert_eq!(req.source_id, "7300000000000000001");
    assert_eq!(
        req.reporter.as_ref().map(|r| r.wechat_openid.as_str()),
        Some(openid)
    );
    gw.wait_outbox_empty(Duration::from_secs(10)).await;
    assert_eq!(gw.count("tickets"), 1);
    assert_eq!(message_count(&vhost.url, "minhu.dept.roads").await, 0);
    assert!(!gw.log_text().contains(openid), "openid logged unmasked");
}

#[tokio::test]
async fn a_safe_mode_push_is_accepted_and_its_encrypted_reply_decrypts() {
    let (vhost, _dir, gw) = start("wechat-safe").await;
    let openid = "oE2E_safe_user_0000000000002";
    let inner = push::text(openid, "丰庆路路灯不亮", "7300000000000000002");
    let (q, body) = push::safe(&inner);
    let (status, reply) = push::post(gw.http, &q, &body).await;
    assert_eq!(status, 200, "{reply}; log:\n{}", gw.log_text());
    let env = xml::parse(&reply).expect("envelope");
    let encrypt = env.require("Encrypt").expect("Encrypt");
    assert!(crypto::verify(
        env.require("MsgSignature").expect("MsgSignature"),
        &[TOKEN, env.text("TimeStamp"), env.text("Nonce"), encrypt]
    ));
    let opened = Cipher::new(push::AES_KEY)
        .expect("key")
        .decrypt(encrypt)
        .expect("decrypts");
    assert_eq!(opened.app_id, APP_ID);
    let ticket = ticket_in(&content(&opened.xml));
    let got = drain(
        &vhost.url,
        "minhu.dept.urban-mgmt",
        1,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(got.len(), 1, "log:\n{}", gw.log_text());
    let d = pb::Dispatch::decode(got[0].data.as_slice()).expect("Dispatch");
    assert_eq!(d.tickets[0].ticket_id, ticket);
}

#[tokio::test]
async fn bad_pushes_get_wechat_statuses_and_nothing_is_stored() {
    let (_vhost, _dir, gw) = start("wechat-bad").await;
    let good = push::text(
        "oE2E_bad_user_00000000000003",
        "路面塌陷",
        "7300000000000000003",
    );
    let mut cases: Vec<(&str, u16, String, String)> = vec![
        (
            "forged signature",
            403,
            push::plain_query("guessed-token"),
            good.clone(),
        ),
        (
            "missing signature",
            401,
            format!("timestamp={}&nonce=1", push::now()),
            good.clone(),
        ),
        (
            "malformed XML",
            400,
            push::plain_query(TOKEN),
            "<xml><Content>oops</xml>".into(),
        ),
        (
            "truncated XML",
            400,
            push::plain_query(TOKEN),
            good[..good.len() / 2].to_owned(),
        ),
        (
            "DOCTYPE",
            400,
            push::plain_query(TOKEN),
            format!("<!DOCTYPE xml [<!ENTITY a \"b\">]>{good}"),
        ),
        (
            "oversized",
            413,
            push::plain_query(TOKEN),
            "x".repeat(20_000),
        ),
    ];
    let ts = push::now() - 3600;
    let sig = crypto::signature(&[TOKEN, &ts.to_string(), "1"]);
    cases.push((
        "stale",
        403,
        format!("signature={sig}&timestamp={ts}&nonce=1"),
        good.clone(),
    ));
    let (q, body) = push::envelope("%%not base64%%");
    cases.push(("corrupt base64", 400, q, body));
    // Encrypted for another AppId, correctly signed: authentic for nobody here.
    let enc = Cipher::new(push::AES_KEY)
        .expect("key")
        .encrypt(&good, "wx_other", [0; 16]);
    let (q, body) = push::envelope(&enc);
    cases.push(("wrong AppId", 403, q, body));
    // Encrypted with another key (the padding check fails), correctly signed.
    let other = Cipher::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").expect("key");
    let (q, body) = push::envelope(&other.encrypt(&good, APP_ID, [0; 16]));
    cases.push(("wrong key / bad padding", 400, q, body));
    for (what, want, q, body) in cases {
        let (status, answer) = push::post(gw.http, &q, &body).await;
        assert_eq!(status, want, "{what}: {answer}");
    }
    let (status, _) = push::http(gw.http, "POST", "/v1/wechat/nope?x=1", &[], b"<xml/>").await;
    assert_eq!(status, 404, "unknown account");

    // Server verification.
    let ts = push::now().to_string();
    let sig = crypto::signature(&[TOKEN, &ts, "77"]);
    let ok = format!("/v1/wechat?signature={sig}&timestamp={ts}&nonce=77&echostr=5837397520");
    assert_eq!(
        push::http(gw.http, "GET", &ok, &[], b"").await,
        (200, "5837397520".into())
    );
    // Change the first hex digit to one it is not, so the forgery never equals the
    // real signature (writing a fixed "0" matched it one run in sixteen).
    let forged_first = if sig.starts_with('0') { '1' } else { '0' };
    let bad = format!(
        "/v1/wechat?signature={forged_first}{}&timestamp={ts}&nonce=77&echostr=1",
        &sig[1..]
    );
    assert_eq!(push::http(gw.http, "GET", &bad, &[], b"").await.0, 403);

    // Events and unsupported types make no ticket.
    let ev = "<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[oEvent]]></FromUserName>\
              <CreateTime>1763800000</CreateTime><MsgType><![CDATA[event]]></MsgType>\
              <Event><![CDATA[subscribe]]></Event></xml>";
    assert_eq!(
        push::post(gw.http, &push::plain_query(TOKEN), ev).await,
        (200, "success".into())
    );
    let file = push::message(
        "oFile",
        "file",
        "<Title><![CDATA[a.pdf]]></Title>",
        "7300000000000000004",
    );
    let (status, reply) = push::post(gw.http, &push::plain_query(TOKEN), &file).await;
    assert_eq!(status, 200);
    assert!(content(&reply).contains("暂不支持"), "{reply}");

    assert_eq!(gw.count("tickets"), 0, "nothing half-written");
    assert_eq!(gw.count("cases"), 0);
    assert_eq!(gw.count("outbox"), 0);
}

#[tokio::test]
async fn text_then_photo_then_location_make_one_case() {
    let (vhost, _dir, gw) = start("wechat-follow-up").await;
    let openid = "oE2E_follow_user_00000000004";
    let q = || push::plain_query(TOKEN);
    let text = push::text(openid, "西大街人行道井盖缺失", "7300000000000000010");
    let photo = push::message(
        openid,
        "image",
        "<PicUrl><![CDATA[http://mmbiz.qpic.cn/e2e/0]]></PicUrl><MediaId><![CDATA[m1]]></MediaId>",
        "7300000000000000011",
    );
    let place = push::message(
        openid,
        "location",
        "<Location_X>34.2611</Location_X><Location_Y>108.947</Location_Y><Scale>16</Scale>\
         <Label><![CDATA[西安市莲湖区西大街]]></Label>",
        "7300000000000000012",
    );
    let mut tickets = Vec::new();
    for (i, body) in [text, photo, place].iter().enumerate() {
        let (status, reply) = push::post(gw.http, &q(), body).await;
        assert_eq!(status, 200, "{reply}; log:\n{}", gw.log_text());
        let c = content(&reply);
        assert_eq!(c.contains("补充"), i > 0, "reply {i}: {c}");
        tickets.push(ticket_in(&c));
    }
    let mut client = gw.client().await;
    let mut cases = Vec::new();
    for t in &tickets {
        let got = client
            .get_ticket(pb::GetTicketRequest {
                ticket_id: t.clone(),
            })
            .await
            .expect("GetTicket")
            .into_inner();
        cases.push(got.case_id);
    }
    assert_eq!(cases[0], cases[1], "photo joined the text's case");
    assert_eq!(cases[0], cases[2], "location joined the text's case");
    assert_eq!(gw.count("tickets"), 3);
    assert_eq!(gw.count("cases"), 1);
    let got = drain(&vhost.url, "minhu.dept.roads", 3, Duration::from_secs(20)).await;
    assert_eq!(
        got.len(),
        3,
        "new case and two case updates; log:\n{}",
        gw.log_text()
    );
}

#[tokio::test]
async fn mini_program_submissions_are_authenticated() {
    let (_vhost, _dir, gw) = start("wechat-mp").await;
    let body = br#"{"id":"mp-0001","openid":"oMp_user_0000000000000005","text":"Xiao Zhai road manhole cover missing","photos":["https://cdn.example.cn/a.jpg"],"location":{"lat":34.2611,"lng":108.947,"address":"Xi'an"}}"#;
    let ts = push::now().to_string();
    let sig = miniprogram::sign(push::MP_SECRET, &ts, body);
    let headers = |sig: &str, ts: &str| {
        vec![
            ("Content-Type", "application/json".to_owned()),
            ("X-Minhu-App-Id", push::MP_APP_ID.to_owned()),
            ("X-Minhu-Timestamp", ts.to_owned()),
            ("X-Minhu-Signature", sig.to_owned()),
        ]
    };
    let path = "/v1/wechat/miniprogram";
    let (status, answer) = push::http(gw.http, "POST", path, &headers(&sig, &ts), body).await;
    assert_eq!(status, 200, "{answer}; log:\n{}", gw.log_text());
    let v: serde_json::Value = serde_json::from_str(&answer).expect("JSON answer");
    assert_eq!(v["disposition"], "DISPOSITION_NEW_CASE");
    let (_, again) = push::http(gw.http, "POST", path, &headers(&sig, &ts), body).await;
    let again: serde_json::Value = serde_json::from_str(&again).expect("JSON");
    assert_eq!(
        (again["disposition"].as_str(), &again["ticket_id"]),
        (Some("DISPOSITION_REPLAY"), &v["ticket_id"])
    );

    let forged = miniprogram::sign("not-the-secret-at-all", &ts, body);
    assert_eq!(
        push::http(gw.http, "POST", path, &headers(&forged, &ts), body)
            .await
            .0,
        403
    );
    assert_eq!(push::http(gw.http, "POST", path, &[], body).await.0, 401);
    let old = (push::now() - 3600).to_string();
    let old_sig = miniprogram::sign(push::MP_SECRET, &old, body);
    assert_eq!(
        push::http(gw.http, "POST", path, &headers(&old_sig, &old), body)
            .await
            .0,
        403
    );
    let bad = br#"{"id":"mp-2","openid":"o","text":"x","unknown":1}"#;
    let bad_sig = miniprogram::sign(push::MP_SECRET, &ts, bad);
    assert_eq!(
        push::http(gw.http, "POST", path, &headers(&bad_sig, &ts), bad)
            .await
            .0,
        400
    );
    assert_eq!(gw.count("tickets"), 1);
}
