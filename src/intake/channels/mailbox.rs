//! HTTP endpoints of the mailbox channel.
use axum::Router;

use super::ChannelContext;

/// The mailbox routes (none until the adapter is written).
pub fn routes(_ctx: ChannelContext) -> Router {
    Router::new()
}
