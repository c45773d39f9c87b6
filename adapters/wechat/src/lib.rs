//! WeChat official account and mini-program adapter: pure translation of pushes into
//! `minhu.v1.Request`, plus the protocol pieces (signatures, AES "safe mode", passive replies).
//! No gateway internals, no async runtime: the gateway's HTTP handler (or an edge process)
//! does the I/O and calls, in order:
//!
//! 1. [`protocol::Query::parse`] on the URL's query string;
//! 2. [`protocol::verify_server`] (GET) or [`protocol::open_push`] (POST): signature, timestamp
//!    window, safe-mode decryption and AppId check, strict XML ([`xml`]), typed [`Message`];
//! 3. [`translate::translate`] → a canonical `Request`, or no ticket for events;
//! 4. [`reply::text`] with the ticket number, sealed by [`protocol::seal_reply`] in safe mode.
//!
//! Mini-program JSON submissions: [`miniprogram`]. Coordinates: [`gcj02`]. Answering citizens
//! (customer-service, template and subscribe messages, access tokens): [`outbound`]. Their
//! ratings by reply ("1" 满意, "0 还是坏的"), and what they are told: [`rating_reply`].
#![forbid(unsafe_code)]

pub mod crypto;
pub mod error;
pub mod gcj02;
pub mod message;
pub mod miniprogram;
pub mod outbound;
pub mod protocol;
pub mod rating_reply;
pub mod reply;
pub mod translate;
pub mod xml;

pub use error::WechatError;
pub use message::{Body, Header, Message};
pub use protocol::{AccountKeys, Inbound, Query};
pub use translate::{Outcome, translate};
