//! A minimal HTTP/1.1 client for the channel endpoints: one request per connection, the raw
//! answer split into status, head and body. Hand-rolled on purpose: tests must be able to send
//! what a real client would not (wrong lengths, oversized bodies, odd headers).
#![allow(dead_code)]

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// The status line and headers, as received.
    pub head: String,
    pub body: String,
}

impl Reply {
    /// A header's value (case-insensitive name), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The body as JSON (Null if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Sends `method path`; `extra_headers` are complete header lines, each ending in `\r\n`, and a
/// `Content-Type` is added when `content_type` is not empty.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    extra_headers: &str,
    body: &[u8],
) -> Reply {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect HTTP");
    let ct = if content_type.is_empty() {
        String::new()
    } else {
        format!("Content-Type: {content_type}\r\n")
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{ct}Content-Length: {}\r\n{extra_headers}\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("write head");
    // The server may answer (413, 401) and close before reading the body: not an error here.
    let _ = s.write_all(body).await;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}
