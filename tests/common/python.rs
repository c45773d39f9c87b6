//! The interop tests' Python: the venv `scripts/install-deps.sh` creates
//! (`target/interop-venv`, with grpcio-tools, grpcio-health-checking and pika; or set
//! `INTEROP_PYTHON`), and running one of the scripts in `tests/interop/` with it. Never skips:
//! without the venv, the test fails and says how to get it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv's interpreter; panics with how to get it when it is missing.
pub fn python() -> PathBuf {
    let p = std::env::var_os("INTEROP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/interop-venv/bin/python")
        });
    assert!(
        p.exists(),
        "{} not found: run scripts/install-deps.sh (it creates a venv with grpcio-tools, grpcio-health-checking, pika and aiosmtpd)",
        p.display()
    );
    p
}

/// What a script printed, and whether it exited 0.
pub struct Ran {
    pub success: bool,
    pub stdout: String,
    /// stdout and stderr together, for failure messages.
    pub text: String,
}

/// Runs `tests/interop/<script>` with `--proto <repo>/proto` and `args`, off the async runtime.
pub async fn run_script(script: &str, args: &[&str]) -> Ran {
    let python = python();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(python);
    cmd.arg(root.join("tests/interop").join(script))
        .arg("--proto")
        .arg(root.join("proto"))
        .args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run python"))
        .await
        .expect("python task");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    Ran {
        success: out.status.success(),
        stdout,
        text,
    }
}
