//! A new user's view: a Python client generated from `proto/` with the reference protoc
//! (grpcio-tools) submits through the real gateway, and a pika consumer reads the department
//! queue. Proves the contract holds outside Rust, tonic and lapin.
//!
//! Needs the venv `scripts/install-deps.sh` creates (`target/interop-venv`, or set
//! `INTEROP_PYTHON`). Never skips: without it, the test fails and says how to get it.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::broker::TestVhost;
use common::gateway::{Gateway, Options};

fn python() -> PathBuf {
    let p = std::env::var_os("INTEROP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/interop-venv/bin/python")
        });
    assert!(
        p.exists(),
        "{} not found: run scripts/install-deps.sh (it creates a venv with grpcio-tools, grpcio-health-checking and pika)",
        p.display()
    );
    p
}

#[tokio::test]
async fn a_python_grpc_client_and_a_pika_consumer_work_unchanged() {
    let python = python();
    let vhost = TestVhost::new("interop");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tokio::task::spawn_blocking({
        let (grpc, amqp) = (gw.grpc.to_string(), vhost.url.clone());
        move || {
            Command::new(python)
                .arg(root.join("tests/interop/client.py"))
                .args([
                    "--proto",
                    &root.join("proto").to_string_lossy(),
                    "--grpc",
                    &grpc,
                    "--amqp",
                    &amqp,
                ])
                .output()
                .expect("run python")
        }
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "python interop client failed:\n{text}\ngateway log:\n{}",
        gw.log_text()
    );
    assert!(text.contains("interop ok T"), "{text}");
}
