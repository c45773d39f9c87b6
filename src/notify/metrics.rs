//! The notifier's counters (to be built).
