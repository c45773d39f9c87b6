//! Minhu hotline12345 adapter: pure translation into `minhu.v1.Request` plus the channel's protocol pieces. No gateway internals.
#![forbid(unsafe_code)]
