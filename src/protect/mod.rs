//! Protection of the doors: who may call ([`auth`]), how often ([`ratelimit`]), and the
//! counters of what was refused ([`metrics`]). The pipeline calls these between validation and
//! the store; the listeners install the transport side (TLS, credentials).
pub mod amqps;
pub mod auth;
pub mod metrics;
pub mod ratelimit;
pub mod tls;

pub use ratelimit::{Limited, RateLimits, Scope};
