//! The notifier task (to be built).
