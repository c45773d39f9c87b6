#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, and every test of the workspace
# against a real RabbitMQ (started here if it is not running). Exits non-zero on any failure.
#
# Tests run with plain `cargo test`, so test binaries run one after another: one of them
# restarts the broker, which must not happen under another binary's feet.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n== %s\n' "$*"; }

step "Installing missing dependencies"
scripts/install-deps.sh

step "Starting RabbitMQ"
scripts/broker.sh start
# The tests talk to (and one of them restarts) this node.
export RABBITMQ_NODENAME=rabbit@localhost

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace"
cargo test --workspace

step "All checks passed"
