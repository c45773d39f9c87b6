//! A minimal HTTP/1.1 client for the mailbox endpoints (one request per connection), and the
//! `[adapters.mailbox]` config the end-to-end tests run with.
use std::net::SocketAddr;
use std::path::Path;

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
    let r = crate::common::http::send(addr, "POST", path, content_type, headers, body).await;
    Answer {
        status: r.status,
        json: r.json(),
    }
}

/// POSTs a raw message to `/v1/mailbox/messages`.
pub async fn post_mail(addr: SocketAddr, headers: &str, raw: &[u8]) -> Answer {
    post(addr, "/v1/mailbox/messages", "message/rfc822", headers, raw).await
}
