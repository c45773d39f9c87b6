//! The email sender (to be built): see [`crate::config::notify::email`].
