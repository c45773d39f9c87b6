#!/usr/bin/env bash
# Active-active figures for BENCHMARKS.md (issue 17): Submit throughput and latency of one
# gateway on SQLite, one gateway on PostgreSQL and two gateways sharing one PostgreSQL
# database, next to the raw broker ceiling (plain lapin publishing with confirms to a quorum
# queue) measured in the same run. Each configuration gets a fresh store and a fresh vhost on
# the local RabbitMQ; the same total of Submits in flight; `minhu-loadgen bench` as the client
# (two of them, one per gateway, for two gateways). Prints each run's table row and the CPU per
# accepted ticket of the gateways, PostgreSQL's processes and the broker.
#
#   scripts/bench-ha.sh                          # 64 in flight, 20 s per configuration
#   BENCH_IN_FLIGHT=128 BENCH_DURATION=30s scripts/bench-ha.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export RABBITMQ_NODENAME=rabbit@localhost

in_flight=${BENCH_IN_FLIGHT:-64}
duration=${BENCH_DURATION:-20s}
config=config/minhu.toml

scripts/install-deps.sh >/dev/null
scripts/broker.sh start
scripts/pg.sh start
cargo build --release --bins

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  for v in minhu-ha-gw minhu-ha-ceiling; do
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

# CPU ticks (1/100 s) of every process of a user (PostgreSQL's backends come and go).
user_ticks() {
  local sum=0
  for p in $(pgrep -u "$1" || true); do
    [[ -r /proc/$p/stat ]] || continue
    sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$sum"
}

# Starts gateway number $1 (0 or 1) with store settings "$2" ("path=…" or "url=…").
start_gateway() {
  local n=$1 store=$2 grpc=$((50161 + $1)) http=$((8190 + $1))
  local var value
  var=MINHU_STORE__${store%%=*}
  value=${store#*=}
  var=${var^^}
  env "$var=$value" \
    MINHU_AMQP__URL="amqp://guest:guest@127.0.0.1:5672/minhu-ha-gw" \
    MINHU_GRPC__LISTEN="127.0.0.1:$grpc" MINHU_HTTP__LISTEN="127.0.0.1:$http" \
    MINHU_LOG__LEVEL=warn \
    target/release/minhu --config "$config" serve 2>"$work/gateway-$n.log" &
  pids+=($!)
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$http/readyz" >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "gateway $n not ready:" >&2
  cat "$work/gateway-$n.log" >&2
  exit 1
}

stop_gateways() {
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  pids=()
}

# One configuration: $1 its name, $2 the number of gateways, $3 store settings, $4 extra
# loadgen arguments for the first client (the ceiling).
run() {
  local name=$1 count=$2 store=$3 first_extra=$4
  fresh_vhost minhu-ha-gw
  for n in $(seq 0 $((count - 1))); do
    start_gateway "$n" "$store"
  done
  local broker_pid pg_before pg_after
  broker_pid=$(pgrep -f 'beam.smp.*rabbit@localhost' | head -1 || true)
  pg_before=$(user_ticks postgres)
  local clients=()
  for n in $(seq 0 $((count - 1))); do
    local extra="--no-ceiling"
    [[ $n == 0 ]] && extra=$first_extra
    # shellcheck disable=SC2086
    target/release/minhu-loadgen bench --grpc "http://127.0.0.1:$((50161 + n))" \
      --metrics-url "http://127.0.0.1:$((8190 + n))/metrics" \
      --in-flight $((in_flight / count)) --duration "$duration" \
      --cpu-of "gateway=${pids[$n]}" ${broker_pid:+--cpu-of "broker=$broker_pid"} \
      $extra >"$work/bench-$n.txt" &
    clients+=($!)
  done
  for c in "${clients[@]}"; do wait "$c"; done
  pg_after=$(user_ticks postgres)
  printf '\n## %s\n' "$name"
  local accepted=0
  for n in $(seq 0 $((count - 1))); do
    grep -E "^(cpu|gateway):" "$work/bench-$n.txt" | sed "s/^/[gateway $n] /"
    tail -1 "$work/bench-$n.txt"
    accepted=$((accepted + $(grep -oE '^gateway: [0-9]+ submitted, [0-9]+ accepted' "$work/bench-$n.txt" | awk '{print $4}')))
  done
  if [[ $store == url=* && $accepted -gt 0 ]]; then
    printf 'cpu: PostgreSQL (all its processes) spent %d µs per accepted ticket\n' \
      $(( (pg_after - pg_before) * 10000 / accepted ))
  fi
  stop_gateways
}

printf '\nmachine: %s cores, %s; %s; %s\n' "$(nproc)" "$(uname -m)" \
  "$(rabbitmqctl version 2>/dev/null | head -1 | sed 's/^/RabbitMQ /')" \
  "$(psql --version)"
fresh_vhost minhu-ha-ceiling
run "one gateway, SQLite" 1 "path=$work/store/minhu.db" \
  "--amqp-url amqp://guest:guest@127.0.0.1:5672/minhu-ha-ceiling"
url=$(scripts/pg.sh fresh-db minhu_bench_one)
run "one gateway, PostgreSQL" 1 "url=$url" "--no-ceiling"
url=$(scripts/pg.sh fresh-db minhu_bench_two)
run "two gateways, one PostgreSQL database" 2 "url=$url" "--no-ceiling"
