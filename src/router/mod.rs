//! Routing: which department handles a case, at which level, by when.
//!
//! - [`compile`]: turns `config/routing.toml` into a [`Router`], reporting every problem;
//!   `compile/tree.rs` compiles the rule tree and each rule's action.
//! - `conditions`: parsing and checking rule conditions and linkage rules.
//! - [`coverage`]: how far deadlines reach into the calendars: provisional years, recounts.
//! - [`rules`]: one rule's conditions against a request (and why, for explain).
//! - [`decide`]: the rule tree walk: lead, co-handlers, linkage, inferred category.
//! - [`area`]: GeoJSON areas and point-in-polygon.
//! - [`calendar`]: working-day calendars (`config/calendar/<year>.toml`), provisional years.
//! - [`deadline`]: deadlines in working days or hours.
//! - [`infer`]: a category from the text when the channel gives none (taxonomy keywords).
//! - [`cases`]: routing tests as data, for `minhu routes test`.
//! - [`explain`]: `minhu routes explain`'s report.
//! - [`live`]: the router in service, swapped atomically on reload; routing metrics.
//! - [`reload`]: reloading on SIGHUP and on file change.
//! - [`history`]: the last loads of the routing file, refused ones with why (console 路由).
//! - [`recount`]: provisional deadlines counted again once a year's official calendar is in.
//!
//! A `Router` is immutable; a new routing file makes a new `Router` (hot reload swaps whole
//! routers, so no ticket is ever routed half by one version and half by another).
pub mod area;
pub mod calendar;
pub mod cases;
pub mod compile;
mod conditions;
pub mod coverage;
pub mod deadline;
pub mod decide;
pub mod explain;
pub mod history;
pub mod infer;
pub mod live;
pub mod recount;
pub mod reload;
pub mod rules;

pub use compile::Router;
pub use decide::{CoHandler, Explanation, LinkageHit, Routed};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tree_tests;

#[cfg(test)]
mod coverage_tests;

#[cfg(test)]
mod clocks_tests;

#[cfg(test)]
mod escalation_tests;
