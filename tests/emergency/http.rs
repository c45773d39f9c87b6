//! A minimal HTTP/1.1 client for `POST /v1/emergency/transfers` (one request per connection),
//! and the `[adapters.emergency]` config the end-to-end tests run with.
use std::net::SocketAddr;

/// The token of the test centre `xian-119` (allowed lines 119 and 122).
pub const TOKEN_119: &str = "test-token-xian-119-0123456789abcdef";
/// The token of the test centre `xian-110` (allowed line 110).
pub const TOKEN_110: &str = "test-token-xian-110-0123456789abcdef";

/// The `[adapters.emergency]` section: two centres and a batch limit of 5.
pub fn emergency_config() -> String {
    let digest = minhu_adapter_emergency::auth::token_sha256_hex;
    format!(
        "[adapters.emergency]\nenabled = true\nmax_batch = 5\n\
         [[adapters.emergency.centres]]\nid = \"xian-119\"\ntoken_sha256 = \"{}\"\nlines = [\"119\", \"122\"]\n\
         [[adapters.emergency.centres]]\nid = \"xian-110\"\ntoken_sha256 = \"{}\"\nlines = [\"110\"]\n",
        digest(TOKEN_119),
        digest(TOKEN_110)
    )
}

/// An answer: status code and JSON body (Null if the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub json: serde_json::Value,
}

impl Answer {
    /// `key` of the n-th item result.
    pub fn item(&self, n: usize, key: &str) -> &str {
        self.json["results"][n][key].as_str().unwrap_or_default()
    }

    /// A top-level string.
    pub fn str(&self, key: &str) -> &str {
        self.json[key].as_str().unwrap_or_default()
    }
}

/// POSTs `body` as `content_type` with `token` (none if empty).
pub async fn post_as(addr: SocketAddr, token: &str, content_type: &str, body: &[u8]) -> Answer {
    let auth = if token.is_empty() {
        String::new()
    } else {
        format!("Authorization: Bearer {token}\r\n")
    };
    let path = "/v1/emergency/transfers";
    let r = crate::common::http::send(addr, "POST", path, content_type, &auth, body).await;
    Answer {
        status: r.status,
        json: r.json(),
    }
}

/// POSTs a JSON body with `token`.
pub async fn post(addr: SocketAddr, token: &str, body: &[u8]) -> Answer {
    post_as(addr, token, "application/json", body).await
}
