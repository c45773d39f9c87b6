//! Input limits against slow and greedy clients, through the real binary: slowloris on HTTP
//! (trickled headers, silent and idle connections, slow bodies) and gRPC (silent connections),
//! and a SubmitStream past its batch limit. The gateway keeps serving others throughout, and
//! what it accepted is intact.
mod common;
#[path = "wechat/push.rs"]
#[allow(dead_code)]
mod push;

use std::time::{Duration, Instant};

use common::broker::TestVhost;
use common::gateway::{Gateway, Options, request, submit};
use minhu::pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::Code;

async fn start(prefix: &str) -> (TestVhost, tempfile::TempDir, Gateway) {
    let vhost = TestVhost::new(prefix);
    let dir = tempfile::tempdir().unwrap();
    let opts = Options::new(&vhost.url);
    // The harness writes [http] and [grpc] itself: add the tight limits to those tables.
    let gw = Gateway::start(dir.path(), &opts).await;
    let text = std::fs::read_to_string(&gw.config).unwrap();
    let tight = text
        .replace(
            "[http]\n",
            "[http]\nheader_read_timeout = \"1s\"\nrequest_timeout = \"2s\"\n",
        )
        .replace(
            "[grpc]\n",
            "[grpc]\nhandshake_timeout = \"1s\"\nmax_stream_requests = 10\n",
        );
    std::fs::write(&gw.config, tight).unwrap();
    let mut gw = gw;
    gw.restart().await;
    (vhost, dir, gw)
}

/// Reads until the server closes (Ok: bytes read) or `limit` passes (Err).
async fn until_closed(s: &mut TcpStream, limit: Duration) -> Result<Vec<u8>, ()> {
    let mut all = Vec::new();
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(all),
            Ok(Ok(n)) => all.extend_from_slice(&buf[..n]),
            Err(_) => return Err(()),
        }
    }
}

#[tokio::test]
async fn slow_and_silent_clients_are_cut_off_while_others_are_served() {
    let (_vhost, _dir, gw) = start("limits-slow").await;

    // HTTP: a connection that says nothing.
    let mut silent = TcpStream::connect(gw.http).await.unwrap();
    // HTTP: a slowloris trickling its headers, one byte every 300 ms, forever.
    let mut trickle = TcpStream::connect(gw.http).await.unwrap();
    let trickler = tokio::spawn({
        async move {
            let head =
                b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
            for b in head.iter().cycle().take(200) {
                if trickle.write_all(&[*b]).await.is_err() {
                    return (trickle, true);
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            (trickle, false)
        }
    });
    // gRPC: a connection that never sends the HTTP/2 preface.
    let mut grpc_silent = TcpStream::connect(gw.grpc).await.unwrap();

    // Meanwhile everyone else is served.
    let mut c = gw.client().await;
    let ok = submit(&mut c, request(pb::Channel::Hotline12345, "L-1", "road"))
        .await
        .expect("a normal client is served");
    assert!(gw.http_get("/healthz").await.is_some());

    assert!(
        until_closed(&mut silent, Duration::from_secs(10))
            .await
            .is_ok(),
        "silent HTTP connection was not closed"
    );
    assert!(
        until_closed(&mut grpc_silent, Duration::from_secs(10))
            .await
            .is_ok(),
        "silent gRPC connection was not closed"
    );
    let (mut trickle, cut) = tokio::time::timeout(Duration::from_secs(70), trickler)
        .await
        .expect("trickler finished")
        .unwrap();
    let rest = until_closed(&mut trickle, Duration::from_secs(5)).await;
    assert!(
        cut || rest.is_ok(),
        "the slowloris connection was still open after 60 s of trickling"
    );

    // The ticket accepted during the attack is intact.
    let t = c
        .get_ticket(pb::GetTicketRequest {
            ticket_id: ok.ticket_id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.request.unwrap().source_id, "L-1");
    assert_eq!(gw.count("tickets"), 1);
}

#[tokio::test]
async fn a_slow_body_on_a_real_endpoint_gets_408_and_stores_nothing() {
    let vhost = TestVhost::new("limits-body");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = format!(
        "[adapters.mailbox]\nenabled = true\nsource_system = \"mailbox:test\"\nattachments_dir = \"{}\"\n",
        dir.path().join("attachments").display()
    );
    let gw = Gateway::start(dir.path(), &opts).await;
    let text = std::fs::read_to_string(&gw.config).unwrap();
    std::fs::write(
        &gw.config,
        text.replace("[http]\n", "[http]\nrequest_timeout = \"1s\"\n"),
    )
    .unwrap();
    let mut gw = gw;
    gw.restart().await;

    let mut s = TcpStream::connect(gw.http).await.unwrap();
    s.write_all(b"POST /v1/mailbox/forms HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"content\":\"")
        .await
        .unwrap();
    let answer = until_closed(&mut s, Duration::from_secs(10))
        .await
        .expect("answered");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert_eq!(gw.count("tickets"), 0);
}

#[tokio::test]
async fn a_submit_stream_past_its_limit_ends_with_resource_exhausted_keeping_the_first() {
    let (_vhost, _dir, gw) = start("limits-stream").await;
    let mut c = gw.client().await;
    let reqs: Vec<pb::SubmitRequest> = (0..15)
        .map(|i| pb::SubmitRequest {
            request: Some(request(
                pb::Channel::Hotline12345,
                &format!("S-{i}"),
                "road",
            )),
        })
        .collect();
    let mut answers = c
        .submit_stream(futures::stream::iter(reqs))
        .await
        .unwrap()
        .into_inner();
    let mut accepted = Vec::new();
    let end = loop {
        match answers.message().await {
            Ok(Some(a)) => accepted.push(a),
            Ok(None) => break None,
            Err(s) => break Some(s),
        }
    };
    let end = end.expect("the stream ends with an error status");
    assert_eq!(end.code(), Code::ResourceExhausted, "{end:?}");
    assert!(
        end.message().contains("max_stream_requests"),
        "{}",
        end.message()
    );
    assert_eq!(accepted.len(), 10);
    for (i, a) in accepted.iter().enumerate() {
        assert_eq!(a.source_id, format!("S-{i}"));
        assert!(matches!(
            a.result,
            Some(pb::submit_stream_response::Result::Accepted(_))
        ));
    }
    assert_eq!(gw.count("tickets"), 10);
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_and_each_input_limit_names_itself() {
    let vhost = TestVhost::new("limits-input");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = push::config();
    let gw = Gateway::start(dir.path(), &opts).await;
    let text = std::fs::read_to_string(&gw.config).unwrap();
    std::fs::write(
        &gw.config,
        text.replace("[http]\n", "[http]\nheader_read_timeout = \"1s\"\n"),
    )
    .unwrap();
    let mut gw = gw;
    gw.restart().await;

    // A keep-alive connection that finished a request and then idles is closed.
    let mut s = TcpStream::connect(gw.http).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut s, Duration::from_secs(10))
        .await
        .expect("an idle keep-alive connection was not closed");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));

    // Too many attachments (gRPC): INVALID_ARGUMENT naming the field.
    let mut c = gw.client().await;
    let mut r = request(pb::Channel::Hotline12345, "I-1", "road");
    r.attachments = (0..21)
        .map(|i| pb::Attachment {
            url: format!("https://example.org/{i}.jpg"),
            media_type: "image/jpeg".into(),
            ..Default::default()
        })
        .collect();
    let e = submit(&mut c, r).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("attachments"), "{}", e.message());

    // XML nested too deep (WeChat, plain mode): 400 saying so.
    let mut deep = String::new();
    for _ in 0..20 {
        deep.push_str("<a>");
    }
    for _ in 0..20 {
        deep.push_str("</a>");
    }
    let xml = push::message(
        "oDeepXml0000000000001",
        "text",
        &format!("<Content>x</Content>{deep}"),
        "8801",
    );
    let (status, body) = push::post(gw.http, &push::plain_query(push::TOKEN), &xml).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("deeper"), "{body}");
    // A body over the channel's limit: 413.
    let big = push::text("oBigBody000000000001", &"长".repeat(5000), "8802");
    let (status, _) = push::post(gw.http, &push::plain_query(push::TOKEN), &big).await;
    assert_eq!(status, 413);
    assert_eq!(gw.count("tickets"), 0);
}
