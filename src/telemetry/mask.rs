//! Masking of personal data.
