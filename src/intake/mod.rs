//! The doors reports come in by, and the one path they all take.
//!
//! - [`pipeline`]: validate → route → store; shared by every door.
//! - [`validate`]: the request contract, with the field to blame.
//! - [`error`]: intake errors and their gRPC and HTTP mappings.
//! - [`grpc`]: the `minhu.v1.Gateway` service.
//! - [`http`]: health, readiness, metrics; adapters mount here.
//! - [`channels`]: the channel adapters' HTTP endpoints (WeChat, mailbox, ...).
pub mod channels;
pub mod error;
pub mod grpc;
pub mod http;
pub mod pipeline;
pub mod validate;

pub use error::IntakeError;
pub use pipeline::Intake;
