//! A minimal HTTP/1.1 client for the city-management and Open311 endpoints (one request per
//! connection).
use std::net::SocketAddr;

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
    let r = crate::common::http::send(addr, method, path, content_type, "", body).await;
    Answer {
        status: r.status,
        content_type: r.header("content-type").unwrap_or_default().to_owned(),
        body: r.body,
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
