//! A stand-in SMS gateway over loopback, strict the way real ones are: it recomputes the
//! HMAC-SHA256 signature (its own HMAC over `sha2`, not the gateway's code under test) over
//! `X-Timestamp + "\n" + body`, checks the body's shape and that its timestamp matches the
//! header, and answers by the number: a blacklisted one, a busy spell, or success with a
//! receipt. Every request it gets is recorded.
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Numbers with a scripted answer.
pub const BLACKLISTED: &str = "13900000000";
pub const BUSY: &str = "13700000000";

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub signature_ok: bool,
    pub body: Value,
}

pub struct StandIn {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

struct Shared {
    secret: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl StandIn {
    /// Serves `POST /sms/send` on a free loopback port, verifying with `secret`.
    pub async fn start(secret: &str) -> StandIn {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            secret: secret.to_owned(),
            seen: seen.clone(),
        });
        let app = Router::new()
            .route("/sms/send", post(send))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        StandIn { addr, seen }
    }

    pub fn url(&self) -> String {
        format!("http://{}/sms/send", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

async fn send(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, String) {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let ts = header("x-timestamp");
    let mut signed = ts.clone().into_bytes();
    signed.push(b'\n');
    signed.extend_from_slice(&body);
    let signature_ok = header("x-signature") == hex(&hmac_sha256(s.secret.as_bytes(), &signed));
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.seen.lock().expect("lock").push(Seen {
        signature_ok,
        body: parsed.clone(),
    });
    let mut out = HeaderMap::new();
    if !signature_ok {
        let answer = json!({"code": "SIGNATURE_MISMATCH", "message": "signature does not match"});
        return (StatusCode::UNAUTHORIZED, out, answer.to_string());
    }
    let text = |k: &str| parsed[k].as_str().unwrap_or_default().to_owned();
    let mobile = text("mobile");
    let shape_ok = header("content-type").starts_with("application/json")
        && mobile.len() == 11
        && mobile.bytes().all(|b| b.is_ascii_digit())
        && !text("content").is_empty()
        && !text("requestId").is_empty()
        && text("ts") == ts;
    if !shape_ok {
        let answer = json!({"code": "BAD_REQUEST", "message": "missing or malformed field"});
        return (StatusCode::BAD_REQUEST, out, answer.to_string());
    }
    match mobile.as_str() {
        BLACKLISTED => {
            // Gateways quote the number back; the sender must mask it.
            let answer =
                json!({"code": "MOBILE_BLACKLISTED", "message": format!("号码{mobile}在黑名单中")});
            (StatusCode::OK, out, answer.to_string())
        }
        BUSY => {
            out.insert("retry-after", "7".parse().expect("header value"));
            (StatusCode::SERVICE_UNAVAILABLE, out, "busy".into())
        }
        _ => {
            let receipt = format!("B-{}", text("requestId"));
            let answer = json!({"code": "OK", "message": "success", "data": {"bizId": receipt}});
            (StatusCode::OK, out, answer.to_string())
        }
    }
}

/// HMAC-SHA256 (RFC 2104) written out, so the check does not share code with the sender.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn hmac_known_answer() {
    // RFC 4231 test case 2.
    assert_eq!(
        hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}
