//! Caller authentication through the real binary: forged, missing and valid credentials,
//! impersonation (a caller submitting outside its channels or source systems), and the
//! config and CLI around it. Accepted tickets must be intact after every attack.
mod common;

use std::io::Write;
use std::process::{Output, Stdio};

use common::broker::TestVhost;
use common::gateway::{Gateway, Options, request, with_token};
use common::http::send;
use minhu::pb;
use tonic::Code;

const HOTLINE_TOKEN: &str = "hotline-secret-7f3a";
const PORTAL_TOKEN: &str = "portal-secret-91bc";

fn sha256(token: &str) -> String {
    minhu_adapter_emergency::auth::token_sha256_hex(token)
}

pub fn callers() -> String {
    format!(
        "[auth]\nenabled = true\n\
         [[auth.callers]]\nid = \"hotline-xian\"\ntoken_sha256 = \"{}\"\nchannels = [\"HOTLINE_12345\"]\nsource_systems = [\"test-system\", \"hotline:*\"]\n\
         [[auth.callers]]\nid = \"portal\"\ntoken_sha256 = \"{}\"\nchannels = [\"MAYOR_MAILBOX\"]\nsource_systems = [\"mailbox:test\"]\n",
        sha256(HOTLINE_TOKEN),
        sha256(PORTAL_TOKEN)
    )
}

fn minhu(args: &[&str], stdin: &str) -> Output {
    let mut cmd = common::gateway::minhu_command();
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run minhu");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn check_config(service: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let routing = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/routing.toml");
    let service = format!(
        "{service}\n[routing]\npath = {:?}\n",
        routing.display().to_string()
    );
    std::fs::write(dir.path().join("minhu.toml"), service).unwrap();
    let o = minhu(
        &[
            "--config",
            &dir.path().join("minhu.toml").to_string_lossy(),
            "check-config",
        ],
        "",
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    if o.status.success() {
        format!("OK {text}")
    } else {
        text
    }
}

#[test]
fn hash_token_prints_the_digest_config_expects() {
    let o = minhu(&["auth", "hash-token"], "abc\n");
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(!minhu(&["auth", "hash-token"], "").status.success());
}

#[test]
fn bad_auth_and_rate_limit_sections_fail_check_config_with_every_problem() {
    let out = check_config(
        "[auth]\nenabled = true\ntls_cert_file = \"/no/such.pem\"\n\
         [[auth.callers]]\nid = \"a\"\ntoken_sha256 = \"plaintext-token\"\nchannels = [\"FAX\"]\nsource_systems = []\n\
         [[auth.callers]]\nid = \"a\"\ncert_names = [\"a.example\"]\nchannels = [\"WECHAT\"]\nsource_systems = [\"x\"]\n\
         [rate_limits]\nper_reporter = { requests = 0, per = \"1h\" }\nper_system = { requests = 5, per = \"0s\" }\nmax_keys = 0\n",
    );
    for want in [
        "auth.tls_key_file",
        "auth.tls_cert_file",
        "auth.callers[0].token_sha256",
        "auth.callers[0].channels",
        "auth.callers[0].source_systems",
        "auth.callers[1].id",
        "auth.callers[1].cert_names",
        "rate_limits.per_reporter.requests",
        "rate_limits.per_system.per",
        "rate_limits.max_keys",
    ] {
        assert!(out.contains(want), "{want} not named:\n{out}");
    }
    let ok = check_config(&callers());
    assert!(ok.starts_with("OK"), "{ok}");
    assert!(check_config("[auth]\nenabled = true\n").contains("auth.callers"));
}

async fn grpc_with(
    gw: &Gateway,
    token: Option<&str>,
    req: pb::Request,
) -> Result<pb::SubmitResponse, tonic::Status> {
    let mut c = gw.client().await;
    let r = pb::SubmitRequest { request: Some(req) };
    let r = match token {
        Some(t) => with_token(r, t),
        None => tonic::Request::new(r),
    };
    c.submit(r).await.map(|r| r.into_inner())
}

#[tokio::test]
async fn forged_missing_and_misused_credentials_are_refused_and_store_nothing() {
    let vhost = TestVhost::new("auth-tokens");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = format!(
        "{}[adapters.mailbox]\nenabled = true\nsource_system = \"mailbox:test\"\nattachments_dir = \"{}\"\n",
        callers(),
        dir.path().join("attachments").display()
    );
    let gw = Gateway::start(dir.path(), &opts).await;

    let good = request(pb::Channel::Hotline12345, "A-1", "road");
    let accepted = grpc_with(&gw, Some(HOTLINE_TOKEN), good.clone())
        .await
        .expect("a known caller within its rights is accepted");

    // Missing and forged credentials.
    for token in [None, Some("guess"), Some(""), Some(&sha256(HOTLINE_TOKEN))] {
        let s = grpc_with(
            &gw,
            token,
            request(pb::Channel::Hotline12345, "A-2", "road"),
        )
        .await
        .unwrap_err();
        assert_eq!(s.code(), Code::Unauthenticated, "{token:?}: {s:?}");
        assert!(!s.message().contains(HOTLINE_TOKEN));
    }
    // Impersonation: the hotline system claiming to be an emergency line, or another system.
    let mut as_120 = request(pb::Channel::Emergency120, "A-3", "road");
    as_120.source_system = "hotline:xian".into();
    let s = grpc_with(&gw, Some(HOTLINE_TOKEN), as_120)
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    assert!(s.message().contains("EMERGENCY_120"), "{}", s.message());
    let mut as_other = request(pb::Channel::Hotline12345, "A-4", "road");
    as_other.source_system = "wechat:wx123".into();
    let s = grpc_with(&gw, Some(HOTLINE_TOKEN), as_other)
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
    assert!(s.message().contains("source_system"), "{}", s.message());
    // The portal's token is valid but not for this channel.
    let s = grpc_with(
        &gw,
        Some(PORTAL_TOKEN),
        request(pb::Channel::Hotline12345, "A-5", "road"),
    )
    .await
    .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);

    // HTTP adapter endpoint: 401 without or with a wrong token, 403 outside the caller's rights.
    let form =
        r#"{"subject":"路灯","content":"北门路灯不亮","name":"王小明","phone":"13700000007"}"#;
    let post = |headers: String| async move {
        send(
            gw.http,
            "POST",
            "/v1/mailbox/forms",
            "application/json",
            &headers,
            form.as_bytes(),
        )
        .await
    };
    let r = post(String::new()).await;
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        post("Authorization: Bearer nope\r\n".into()).await.status,
        401
    );
    let r = post(format!("Authorization: Bearer {HOTLINE_TOKEN}\r\n")).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("MAYOR_MAILBOX")
    );
    let r = post(format!("Authorization: Bearer {PORTAL_TOKEN}\r\n")).await;
    assert_eq!(r.status, 200, "{r:?}");

    // Health stays open for load balancers.
    assert!(gw.http_get("/healthz").await.is_some());

    // Exactly the two permitted submissions are stored, and the first is intact.
    assert_eq!(gw.count("tickets"), 2);
    let mut c = gw.client().await;
    let get = |token| {
        let ticket_id = accepted.ticket_id.clone();
        with_token(pb::GetTicketRequest { ticket_id }, token)
    };
    let stored = c
        .get_ticket(get(HOTLINE_TOKEN))
        .await
        .unwrap()
        .into_inner()
        .request
        .unwrap();
    assert_eq!(stored.source_id, good.source_id);
    assert_eq!(stored.description, good.description);
    assert_eq!(stored.channel, good.channel);
    // Another system cannot read or split it (ticket numbers are sequential, and a ticket
    // holds a citizen's phone number): to it, the ticket does not exist.
    let s = c.get_ticket(get(PORTAL_TOKEN)).await.unwrap_err();
    assert_eq!(s.code(), Code::NotFound, "{s:?}");
    let split = pb::SplitTicketRequest {
        ticket_id: accepted.ticket_id.clone(),
        reason: "not mine".into(),
    };
    let s = c
        .split_ticket(with_token(split, PORTAL_TOKEN))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::NotFound, "{s:?}");
    let log = gw.log_text();
    assert!(!log.contains(HOTLINE_TOKEN) && !log.contains(PORTAL_TOKEN));
}

#[tokio::test]
async fn local_tools_send_their_token_from_a_file() {
    let vhost = TestVhost::new("auth-ingest");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&vhost.url);
    opts.extra = format!(
        "{}[adapters.mailbox]\nenabled = true\nsource_system = \"mailbox:test\"\nattachments_dir = \"{}\"\n",
        callers(),
        dir.path().join("attachments").display()
    );
    let gw = Gateway::start(dir.path(), &opts).await;
    let mail = "From: Li Na <lina@example.org>\r\nTo: mayor@xian.example.gov.cn\r\nSubject: street light\r\n\
                Message-ID: <tok-1@example.org>\r\nDate: Sun, 22 Nov 2026 09:00:00 +0800\r\n\
                Content-Type: text/plain; charset=utf-8\r\n\r\nThe street light at the north gate is out.\r\n";
    let config = gw.config.to_string_lossy().to_string();
    let without = minhu(&["--config", &config, "ingest", "mail"], mail);
    assert_eq!(without.status.code(), Some(75), "{without:?}");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{PORTAL_TOKEN}\n")).unwrap();
    let with = minhu(
        &[
            "--config",
            &config,
            "ingest",
            "mail",
            "--token-file",
            &token_file.to_string_lossy(),
        ],
        mail,
    );
    assert_eq!(with.status.code(), Some(0), "{with:?}");
    assert_eq!(gw.count("tickets"), 1);
}
