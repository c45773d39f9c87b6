//! A minimal HTTP/1.1 client for the hotline endpoint (one request per connection).
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An answer: status code and JSON body (Null if the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub json: serde_json::Value,
}

impl Answer {
    /// The result entry of order `i`.
    pub fn item(&self, i: usize) -> &serde_json::Value {
        &self.json["results"][i]
    }
}

/// POSTs `body` (JSON) to `path` with optional extra header lines.
pub async fn post(addr: SocketAddr, path: &str, headers: &str, body: &[u8]) -> Answer {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect HTTP");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n{headers}\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("write head");
    // The server may answer (413) and close before reading it all.
    let _ = s.write_all(body).await;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(serde_json::Value::Null);
    Answer { status, json }
}
