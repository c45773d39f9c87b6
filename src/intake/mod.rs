//! The doors reports come in by, and the one path they all take.
//!
//! - [`pipeline`]: validate → route → store; shared by every door.
//! - [`validate`]: the request contract, with the field to blame.
//! - [`error`]: intake errors and their gRPC and HTTP mappings.
//! - [`grpc`]: the `minhu.v1.Gateway` service.
//! - [`grpc_incoming`]: gRPC connections, cut when silent (slowloris).
//! - [`http`]: health, readiness, metrics; adapters mount here.
//! - [`http_serve`]: the HTTP accept loop (TLS, slow-client timeouts).
//! - [`channels`]: the channel adapters' HTTP endpoints (WeChat, mailbox, ...).
pub mod channels;
pub mod error;
pub mod grpc;
pub mod grpc_incoming;
pub mod http;
pub mod http_serve;
pub mod pipeline;
pub mod validate;

pub use error::IntakeError;
pub use pipeline::Intake;
