//! The sms sender (to be built): see [`crate::config::notify::sms`].
