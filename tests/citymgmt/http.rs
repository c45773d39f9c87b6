//! A minimal HTTP/1.1 client for the city-management and Open311 endpoints (one request per
//! connection).
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An answer: status, Content-Type and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    /// The body as JSON (Null if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Sends `method path` with an optional body of `content_type`.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Answer {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect HTTP");
    let ct = if content_type.is_empty() {
        String::new()
    } else {
        format!("Content-Type: {content_type}\r\n")
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{ct}Content-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("write head");
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
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    Answer {
        status,
        content_type,
        body: body.to_owned(),
    }
}

pub async fn get(addr: SocketAddr, path: &str) -> Answer {
    send(addr, "GET", path, "", b"").await
}

pub async fn post_event(addr: SocketAddr, body: &[u8]) -> Answer {
    send(
        addr,
        "POST",
        "/v1/citymgmt/events",
        "application/json",
        body,
    )
    .await
}

pub async fn post_form(addr: SocketAddr, path: &str, body: &[u8]) -> Answer {
    send(
        addr,
        "POST",
        path,
        "application/x-www-form-urlencoded",
        body,
    )
    .await
}

/// The element names of an XML document, in order; panics if it is not well-formed.
pub fn xml_elements(text: &str) -> Vec<String> {
    use minhu_adapter_citymgmt::quick_xml::{Reader, events::Event};
    let mut r = Reader::from_str(text);
    let mut names = Vec::new();
    loop {
        match r.read_event() {
            Ok(Event::Start(s)) => names.push(s.name().into_inner().to_owned()),
            Ok(Event::Empty(s)) => names.push(s.name().into_inner().to_owned()),
            Ok(Event::Eof) => return names,
            Ok(_) => {}
            Err(e) => panic!("not well-formed XML ({e}):\n{text}"),
        }
    }
}
