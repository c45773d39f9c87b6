//! What every Minhu channel adapter shares. Adapters are pure translators (input bytes →
//! `minhu.v1.Request`) so they can run inside the gateway or as a small edge process that
//! forwards requests over gRPC; nothing here knows about the gateway's internals.
#![forbid(unsafe_code)]

pub use minhu_proto::v1 as pb;
