//! HTTP endpoints of the wechat channel.
use axum::Router;

use super::ChannelContext;

/// The wechat routes (none until the adapter is written).
pub fn routes(_ctx: ChannelContext) -> Router {
    Router::new()
}
