//! What the rating-door tests share: the service config sections (the SMS sender pointed at
//! the stand-in SMS gateway, the reply door, WeChat), a case completed over `Handling`, its
//! notice waited for until sent, its history, signed reply callbacks and the department
//! queue's re-dispatches.
use std::time::{Duration, Instant};

use minhu::pb;

use super::common::broker::{dispatch_of, drain};
use super::common::gateway::Gateway;
use super::common::handling::{WAIT, handling, header};
use super::common::http::{self, Reply};
use super::sms_gateway::{hex, hmac_sha256};

/// The SMS gateway's key for its reply callbacks (not its sending key).
pub const REPLY_SECRET: &str = "reply-callback-key-for-tests";
const SEND_SECRET: &str = "send-key-for-tests";

/// `[notify.sms]` against the stand-in at `url`, at any hour (no test depends on the time of
/// day), and the reply door with the gateway's signature.
pub fn sms_sections(url: &str) -> String {
    format!(
        r#"
[notify.sms]
enabled = true
quiet_hours = "off"
secret = "{SEND_SECRET}"
timeout = "5s"
text = "您好！您反映的诉求（编号{{ticket_id}}）已办理完毕。办理结果：{{result}}。满意请回复1，基本满意回复2，不满意回复3；问题未解决请回复0并写明情况。"

[notify.sms.gateway]
url = "{url}"
body = {{ mobile = "{{phone}}", content = "{{text}}", requestId = "{{notice_id}}", ts = "{{timestamp}}" }}
headers = {{ "X-Timestamp" = "{{timestamp}}" }}
code_field = "code"
success_codes = ["OK"]
receipt_field = "data.bizId"

[notify.sms.gateway.signature]
header = "X-Signature"
signed = "{{timestamp}}\n{{body}}"

[adapters.sms_replies]
enabled = true
secret = "{REPLY_SECRET}"

[adapters.sms_replies.callback]
phone_field = "mobile"
text_field = "content"
message_id_field = "msgId"

[adapters.sms_replies.callback.signature]
header = "X-Signature"
signed = "{{timestamp}}\n{{body}}"
timestamp_header = "X-Timestamp"
"#
    )
}

/// `[notify.wechat]` against the stand-in WeChat API at `base`, for the account `app_id`.
pub fn wechat_notify_section(base: &str, app_id: &str, secret: &str) -> String {
    format!(
        "\n[notify.wechat]\nenabled = true\napi_base = \"{base}\"\ntimeout = \"5s\"\n\
         [[notify.wechat.accounts]]\napp_id = \"{app_id}\"\napp_secret = \"{secret}\"\n"
    )
}

/// A reply callback's JSON body, as the gateway sends it.
pub fn reply_body(phone: &str, text: &str, msg_id: &str) -> String {
    serde_json::json!({ "mobile": phone, "content": text, "msgId": msg_id }).to_string()
}

/// Posts `body` to `/v1/sms/replies`, signed with `secret` (HMAC-SHA256 over timestamp and
/// body, computed by the stand-in's own HMAC, not the gateway's).
pub async fn post_signed(gw: &Gateway, body: &str, secret: &str) -> Reply {
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string();
    let mut signed = ts.clone().into_bytes();
    signed.push(b'\n');
    signed.extend_from_slice(body.as_bytes());
    let sig = hex(&hmac_sha256(secret.as_bytes(), &signed));
    let headers = format!("X-Timestamp: {ts}\r\nX-Signature: {sig}\r\n");
    http::send(
        gw.http,
        "POST",
        "/v1/sms/replies",
        "application/json",
        &headers,
        body.as_bytes(),
    )
    .await
}

/// A citizen's reply, as the gateway posts it.
pub async fn sms_reply(gw: &Gateway, phone: &str, text: &str, msg_id: &str) -> Reply {
    post_signed(gw, &reply_body(phone, text, msg_id), REPLY_SECRET).await
}

/// The department holding the ticket's case signs for it and completes it.
pub async fn complete(gw: &Gateway, ticket_id: &str) {
    let t = ticket(gw, ticket_id).await;
    let (case, department, v) = (&t.case_id, &t.department_id, t.case_version);
    let mut h = handling(gw).await;
    h.sign_for(pb::SignForRequest {
        header: header(case, department, v, &format!("s-{case}")),
        note: "已签收".into(),
    })
    .await
    .expect("sign for");
    h.complete(pb::CompleteRequest {
        header: header(case, department, v + 1, &format!("c-{case}")),
        result: "路灯已修复".into(),
        handling_type: pb::HandlingType::Immediate as i32,
        ..Default::default()
    })
    .await
    .expect("complete");
}

pub async fn ticket(gw: &Gateway, ticket_id: &str) -> pb::GetTicketResponse {
    gw.ticket(ticket_id).await
}

/// Waits until the ticket's result notice is recorded sent.
pub async fn wait_sent(gw: &Gateway, ticket_id: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let t = ticket(gw, ticket_id).await;
        let sent = t
            .notices
            .iter()
            .any(|n| n.ticket_id == ticket_id && n.state == pb::NoticeState::Sent as i32);
        if sent {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the notice of {ticket_id} was not sent: {:?}; log:\n{}",
            t.notices,
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `rated` events of the ticket's case, their details as JSON.
pub async fn ratings(gw: &Gateway, ticket_id: &str) -> Vec<serde_json::Value> {
    ticket(gw, ticket_id)
        .await
        .history
        .iter()
        .filter(|e| e.event == "rated" && e.ticket_id == ticket_id)
        .map(|e| serde_json::from_str(&e.detail_json).unwrap_or_default())
        .collect()
}

/// The first `kind` dispatch of `case_id` that arrives on `queue`, draining what comes before.
pub async fn wait_dispatch(
    url: &str,
    queue: &str,
    case_id: &str,
    kind: pb::DispatchKind,
) -> pb::Dispatch {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let got = drain(url, queue, 1, left).await;
        assert!(
            !got.is_empty(),
            "no {kind:?} dispatch of {case_id} on {queue}"
        );
        let d = dispatch_of(&got[0]);
        let case = d.case.as_ref().map(|c| c.case_id.as_str());
        if d.kind == kind as i32 && case == Some(case_id) {
            return d;
        }
    }
}
