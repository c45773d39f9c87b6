//! A minimal HTTP/1.1 client for the mailbox endpoints (one request per connection), and the
//! `[adapters.mailbox]` config the end-to-end tests run with.
use std::net::SocketAddr;
use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The `[adapters.mailbox]` section: attachments under `dir`, a 64 KiB message limit, and
/// `token` if not empty.
pub fn mailbox_config(dir: &Path, token: &str) -> String {
    format!(
        "[adapters.mailbox]\nenabled = true\nsource_system = \"mailbox:test\"\n\
         attachments_dir = \"{}\"\nmax_message_bytes = 65536\ntoken = \"{token}\"\n",
        dir.join("attachments").display()
    )
}

/// An answer: status code and JSON body (Null if the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub json: serde_json::Value,
}

impl Answer {
    pub fn str(&self, key: &str) -> &str {
        self.json[key].as_str().unwrap_or_default()
    }
}

/// POSTs `body` to `path` with `content_type` and optional extra header lines.
pub async fn post(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    headers: &str,
    body: &[u8],
) -> Answer {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect HTTP");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: {content_type}\r\n\
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

/// POSTs a raw message to `/v1/mailbox/messages`.
pub async fn post_mail(addr: SocketAddr, headers: &str, raw: &[u8]) -> Answer {
    post(addr, "/v1/mailbox/messages", "message/rfc822", headers, raw).await
}
