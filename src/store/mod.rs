//! The durable store.
mod error;
mod model;

pub use error::StoreError;
pub use model::*;
