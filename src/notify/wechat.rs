//! The wechat sender (to be built): see [`crate::config::notify::wechat`].
