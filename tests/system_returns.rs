//! Answers that go back through the reporting system, against the real binary and a real
//! RabbitMQ (one vhost): a 12345 call-centre that calls back gets a 回访 task on its return
//! queue (and its caller no SMS), and its call results come back through its field mapping; the
//! 数字城管 platform gets a 核查 task, and the case waits for the inspector — a failed check
//! reopens it to the department, a pass closes it (结案); a transferring 119 centre gets the
//! result of its incident.
mod common;

use common::broker::{TestVhost, drain};
use common::gateway::{Gateway, Options};
use common::handling::{WAIT, handling, header};
use common::http::{Reply, send};
use lapin::message::Delivery;
use minhu::pb;
use serde_json::{Value, json};

const TOKEN_119: &str = "token-of-the-119-centre";

fn config() -> String {
    let taxonomy =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/taxonomy.toml");
    format!(
        r#"
[adapters.hotline12345]
enabled = true
[adapters.hotline12345.sources.xian-12345.fields]
gdbh = "source_id"
sqnr = "description"
ldhm = "reporter_phone"
"caller.name" = "reporter_name"
[adapters.hotline12345.sources.other.fields]
gdbh = "source_id"
sqnr = "description"
[adapters.hotline12345.sources.xian-12345.followup]
call_back = true
[adapters.hotline12345.sources.xian-12345.followup.fields]
gdbh = "source_id"
myd = "satisfaction"
sfjj = "solved"
hfnr = "comment"

[adapters.citymgmt]
enabled = true
source_system = "citymgmt:test"
taxonomy = "{}"
verify = true
[[adapters.citymgmt.class_codes]]
kind = "component"
major = "01"
minor = "0103"
category = "road.manhole"

[adapters.emergency]
enabled = true
[[adapters.emergency.centres]]
id = "xian-119"
token_sha256 = "{}"
lines = ["119"]
return_results = true
"#,
        taxonomy.display(),
        minhu_adapter_emergency::auth::token_sha256_hex(TOKEN_119)
    )
}

async fn post(gw: &Gateway, path: &str, headers: &str, body: &Value) -> Reply {
    send(
        gw.http,
        "POST",
        path,
        "application/json",
        headers,
        body.to_string().as_bytes(),
    )
    .await
}

/// Signs for and completes `case` as `department` from `version`; the version after.
async fn complete(gw: &Gateway, case: &str, department: &str, version: u64, tag: &str) -> u64 {
    let mut h = handling(gw).await;
    h.sign_for(pb::SignForRequest {
        header: header(case, department, version, &format!("s-{tag}")),
        note: String::new(),
    })
    .await
    .unwrap();
    let done = h
        .complete(pb::CompleteRequest {
            header: header(case, department, version + 1, &format!("c-{tag}")),
            result: format!("已处理完毕（{tag}）"),
            handling_type: pb::HandlingType::Promised as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.status, pb::CaseStatus::Completed as i32);
    done.case_version
}

fn body(d: &Delivery) -> Value {
    serde_json::from_slice(&d.data).expect("a JSON return message")
}

async fn one(url: &str, queue: &str) -> Delivery {
    let mut got = drain(url, queue, 1, WAIT).await;
    assert_eq!(got.len(), 1, "one message on {queue}");
    got.remove(0)
}

#[tokio::test]
async fn each_system_gets_its_answer_and_the_inspector_closes_or_reopens() {
    let vhost = TestVhost::new("returns");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = config();
    let gw = Gateway::start(dir.path(), &opts).await;

    // Three reports, one per system.
    let order = json!({"gdbh": "GD-R1", "sqnr": "小区门口噪音扰民，夜间施工不停",
                       "ldhm": "13800001111", "caller": {"name": "王先生"}});
    let hot = post(&gw, "/v1/hotline/xian-12345/orders", "", &order).await;
    assert_eq!(hot.status, 200, "{}", hot.body);
    let hot = hot.json()["results"][0].clone();
    let event = json!({"case_number": "AJ-R1", "kind": "部件", "major_code": "01",
                       "minor_code": "0103", "description": "雨水井盖缺失，车辆经过有危险",
                       "inspector": {"name": "张建国", "id": "W0231", "phone": "13700001111"}});
    let ev = post(&gw, "/v1/citymgmt/events", "", &event).await;
    assert_eq!(ev.status, 200, "{}", ev.body);
    let ev = ev.json();
    let transfer = json!({"line": "119", "incident_number": "XA119-R1",
                          "received_at": "2026-11-22T14:05:00+08:00",
                          "caller": {"name": "李女士", "phone": "13912345678"},
                          "content": "小区消防通道被私家车长期占用", "reason": "非警情，转 12345"});
    let auth = format!("Authorization: Bearer {TOKEN_119}\r\n");
    let em = post(&gw, "/v1/emergency/transfers", &auth, &transfer).await;
    assert_eq!(em.status, 200, "{}", em.body);
    let em = em.json()["results"][0].clone();

    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    complete(
        &gw,
        &s(&hot, "case_id"),
        &s(&hot, "department_id"),
        0,
        "hot",
    )
    .await;
    let ev_version = complete(&gw, &s(&ev, "case_id"), &s(&ev, "department_id"), 0, "ev1").await;
    complete(&gw, &s(&em, "case_id"), &s(&em, "department_id"), 0, "em").await;

    // 12345: a 回访 task naming the order the call-centre's way; no SMS to the caller.
    let task = one(&vhost.url, "minhu.return.hotline12345.xian-12345").await;
    let t = body(&task);
    assert_eq!(t["schema"], "minhu.hotline_followup.v1");
    assert_eq!(
        t["order"],
        json!({"gdbh": "GD-R1", "ldhm": "13800001111", "caller": {"name": "王先生"}})
    );
    assert_eq!(t["result"], "已处理完毕（hot）");
    assert_eq!(
        task.properties.message_id().as_ref().map(|m| m.to_string()),
        t["task_id"].as_str().map(str::to_owned),
        "the task id is the stable message_id"
    );
    assert_eq!(
        task.properties
            .kind()
            .as_ref()
            .map(|m| m.to_string())
            .as_deref(),
        Some("minhu.HotlineFollowup")
    );
    let notices = gw.ticket(&s(&hot, "ticket_id")).await.notices;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(
        (
            notices[0].route.as_str(),
            notices[0].state,
            notices[0].via.as_str()
        ),
        (
            "call_centre",
            pb::NoticeState::Sent as i32,
            "queue:minhu.return.hotline12345.xian-12345"
        )
    );

    // 119: the result of its incident.
    let r = body(&one(&vhost.url, "minhu.return.emergency.xian-119").await);
    assert_eq!(
        (
            r["schema"].as_str(),
            r["incident_number"].as_str(),
            r["line"].as_str()
        ),
        (
            Some("minhu.emergency_result.v1"),
            Some("XA119-R1"),
            Some("119")
        )
    );

    // 数字城管: a 核查 task; the case waits, completed, for the inspector.
    let check = body(&one(&vhost.url, "minhu.return.citymgmt").await);
    assert_eq!(
        (
            check["case_number"].as_str(),
            check["closure_waits"].as_bool()
        ),
        (Some("AJ-R1"), Some(true))
    );
    let ev_ticket = s(&ev, "ticket_id");
    assert_eq!(
        gw.ticket(&ev_ticket).await.case_status,
        pb::CaseStatus::Completed as i32
    );
    // A failed check needs words; an unknown case number is 404.
    let mute = post(
        &gw,
        "/v1/citymgmt/verifications",
        "",
        &json!({"case_number": "AJ-R1", "passed": false}),
    )
    .await;
    assert_eq!(
        (mute.status, mute.json()["field"].as_str()),
        (400, Some("comment"))
    );
    let unknown = post(
        &gw,
        "/v1/citymgmt/verifications",
        "",
        &json!({"case_number": "AJ-NONE", "passed": true}),
    )
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    // Failed: back to the department (返工), which completes again; a second task goes out.
    let failed = json!({"case_number": "AJ-R1", "result": "不通过", "comment": "井盖仍未安装",
                        "inspector": {"id": "W0231"}});
    let reopened = post(&gw, "/v1/citymgmt/verifications", "", &failed).await;
    assert_eq!(reopened.status, 200, "{}", reopened.body);
    let reopened = reopened.json();
    assert_eq!(reopened["status"], "reopened");
    assert_eq!(reopened["case_status"], "CASE_STATUS_OPEN");
    // The same verdict again is answered as the first time and reopens nothing more.
    let again = post(&gw, "/v1/citymgmt/verifications", "", &failed).await;
    assert_eq!(
        (again.status, again.json()["case_version"].clone()),
        (200, reopened["case_version"].clone())
    );
    let v = reopened["case_version"].as_u64().unwrap();
    assert_eq!(v, ev_version + 1);
    complete(&gw, &s(&ev, "case_id"), &s(&ev, "department_id"), v, "ev2").await;
    let second = body(&one(&vhost.url, "minhu.return.citymgmt").await);
    assert_ne!(second["task_id"], check["task_id"]);
    assert_eq!(second["result"], "已处理完毕（ev2）");

    // Passed: closed (结案). A different verdict afterwards finds nothing waiting.
    let passed = post(
        &gw,
        "/v1/citymgmt/verifications",
        "",
        &json!({"case_number": "AJ-R1", "passed": true}),
    )
    .await;
    assert_eq!(passed.status, 200, "{}", passed.body);
    assert_eq!(passed.json()["case_status"], "CASE_STATUS_CLOSED");
    let t = gw.ticket(&ev_ticket).await;
    assert_eq!(t.case_status, pb::CaseStatus::Closed as i32);
    let events: Vec<&str> = t.history.iter().map(|h| h.event.as_str()).collect();
    for e in ["verification_requested", "reopen", "verified"] {
        assert!(events.contains(&e), "{e} in {events:?}");
    }
    let late = post(
        &gw,
        "/v1/citymgmt/verifications",
        "",
        &json!({"case_number": "AJ-R1", "result": "不通过", "comment": "又坏了"}),
    )
    .await;
    assert_eq!(
        late.status, 200,
        "a closed case still reopens on a failed check: {}",
        late.body
    );

    // The call-centre's 回访 results, in its own field names, each answered on its own.
    let results = json!([
        {"gdbh": "GD-R1", "myd": "满意", "sfjj": "是"},
        {"gdbh": "GD-NONE", "myd": "满意"},
        {"gdbh": "GD-R1", "myd": "还行"},
    ]);
    let rated = post(&gw, "/v1/hotline/xian-12345/followups", "", &results).await;
    assert_eq!(rated.status, 207, "{}", rated.body);
    let r = rated.json();
    assert_eq!(r["results"][0]["status"], "rated", "{r}");
    assert_eq!(
        r["results"][0]["ticket_id"].as_str(),
        Some(s(&hot, "ticket_id").as_str())
    );
    assert_eq!(
        (
            r["results"][1]["status"].as_str(),
            r["results"][1]["field"].as_str()
        ),
        (Some("rejected"), Some("source_id"))
    );
    assert_eq!(r["results"][2]["field"], "myd");
    let replay = post(&gw, "/v1/hotline/xian-12345/followups", "", &results[0]).await;
    assert_eq!(
        (
            replay.status,
            replay.json()["results"][0]["status"].as_str()
        ),
        (200, Some("replay"))
    );
    let ratings = gw.ticket(&s(&hot, "ticket_id")).await.history;
    assert!(ratings.iter().any(|h| h.event == "rated"), "{ratings:?}");

    // A source that does not call back takes no results, and an unknown one is 404 too;
    // neither records anything.
    for path in [
        "/v1/hotline/other/followups",
        "/v1/hotline/nowhere/followups",
    ] {
        let refused = post(&gw, path, "", &results[0]).await;
        assert_eq!(
            (refused.status, refused.json()["field"].as_str()),
            (404, Some("source")),
            "{path}: {}",
            refused.body
        );
    }
    let not_json = send(
        gw.http,
        "POST",
        "/v1/hotline/xian-12345/followups",
        "application/json",
        "",
        b"{",
    )
    .await;
    assert_eq!(
        (not_json.status, not_json.json()["field"].as_str()),
        (400, Some("body"))
    );

    let metrics = gw.http_get("/metrics").await.unwrap_or_default();
    let repeat = format!(
        "minhu_reopens_total{{department=\"{}\",cause=\"verification_failed\"}} 2",
        s(&ev, "department_id")
    );
    assert!(metrics.contains(&repeat), "{repeat} in metrics");
    for line in [
        "minhu_intake_total{channel=\"hotline_12345\",disposition=\"new_case\"} 1",
        "minhu_intake_total{channel=\"city_management\",disposition=\"new_case\"} 1",
        "minhu_intake_total{channel=\"emergency_119\",disposition=\"new_case\"} 1",
        "minhu_notices_returned_total{system=\"call_centre\"} 1",
        "minhu_notices_returned_total{system=\"citymgmt\"} 2",
        "minhu_notices_returned_total{system=\"emergency\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in metrics");
    }
}
