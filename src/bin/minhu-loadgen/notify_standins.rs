//! The stand-ins `minhu-loadgen notify` serves in process: an HTTP SMS gateway and the WeChat
//! API, answering the gateway's senders as the real services do, and counting what arrives.
//!
//! They check what a sender must get right and a benchmark can check cheaply (the SMS
//! gateway's HMAC-SHA256 signature over `X-Timestamp + "\n" + body`, the JSON fields, a
//! WeChat access token they issued), so a misconfigured run fails loudly instead of measuring
//! refusals. Every answer is a success; the notifier's error paths are tested elsewhere
//! (`tests/notify_*`). A **gate** holds every message send (not token fetches) until it is
//! opened, so a backlog of notices can be built and then timed as it drains.
//!
//! Each notice is known by its address: the SMS's `mobile`, the WeChat message's `touser`.
//! The bench gives every report its own address, so the first arrival per address is the
//! arrival of that report's notice; later ones are counted as repeats.
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Instant,
};

use anyhow::{Context, Result};
use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    routing::post,
};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::watch;

/// The shared secret of the SMS stand-in (the bench config puts it in `[notify.sms]`).
pub const SMS_SECRET: &str = "minhu-bench-sms-secret";
/// The WeChat official account the bench reports come from, and its AppSecret.
pub const APP_ID: &str = "wxbench00000000001";
pub const APP_SECRET: &str = "minhu-bench-app-secret";
/// The access token the WeChat stand-in issues (one per run is enough: it never expires).
const TOKEN: &str = "BENCH_TOKEN_minhu_loadgen";

/// What the stand-ins have received so far.
#[derive(Debug, Default)]
pub struct Received {
    /// The first arrival of a notice at each address.
    pub first: HashMap<String, Instant>,
    /// Messages to an address that had one already (re-sends).
    pub repeats: u64,
    /// Requests answered with an error (bad signature, shape or token): a config fault.
    pub refused: u64,
    /// WeChat access-token fetches.
    pub token_fetches: u64,
}

/// Both stand-ins, serving until the process ends.
pub struct StandIns {
    received: Arc<Mutex<Received>>,
    gate: watch::Sender<bool>,
}

struct Shared {
    received: Arc<Mutex<Received>>,
    gate: watch::Sender<bool>,
}

impl StandIns {
    /// Serves the SMS gateway (`POST /sms/send`) on `sms` and the WeChat API on `wechat`,
    /// with the gate open.
    pub async fn start(sms: SocketAddr, wechat: SocketAddr) -> Result<StandIns> {
        let received = Arc::new(Mutex::new(Received::default()));
        let (gate, _) = watch::channel(true);
        let shared = Arc::new(Shared {
            received: Arc::clone(&received),
            gate: gate.clone(),
        });
        let sms_app = Router::new()
            .route("/sms/send", post(sms_send))
            .with_state(Arc::clone(&shared));
        let wechat_app = Router::new()
            .route("/cgi-bin/stable_token", post(stable_token))
            .route("/cgi-bin/message/custom/send", post(wechat_send))
            .route("/cgi-bin/message/template/send", post(wechat_send))
            .route("/cgi-bin/message/subscribe/send", post(wechat_send))
            .with_state(shared);
        for (addr, app) in [(sms, sms_app), (wechat, wechat_app)] {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("stand-in: cannot listen on {addr}"))?;
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    eprintln!("stand-in on {addr} stopped: {e}");
                }
            });
        }
        Ok(StandIns { received, gate })
    }

    /// Holds (`false`) or lets through (`true`) every message send from now on.
    pub fn set_open(&self, open: bool) {
        self.gate.send_replace(open);
    }

    /// Runs `f` on what has been received so far.
    pub fn with<T>(&self, f: impl FnOnce(&Received) -> T) -> T {
        match self.received.lock() {
            Ok(r) => f(&r),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }
}

impl Shared {
    /// Waits while the gate is closed.
    async fn pass_gate(&self) {
        let mut open = self.gate.subscribe();
        // An error means the sender is gone: the process is ending, let it through.
        let _ = open.wait_for(|o| *o).await;
    }

    fn record(&self, f: impl FnOnce(&mut Received)) {
        match self.received.lock() {
            Ok(mut r) => f(&mut r),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// Counts a notice to `address`, arrived now.
    fn arrived(&self, address: &str) {
        let now = Instant::now();
        self.record(|r| {
            if r.first.contains_key(address) {
                r.repeats += 1;
            } else {
                r.first.insert(address.to_owned(), now);
            }
        });
    }

    fn refused(&self) {
        self.record(|r| r.refused += 1);
    }
}

/// The SMS gateway's `send`: signed JSON `{mobile, content, requestId, ts}`.
async fn sms_send(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ts = header("x-timestamp");
    let signature_ok = Hmac::<Sha256>::new_from_slice(SMS_SECRET.as_bytes()).is_ok_and(|mut m| {
        m.update(ts.as_bytes());
        m.update(b"\n");
        m.update(&body);
        hex(&m.finalize().into_bytes()) == header("x-signature")
    });
    if !signature_ok {
        s.refused();
        let answer = json!({"code": "SIGNATURE_MISMATCH", "message": "signature does not match"});
        return (StatusCode::UNAUTHORIZED, Json(answer));
    }
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let field = |k: &str| parsed[k].as_str().unwrap_or_default();
    let mobile = field("mobile");
    let request_id = field("requestId");
    let shape_ok = mobile.len() == 11
        && mobile.bytes().all(|b| b.is_ascii_digit())
        && !field("content").is_empty()
        && !request_id.is_empty()
        && field("ts") == ts;
    if !shape_ok {
        s.refused();
        let answer = json!({"code": "BAD_REQUEST", "message": "missing or malformed field"});
        return (StatusCode::BAD_REQUEST, Json(answer));
    }
    s.pass_gate().await;
    s.arrived(mobile);
    let answer =
        json!({"code": "OK", "message": "success", "data": {"bizId": format!("B-{request_id}")}});
    (StatusCode::OK, Json(answer))
}

/// `/cgi-bin/stable_token`: the one token of the bench's account.
async fn stable_token(State(s): State<Arc<Shared>>, Json(body): Json<Value>) -> Json<Value> {
    let ok = body["grant_type"] == "client_credential"
        && body["appid"] == APP_ID
        && body["secret"] == APP_SECRET;
    if !ok {
        s.refused();
        return Json(json!({"errcode": 40125, "errmsg": "invalid appsecret"}));
    }
    s.record(|r| r.token_fetches += 1);
    Json(json!({"access_token": TOKEN, "expires_in": 7200}))
}

/// Customer-service, template and subscribe messages: `?access_token=` and a `touser`.
async fn wechat_send(
    State(s): State<Arc<Shared>>,
    uri: Uri,
    Json(body): Json<Value>,
) -> Json<Value> {
    let token = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned());
    if token.as_deref() != Some(TOKEN) {
        s.refused();
        return Json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    let Some(touser) = body["touser"].as_str().filter(|t| !t.is_empty()) else {
        s.refused();
        return Json(json!({"errcode": 47001, "errmsg": "data format error"}));
    };
    s.pass_gate().await;
    s.arrived(touser);
    Json(json!({"errcode": 0, "errmsg": "ok", "msgid": 1000}))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
