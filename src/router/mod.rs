//! Routing: which department handles a case, at which level, by when.
//!
//! - [`cases`]: routing tests as data, for `minhu routes test`.
//! - [`compile`]: turns `config/routing.toml` into a [`Router`], reporting every problem.
//! - [`rules`]: matching a request against compiled rules.
//! - [`deadline`]: deadlines in working days or hours.
//! - [`infer`]: a category from the text when the channel gives none (taxonomy keywords).
//!
//! A `Router` is immutable; a new routing file makes a new `Router` (hot reload swaps whole
//! routers, so no ticket is ever routed half by one version and half by another).
pub mod cases;
pub mod compile;
pub mod deadline;
pub mod infer;
pub mod rules;

pub use compile::Router;

#[cfg(test)]
mod tests;
