//! A minimal HTTP/1.1 client for the hotline endpoint (one request per connection).
use std::net::SocketAddr;

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
    let r = crate::common::http::send(addr, "POST", path, "application/json", headers, body).await;
    Answer {
        status: r.status,
        json: r.json(),
    }
}
