//! The department side of the closed loop (闭环): what happens to a case after its hand-off.
//!
//! - [`machine`]: the one state machine (签收 → 办理 → 办结, 退单 → 改派, 延期), as a table.
//! - [`validate`]: what every update must carry, with the field to blame.
//! - [`path`]: the one path both doors share: validate → authorize → route a move → the
//!   store's writer decides and applies (`crate::store::updates`).
//! - [`grpc`]: the `minhu.v1.Handling` service.
//! - [`rating`]: the citizens' ratings after completion (回访), and the reopen (二次办理) or
//!   supervision a "not solved" causes; [`feedback_grpc`] is its `minhu.v1.Feedback` service,
//!   [`followup_link`] the signed links to the rating form, [`feedback_http`] the form.
//! - [`verification`]: the 数字城管 inspector's verdict (核查): a pass closes the case (结案),
//!   a fail reopens it to its department (返工).
//! - [`scores`]: `GetDepartmentScores`, the 谁呼谁评 rankings read from the kept case scores.
//! - [`amqp`]: the consumer of `minhu.updates`, acking only after the writer committed.
//! - [`error`]: why an update was not applied (mapped to gRPC in `crate::intake::error`).
//! - [`metrics`]: returns by reason, returns that reached the coordination centre, and the
//!   bounce rate read from the store.
//!
//! Ordering: every update names the case version it was based on and is refused (ABORTED) if
//! the case has moved on, so stale and out-of-order updates are never applied. Idempotency: the
//! ledger keeps the first answer per (department, update_id).
pub mod amqp;
pub mod error;
pub mod feedback_grpc;
pub mod feedback_http;
pub mod followup_link;
pub mod grpc;
pub mod machine;
pub mod metrics;
pub mod path;
pub mod rating;
pub mod scores;
pub mod validate;
pub mod verification;

pub use error::HandlingError;
pub use path::Updates;

#[cfg(test)]
mod metrics_tests;
