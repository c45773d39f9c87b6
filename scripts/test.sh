#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, and every test of the workspace
# against a real RabbitMQ, a real three-node RabbitMQ cluster and a real PostgreSQL (all started
# here if they are not running; tests/broker_cluster.rs kills and restarts a cluster node), then
# the library's tests once more with the store on PostgreSQL. Exits non-zero on any failure.
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

step "Starting the RabbitMQ cluster (minhu-1..3@localhost, ports 5681-5683)"
scripts/broker.sh cluster start

step "Starting PostgreSQL (target/pg, port 55432)"
scripts/pg.sh start

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace"
mkdir -p target
status=0
cargo test --workspace 2>&1 | tee target/test-output.log || status=$?

step "cargo test --lib on the PostgreSQL store (STORE_TESTS_PG_URL)"
# The library's tests again with every store-level test on PostgreSQL: a fresh database, a
# schema per test (src/store/test_db.rs).
pg_url="$(scripts/pg.sh fresh-db minhu_store_tests)"
STORE_TESTS_PG_URL="$pg_url" cargo test --lib 2>&1 | tee -a target/test-output.log || status=$?
# One total over every test binary, as the last word on the run (the last binary cargo runs
# is a doc-test with nothing in it, which would otherwise read as "no test ran").
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' \
  target/test-output.log | tee target/test-summary.txt
if ((status != 0)); then
  exit "$status"
fi

step "Fuzzing every parser briefly (scripts/fuzz.sh --short)"
scripts/fuzz.sh --short

step "All checks passed"
