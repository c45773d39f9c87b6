//! HTTP endpoints of the citymgmt channel.
use axum::Router;

use super::ChannelContext;

/// The citymgmt routes (none until the adapter is written).
pub fn routes(_ctx: ChannelContext) -> Router {
    Router::new()
}
