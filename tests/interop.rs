//! A new user's view: a Python client generated from `proto/` with the reference protoc
//! (grpcio-tools) submits through the real gateway, and a pika consumer reads the department
//! queue. Proves the contract holds outside Rust, tonic and lapin.
//!
//! Needs the venv `scripts/install-deps.sh` creates (see `common::python`).
mod common;

use common::broker::TestVhost;
use common::gateway::{Gateway, Options};
use common::python::run_script;

#[tokio::test]
async fn a_python_grpc_client_and_a_pika_consumer_work_unchanged() {
    let vhost = TestVhost::new("interop");
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), &Options::new(&vhost.url)).await;
    let grpc = gw.grpc.to_string();
    let ran = run_script("client.py", &["--grpc", &grpc, "--amqp", &vhost.url]).await;
    assert!(
        ran.success,
        "python interop client failed:\n{}\ngateway log:\n{}",
        ran.text,
        gw.log_text()
    );
    assert!(ran.text.contains("interop ok T"), "{}", ran.text);
}
