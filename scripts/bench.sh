#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: builds release binaries, starts RabbitMQ, and for each in-flight
# level runs a fresh gateway (new store, own vhost) under `minhu-loadgen bench`, which also
# measures the raw broker ceiling (plain lapin publishing with confirms to a quorum queue) in
# the same run, and before it a bare gRPC call (Health/Check) on the same port. Prints one
# Markdown table row per level, plus the CPU per ticket of the gateway, the broker and the load
# generator, and the gateway's CPU per bare gRPC call.
#
# Then, on another fresh gateway, `minhu-loadgen updates` (issue 14): rounds of Submit (the
# baseline), department updates over gRPC (minhu.v1.Handling) and over AMQP (minhu.updates),
# with rates as ratios to Submit's and CPU and store commits per operation.
#
#   scripts/bench.sh                 # in-flight 32 and 128, 20 s each; then 3 update rounds
#   BENCH_IN_FLIGHT="64 256" BENCH_DURATION=30s scripts/bench.sh
#   BENCH_IN_FLIGHT= BENCH_UPDATE_ROUNDS=5 scripts/bench.sh    # the update rounds only
#   BENCH_UPDATE_ROUNDS=0 scripts/bench.sh                      # no update rounds
#   BENCH_GATEWAY=/path/to/minhu BENCH_CONFIG=/path/to/minhu.toml scripts/bench.sh
#                                    # another gateway build (e.g. an older commit's) and config
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export RABBITMQ_NODENAME=rabbit@localhost

levels=${BENCH_IN_FLIGHT-32 128}
duration=${BENCH_DURATION:-20s}
update_rounds=${BENCH_UPDATE_ROUNDS:-3}
update_cases=${BENCH_UPDATE_CASES:-5000}
update_in_flight=${BENCH_UPDATE_IN_FLIGHT:-128}
gateway_bin=${BENCH_GATEWAY:-target/release/minhu}
config=${BENCH_CONFIG:-config/minhu.toml}
floor_duration=${BENCH_FLOOR_DURATION:-10s}
grpc_port=${BENCH_GRPC_PORT:-50151}
http_port=${BENCH_HTTP_PORT:-8180}

scripts/install-deps.sh
scripts/broker.sh start
cargo build --release --bins

work=$(mktemp -d)
gateway_pid=""
cleanup() {
  if [[ -n $gateway_pid ]]; then
    kill -TERM "$gateway_pid" 2>/dev/null || true
    wait "$gateway_pid" 2>/dev/null || true
  fi
  for v in minhu-bench-gw minhu-bench-ceiling; do
    rabbitmqctl delete_vhost "$v" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

fresh_vhost() {
  rabbitmqctl delete_vhost "$1" >/dev/null 2>&1 || true
  rabbitmqctl add_vhost "$1" >/dev/null
  rabbitmqctl set_permissions -p "$1" guest '.*' '.*' '.*' >/dev/null
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# A gateway on a fresh store and a fresh vhost of its own; sets gateway_pid.
start_gateway() {
  fresh_vhost minhu-bench-gw
  rm -rf "$work/store"
  MINHU_STORE__PATH="$work/store/minhu.db" \
    MINHU_AMQP__URL="amqp://guest:guest@127.0.0.1:5672/minhu-bench-gw" \
    MINHU_GRPC__LISTEN="127.0.0.1:$grpc_port" MINHU_HTTP__LISTEN="127.0.0.1:$http_port" \
    MINHU_LOG__LEVEL=warn \
    "$gateway_bin" --config "$config" serve 2>"$work/gateway.log" &
  gateway_pid=$!
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
}

stop_gateway() {
  kill -TERM "$gateway_pid"
  wait "$gateway_pid" || true
  gateway_pid=""
}

printf '\nmachine: %s cores, %s; %s; %s; gateway %s (%s)\n' "$(nproc)" "$(uname -m)" \
  "$(rabbitmqctl version 2>/dev/null | head -1 | sed 's/^/RabbitMQ /')" "$(rustc --version)" \
  "$gateway_bin" "$config"
broker_pid=$(pgrep -f 'beam.smp.*rabbit' | head -1 || true)
for level in $levels; do
  fresh_vhost minhu-bench-ceiling
  start_gateway
  # Baseline 1: a bare gRPC call on the same port, same connections and calls in flight.
  before=$(cpu_ticks "$gateway_pid")
  target/release/minhu-loadgen grpc-floor --grpc "http://127.0.0.1:$grpc_port" \
    --in-flight "$level" --duration "$floor_duration" | tee "$work/floor.txt"
  after=$(cpu_ticks "$gateway_pid")
  calls=$(grep -oE '^grpc-floor: [0-9]+' "$work/floor.txt" | grep -oE '[0-9]+' || true)
  if [[ -n ${calls:-} && $calls -gt 0 ]]; then
    printf 'grpc-floor: the gateway spent %d µs per call\n' $(( (after - before) * 10000 / calls ))
  fi
  # Submit load, then baseline 2: the raw broker ceiling.
  target/release/minhu-loadgen bench --grpc "http://127.0.0.1:$grpc_port" \
    --metrics-url "http://127.0.0.1:$http_port/metrics" --in-flight "$level" --duration "$duration" \
    --cpu-of "gateway=$gateway_pid" ${broker_pid:+--cpu-of "broker=$broker_pid"} \
    --amqp-url "amqp://guest:guest@127.0.0.1:5672/minhu-bench-ceiling" >"$work/bench.txt"
  grep -E "^(cpu|gateway):" "$work/bench.txt" || true
  tail -1 "$work/bench.txt"
  stop_gateway
done

# Issue 14: department updates over gRPC and over AMQP against Submit, on a fresh gateway.
if [[ $update_rounds -gt 0 ]]; then
  start_gateway
  target/release/minhu-loadgen updates --grpc "http://127.0.0.1:$grpc_port" \
    --metrics-url "http://127.0.0.1:$http_port/metrics" \
    --amqp-url "amqp://guest:guest@127.0.0.1:5672/minhu-bench-gw" \
    --in-flight "$update_in_flight" --cases "$update_cases" --rounds "$update_rounds" \
    --cpu-of "gateway=$gateway_pid" ${broker_pid:+--cpu-of "broker=$broker_pid"}
  stop_gateway
fi
