//! Observability: logging set-up, masking of personal data, and metrics.
pub mod logging;
pub mod mask;
pub mod metrics;

pub use metrics::Metrics;
