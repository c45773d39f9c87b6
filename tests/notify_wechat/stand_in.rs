//! The stand-in WeChat API (`tests/interop/wechat_api.py`) as a child process: started with
//! the interop venv's Python on a free port, stopped when dropped (and, with `--parent-watch`,
//! by itself when this test process goes away without dropping it).
#![allow(dead_code)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running stand-in.
pub struct StandIn {
    pub base: String,
    http: reqwest::Client,
    _child: Child,
}

impl StandIn {
    /// Starts the stand-in with `args` (`--app wx1:secret`, `--closed o1`, ...).
    pub async fn start(args: &[&str]) -> StandIn {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/wechat_api.py");
        let mut child = Command::new(crate::common::python::python())
            .arg(script)
            .args(["--port", "0", "--parent-watch"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start tests/interop/wechat_api.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        tokio::time::timeout(Duration::from_secs(20), reader.read_line(&mut line))
            .await
            .expect("the stand-in printed no port within 20 s")
            .expect("read the stand-in's port");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the stand-in printed {line:?}, not its port"));
        StandIn {
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            _child: child,
        }
    }

    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("stand-in GET");
        r.json().await.expect("stand-in JSON")
    }

    async fn post(&self, path: &str, body: Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("stand-in POST");
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }

    /// Every message the stand-in accepted, in order.
    pub async fn messages(&self) -> Vec<Value> {
        match self.get("/_stand_in/messages").await["messages"].take() {
            Value::Array(v) => v,
            other => panic!("messages: {other}"),
        }
    }

    /// Token fetches, send calls and answers by errcode.
    pub async fn stats(&self) -> Value {
        self.get("/_stand_in/stats").await
    }

    /// Every token answers 42001 (expired) from now on.
    pub async fn expire_tokens(&self) {
        self.post("/_stand_in/expire_tokens", Value::Null).await;
    }

    /// Every token answers 40001 from now on, though `stable_token` keeps handing it out
    /// until a forced refresh.
    pub async fn reject_tokens(&self) {
        self.post("/_stand_in/reject_tokens", Value::Null).await;
    }

    /// Replaces the given control settings (`closed`, `unsubscribed`, `busy_every`, ...).
    pub async fn configure(&self, settings: Value) {
        self.post("/_stand_in/config", settings).await;
    }
}
