//! Observability: logging set-up, masking of personal data, and metrics (`intake`: reports by
//! channel and disposition).
pub mod intake;
pub mod logging;
pub mod mask;
pub mod metrics;

pub use metrics::Metrics;
