//! HTTP endpoints of the hotline12345 channel.
use axum::Router;

use super::ChannelContext;

/// The hotline12345 routes (none until the adapter is written).
pub fn routes(_ctx: ChannelContext) -> Router {
    Router::new()
}
