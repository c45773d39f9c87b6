//! Builds WeChat pushes (plain and safe mode) and sends raw HTTP to the gateway, for the
//! end-to-end tests. Kept here rather than in `tests/common` because only the WeChat tests use
//! it.
use std::net::SocketAddr;

use minhu_adapter_wechat::crypto::{Cipher, signature};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const TOKEN: &str = "e2e-token";
pub const AES_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
pub const APP_ID: &str = "wx5d8f1a2b3c4d5e6f";
pub const GH: &str = "gh_3f2a1b0c9d8e";
pub const MP_APP_ID: &str = "wxminiprogram0001";
pub const MP_SECRET: &str = "mini-program-secret-for-tests";

/// The `[adapters.wechat]` section the end-to-end gateway runs with.
pub fn config() -> String {
    format!(
        "[adapters.wechat]\nenabled = true\ntoken = \"{TOKEN}\"\nencoding_aes_key = \"{AES_KEY}\"\n\
         app_id = \"{APP_ID}\"\nmax_body_bytes = 8192\nminiprogram_app_id = \"{MP_APP_ID}\"\n\
         miniprogram_secret = \"{MP_SECRET}\"\n"
    )
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// An ordinary message's XML from `openid`.
pub fn message(openid: &str, msg_type: &str, fields: &str, msg_id: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{GH}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
         <CreateTime>{}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{fields}\
         <MsgId>{msg_id}</MsgId></xml>",
        now()
    )
}

pub fn text(openid: &str, content: &str, msg_id: &str) -> String {
    message(
        openid,
        "text",
        &format!("<Content><![CDATA[{content}]]></Content>"),
        msg_id,
    )
}

/// The query string of a plain-mode push signed with `token`.
pub fn plain_query(token: &str) -> String {
    let ts = now().to_string();
    let sig = signature(&[token, &ts, "8842"]);
    format!("signature={sig}&timestamp={ts}&nonce=8842&openid=o1")
}

/// A safe-mode push of `inner`: (query, body).
pub fn safe(inner: &str) -> (String, String) {
    let cipher = Cipher::new(AES_KEY).expect("key");
    envelope(&cipher.encrypt(inner, APP_ID, *b"random-16-bytes!"))
}

/// A correctly signed safe-mode envelope around any `Encrypt` value: (query, body).
pub fn envelope(encrypt: &str) -> (String, String) {
    let ts = now().to_string();
    let q = format!(
        "signature={}&timestamp={ts}&nonce=99&encrypt_type=aes&msg_signature={}",
        signature(&[TOKEN, &ts, "99"]),
        signature(&[TOKEN, &ts, "99", encrypt])
    );
    let body = format!(
        "<xml><ToUserName><![CDATA[{GH}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    );
    (q, body)
}

/// An HTTP/1.0 request; returns (status, body). Write errors are ignored so a server that
/// answers 413 before reading everything still yields its answer.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: test\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = s.write_all(head.as_bytes()).await;
    let _ = s.write_all(body).await;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// POSTs a push to `/v1/wechat?<query>`.
pub async fn post(addr: SocketAddr, query: &str, body: &str) -> (u16, String) {
    http(
        addr,
        "POST",
        &format!("/v1/wechat?{query}"),
        &[("Content-Type", "text/xml".into())],
        body.as_bytes(),
    )
    .await
}
