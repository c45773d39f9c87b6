//! Configuration: typed files, loading, and validation.
//!
//! - [`service`]: `config/minhu.toml` (listeners, broker, store, limits, logs).
//! - [`adapters`]: `[adapters.*]` sections of the service file, one file per channel.
//! - [`feedback`]: `[feedback]`, the follow-up links (回访) and their form.
//! - [`notify`]: `[notify]`, answering citizens: the ledger's retries and one section per
//!   sender.
//! - [`routing`]: `config/routing.toml` (departments and rules); [`handling`] its `[handling]`
//!   section (returns), [`clocks`] its `[clocks]`, [`escalation`] its `[[escalation]]` chains.
//! - [`load`]: reads both with the `config` crate, applies `MINHU_` environment overrides, and
//!   validates everything, so `serve`, `check-config` and `routes test` share one code path.
//! - [`privacy`]: `[privacy]`, the keys reporters' contacts are sealed with, and their erasure.
//! - `[scores]` is [`crate::scores::Rules`] itself, checked by `Rules::problems` in [`load`].
//! - [`problem`]: a config problem with the file and key it concerns.
//! - [`secret`]: secrets given inline, by environment variable or by file.
//! - [`lines`]: the line a problem's key is on.
pub mod adapters;
pub mod auth;
pub mod clocks;
pub mod escalation;
pub mod feedback;
pub mod handling;
pub mod lines;
pub mod load;
pub mod notify;
pub mod privacy;
pub mod problem;
pub mod rate_limits;
pub mod routing;
pub mod secret;
pub mod service;

pub use load::{Loaded, load};
pub use problem::{ConfigError, Problem};

#[cfg(test)]
mod scores_tests;
