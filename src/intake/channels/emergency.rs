//! HTTP endpoints of the emergency channel.
use axum::Router;

use super::ChannelContext;

/// The emergency routes (none until the adapter is written).
pub fn routes(_ctx: ChannelContext) -> Router {
    Router::new()
}
