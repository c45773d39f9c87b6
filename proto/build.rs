//! Compiles `minhu/v1/*.proto` with protox (no system protoc needed) and keeps the encoded
//! descriptor set for gRPC server reflection.
use std::{env, fs, path::PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "minhu/v1/request.proto",
        "minhu/v1/dispatch.proto",
        "minhu/v1/gateway.proto",
        "minhu/v1/handling.proto",
        "minhu/v1/supervision.proto",
        "minhu/v1/feedback.proto",
    ];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["."])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("minhu_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
