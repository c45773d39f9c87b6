//! End-to-end: the real `minhu` binary, a real RabbitMQ vhost, real gRPC over loopback, the real
//! SQLite store on disk.
mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::broker::{TestVhost, drain, message_count};
use common::gateway::{Gateway, Options, request, submit};
use minhu::pb;
use prost::Message;
use tonic::Code;

fn header(d: &lapin::message::Delivery, name: &str) -> String {
    common::broker::header(d, name).unwrap_or_else(|| panic!("no string header {name}"))
}

#[tokio::test]
async fn submit_reaches_the_department_queue_with_the_contract_properties() {
    let vhost = TestVhost::new("submit");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let mut client = gw.client().await;

    let req = request(pb::Channel::Hotline12345, "GD-0001", "road.pothole");
    let resp = submit(&mut client, req.clone()).await.unwrap();
    assert_eq!(resp.disposition, pb::Disposition::NewCase as i32);
    assert_eq!(resp.department_id, "roads");
    assert_eq!(resp.level, pb::Level::CDistrict as i32);
    assert!(resp.due_at.is_some());

    let got = drain(&vhost.url, "minhu.dept.roads", 1, Duration::from_secs(20)).await;
    assert_eq!(
        got.len(),
        1,
        "one message on minhu.dept.roads; log:\n{}",
        gw.log_text()
    );
    let m = &got[0];
    let p = &m.properties;
    assert_eq!(
        p.content_type().as_ref().map(|s| s.as_str()),
        Some("application/x-protobuf")
    );
    assert_eq!(
        p.kind().as_ref().map(|s| s.as_str()),
        Some("minhu.v1.Dispatch")
    );
    assert_eq!(*p.delivery_mode(), Some(2));
    assert!(p.timestamp().is_some_and(|t| t > 1_700_000_000));
    let dispatch = pb::Dispatch::decode(m.data.as_slice()).expect("body is a minhu.v1.Dispatch");
    assert_eq!(
        p.message_id().as_ref().map(|s| s.to_string()),
        Some(dispatch.dispatch_id.clone())
    );
    assert_eq!(header(m, "x-minhu-case-id"), resp.case_id);
    assert_eq!(header(m, "x-minhu-channel"), "CHANNEL_HOTLINE_12345");
    assert_eq!(header(m, "x-minhu-level"), "C");
    assert_eq!(dispatch.kind, pb::DispatchKind::NewCase as i32);
    assert_eq!(dispatch.department_id, "roads");
    assert_eq!(dispatch.rule_id, "roads");
    assert_eq!(dispatch.tickets.len(), 1);
    assert_eq!(dispatch.tickets[0].ticket_id, resp.ticket_id);
    assert_eq!(dispatch.tickets[0].request.as_ref(), Some(&req));

    // Once confirmed, GetTicket shows the case dispatched.
    gw.wait_outbox_empty(Duration::from_secs(10)).await;
    let t = client
        .get_ticket(pb::GetTicketRequest {
            ticket_id: resp.ticket_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.case_id, resp.case_id);
    assert_eq!(t.case_status, pb::CaseStatus::Dispatched as i32);
    assert!(!t.dispatch_pending);
    assert_eq!(t.request, Some(req));
}

#[tokio::test]
async fn a_replay_returns_the_original_ticket_and_dispatches_nothing_more() {
    let vhost = TestVhost::new("replay");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let mut client = gw.client().await;
    let req = request(pb::Channel::Wechat, "msg-42", "light.streetlight");
    let first = submit(&mut client, req.clone()).await.unwrap();
    let second = submit(&mut client, req.clone()).await.unwrap();
    assert_eq!(second.disposition, pb::Disposition::Replay as i32);
    assert_eq!(
        (second.ticket_id.as_str(), second.case_id.as_str()),
        (first.ticket_id.as_str(), first.case_id.as_str())
    );
    assert_eq!(
        (second.department_id.as_str(), second.level, second.due_at),
        (first.department_id.as_str(), first.level, first.due_at)
    );
    gw.wait_outbox_empty(Duration::from_secs(10)).await;
    // A replay after delivery is still a replay.
    let third = submit(&mut client, req).await.unwrap();
    assert_eq!(third.disposition, pb::Disposition::Replay as i32);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(message_count(&vhost.url, "minhu.dept.urban-mgmt").await, 1);
    assert_eq!(gw.count("tickets"), 1);
    assert_eq!(gw.metric("minhu_publishes_total").await, 1);
}

#[tokio::test]
async fn invalid_requests_name_the_field_and_store_nothing() {
    let vhost = TestVhost::new("invalid");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let mut client = gw.client().await;
    let good = || request(pb::Channel::Hotline12345, "bad-1", "road.pothole");
    let mut cases: Vec<(&str, pb::Request)> = Vec::new();
    let mut r = good();
    r.channel = 0;
    cases.push(("request.channel", r));
    let mut r = good();
    r.source_system.clear();
    cases.push(("request.source_system", r));
    let mut r = good();
    r.source_id.clear();
    cases.push(("request.source_id", r));
    let mut r = good();
    r.description = " ".into();
    cases.push(("request.description", r));
    let mut r = good();
    r.description = "很长".repeat(6_000);
    cases.push(("request.description", r));
    let mut r = good();
    if let Some(l) = r.location.as_mut() {
        l.district_code = "61A104".into();
    }
    cases.push(("request.location.district_code", r));
    let mut r = good();
    if let Some(l) = r.location.as_mut() {
        l.has_coordinates = true;
        l.lat = 134.2;
        l.lng = 108.9;
    }
    cases.push(("request.location.lat", r));
    for (field, req) in cases {
        let err = submit(&mut client, req).await.expect_err(field);
        assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
        assert!(
            err.message().contains(field),
            "{field} not named in {:?}",
            err.message()
        );
    }
    let err = client
        .submit(pb::SubmitRequest { request: None })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = client
        .get_ticket(pb::GetTicketRequest {
            ticket_id: "T19990101000001".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = client
        .get_ticket(pb::GetTicketRequest {
            ticket_id: " ".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("ticket_id"), "{}", err.message());
    // Oversized message: refused by the transport limit, not by a crash.
    let mut huge = good();
    huge.title = "x".repeat(5 * 1024 * 1024);
    let err = submit(&mut client, huge).await.unwrap_err();
    assert!(
        matches!(
            err.code(),
            Code::ResourceExhausted | Code::OutOfRange | Code::InvalidArgument
        ),
        "{err:?}"
    );
    assert_eq!(gw.count("tickets"), 0, "nothing half-written");
    assert_eq!(gw.count("outbox"), 0);
    assert_eq!(gw.count("cases"), 0);
}

#[tokio::test]
async fn submit_stream_takes_thousands_and_answers_each_in_order() {
    const N: usize = 3000;
    let vhost = TestVhost::new("stream");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let mut client = gw.client().await;
    let requests: Vec<pb::SubmitRequest> = (0..N)
        .map(|i| {
            let mut r = request(
                pb::Channel::CityManagement,
                &format!("bulk-{i}"),
                "road.manhole",
            );
            if i == 1234 {
                r.description.clear(); // one bad request must not sink the stream
            }
            pb::SubmitRequest { request: Some(r) }
        })
        .collect();
    let mut answers = client
        .submit_stream(futures::stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let mut n = 0;
    let mut tickets = HashSet::new();
    while let Some(a) = answers.message().await.unwrap() {
        assert_eq!(
            a.source_id,
            format!("bulk-{n}"),
            "answers come back in request order"
        );
        match a.result {
            Some(pb::submit_stream_response::Result::Accepted(ok)) => {
                assert_ne!(n, 1234);
                assert_eq!(ok.disposition, pb::Disposition::NewCase as i32);
                tickets.insert(ok.ticket_id);
            }
            Some(pb::submit_stream_response::Result::Error(e)) => {
                assert_eq!(n, 1234, "only the bad one fails: {e:?}");
                assert_eq!(e.code, Code::InvalidArgument as i32);
                assert_eq!(e.field, "request.description");
            }
            None => panic!("answer {n} is empty"),
        }
        n += 1;
    }
    assert_eq!(n, N);
    assert_eq!(tickets.len(), N - 1);
    gw.wait_outbox_empty(Duration::from_secs(60)).await;
    let got = drain(
        &vhost.url,
        "minhu.dept.roads",
        N - 1,
        Duration::from_secs(60),
    )
    .await;
    let ids: HashSet<String> = got
        .iter()
        .filter_map(|d| d.properties.message_id().as_ref().map(|s| s.to_string()))
        .collect();
    assert_eq!(ids.len(), N - 1, "every accepted ticket delivered once");
    let commits = gw.metric("minhu_store_commits_total").await;
    assert!(
        commits < (N as i64) / 2,
        "{N} streamed submits took {commits} commits: not grouped"
    );
}

#[tokio::test]
async fn health_and_reflection_are_served_on_the_grpc_port() {
    use tonic_health::pb::health_client::HealthClient;
    let vhost = TestVhost::new("health");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let mut health = HealthClient::new(gw.channel().await);
    for service in ["minhu.v1.Gateway", "minhu.v1.Handling", "minhu.v1.Feedback"] {
        let r = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("{service}: {e}"))
            .into_inner();
        assert_eq!(
            r.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{service}"
        );
    }

    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut refl = ServerReflectionClient::new(gw.channel().await);
    let req = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = refl
        .server_reflection_info(futures::stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let first = answers
        .message()
        .await
        .unwrap()
        .expect("a reflection answer");
    let Some(MessageResponse::ListServicesResponse(list)) = first.message_response else {
        panic!("unexpected reflection answer {first:?}")
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"minhu.v1.Gateway"), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health"), "{names:?}");
}

#[tokio::test]
async fn logs_are_json_when_asked_and_never_carry_personal_data() {
    let vhost = TestVhost::new("logs");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = "[log]\nformat = \"json\"\nlevel = \"debug\"\n".into();
    let mut gw = Gateway::start(dir.path(), &opts).await;
    let mut client = gw.client().await;
    let mut req = request(pb::Channel::Wechat, "pii-1", "road.pothole");
    if let Some(r) = req.reporter.as_mut() {
        r.wechat_openid = "oPIIopenid0123456789".into();
        r.email = "citizen@example.cn".into();
    }
    submit(&mut client, req.clone()).await.unwrap();
    let mut bad = req.clone();
    bad.source_id = "pii-2".into();
    bad.description.clear();
    submit(&mut client, bad).await.unwrap_err();
    gw.wait_outbox_empty(Duration::from_secs(10)).await;
    assert!(gw.terminate());
    let log = gw.log_text();
    assert!(log.lines().count() >= 3, "{log}");
    for line in log.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    for secret in [
        "13912345678",
        "王小明",
        "oPIIopenid0123456789",
        "citizen@example.cn",
    ] {
        assert!(
            !log.contains(secret),
            "{secret} leaked into the log:\n{log}"
        );
    }
}
