//! Minhu's protobuf contract, package `minhu.v1`, compiled from `proto/minhu/v1/`.
//!
//! Users depend on these messages: field numbers are never reused and names follow the protobuf
//! style guide. `FILE_DESCRIPTOR_SET` feeds gRPC server reflection.
#![forbid(unsafe_code)]

/// Package `minhu.v1`: the canonical `Request`, `Dispatch`, the `Gateway` service and the
/// departments' `Handling` service.
pub mod v1 {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("minhu.v1");
}

/// The encoded `FileDescriptorSet` of every `minhu.v1` file, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/minhu_descriptor.bin"));
