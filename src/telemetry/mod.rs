//! Observability: logging set-up, masking of personal data, and metrics (`intake`: reports by
//! channel and disposition; `confirms`: how long the outbox has waited for a broker confirm;
//! `queues`: the department queues' depths; `scheduler`: the scheduler's counters). The parts that measure (the relay, the poller)
//! write these; the pages and `/metrics` read them.
pub mod confirms;
pub mod intake;
pub mod logging;
pub mod mask;
pub mod metrics;
pub mod queues;
pub mod scheduler;

pub use metrics::Metrics;
