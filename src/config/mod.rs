//! Configuration.
pub mod routing;
pub mod service;
