#!/usr/bin/env bash
# Issue 14's scheduler figures (BENCHMARKS.md, "Issue 14: the scheduler at 1,000,000 open
# cases"), from a clean machine: installs what is missing, starts RabbitMQ, builds release
# binaries, then with two gateways on a moved wall clock (libfaketime), each with a store and a
# vhost of its own:
#
#   1. seeds them at Monday 09:00 city time through the real Submit, $CLOCKS_BENCH_CASES cases
#      into "big" and $CLOCKS_BENCH_BASELINE_CASES into "small" (the same-run baseline), no
#      two of which merge; the department queues are purged as they fill;
#   2. restarts both with nothing due (start-up times), lets them settle, and reads both
#      gateways' CPU over the same windows: the scheduler's cost at a million open cases is
#      big minus small;
#   3. stops both (SIGTERM), moves the clock past every unit's sign-for yellow (2 of its 4
#      working hours), and starts each again, timing from the exec to "minhu serving" and to
#      the first message on minhu.supervision.lights, then follows the catch-up on /metrics;
#      $CLOCKS_BENCH_RESTARTS times, each from a copy of the stores taken before the first.
#
# Deletes its vhosts and stores at the end (CLOCKS_BENCH_KEEP=1 keeps the stores).
#
#   scripts/bench-clocks.sh
#   CLOCKS_BENCH_CASES=100000 CLOCKS_BENCH_WINDOWS=3 scripts/bench-clocks.sh   # a quicker look
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export RABBITMQ_NODENAME=rabbit@localhost
PATH="$PATH:/usr/sbin"

cases=${CLOCKS_BENCH_CASES:-1000000}
baseline_cases=${CLOCKS_BENCH_BASELINE_CASES:-1000}
windows=${CLOCKS_BENCH_WINDOWS:-5}
window=${CLOCKS_BENCH_WINDOW:-120s}
settle=${CLOCKS_BENCH_SETTLE:-60}
follow=${CLOCKS_BENCH_FOLLOW:-30s}
restarts=${CLOCKS_BENCH_RESTARTS:-3}
in_flight=${CLOCKS_BENCH_IN_FLIGHT:-128}
# Monday 2026-12-07 09:00 +08:00, a working day of config/calendar/2026.toml.
seed_at=${CLOCKS_BENCH_START:-1796605200}
target_dir=${CARGO_TARGET_DIR:-target}

scripts/install-deps.sh
scripts/broker.sh start
cargo build --release --bin minhu --bin minhu-loadgen
loadgen="$target_dir/release/minhu-loadgen"

work=$(mktemp -d "${TMPDIR:-/tmp}/minhu-clockbench.XXXXXX")
declare -A pid port
port[small]=50871 port[big]=50872
cleanup() {
  for name in small big; do
    [[ -n ${pid[$name]:-} ]] && stop "$name"
    rabbitmqctl -q delete_vhost "minhu-clockbench-$name" >/dev/null 2>&1 || true
  done
  if [[ ${CLOCKS_BENCH_KEEP:-0} == 1 ]]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# The wall clock of every process started with $fake: an offset from the real clock that
# libfaketime reads from a file, again every second; the monotonic clock stays real.
preload=$(faketime now env | sed -n 's/^LD_PRELOAD=//p')
clock="$work/faketime"
offset=0
move_clock() {
  offset=$(($1 - $(date +%s)))
  printf '%+d\n' "$offset" >"$clock.tmp"
  mv "$clock.tmp" "$clock"
}
fake_now() { echo $(($(date +%s) + offset)); }
fake=(env "LD_PRELOAD=$preload" "FAKETIME_TIMESTAMP_FILE=$clock" FAKETIME_CACHE_DURATION=1
  FAKETIME_DONT_FAKE_MONOTONIC=1)

vhost_url() { echo "amqp://guest:guest@127.0.0.1:5672/minhu-clockbench-$1"; }
metrics_url() { echo "http://127.0.0.1:$((port[$1] - 50000 + 8000))/metrics"; }
# The command line of gateway $1, in the array `cmd`.
gateway() {
  cmd=("${fake[@]}" NO_COLOR=1 MINHU_LOG__LEVEL=info MINHU_STORE__PATH="$work/$1/minhu.db"
    MINHU_AMQP__URL="$(vhost_url "$1")" MINHU_GRPC__LISTEN="127.0.0.1:${port[$1]}"
    MINHU_HTTP__LISTEN="127.0.0.1:$((port[$1] - 50000 + 8000))"
    "$target_dir/release/minhu" --config config/minhu.toml serve)
}

# Starts gateway $1 and times its start-up; extra arguments go to `clocks-bench start`.
start() {
  local name=$1
  shift
  gateway "$name"
  "$loadgen" clocks-bench start --log "$work/$name.log" --pid-file "$work/$name.pid" \
    --metrics-url "$(metrics_url "$name")" "$@" -- "${cmd[@]}" | tee -a "$work/$name.starts"
  pid[$name]=$(cat "$work/$name.pid")
}
# SIGTERM, then wait until it is gone (it is not our child: the load generator started it).
stop() {
  local p=${pid[$1]}
  kill -TERM "$p" 2>/dev/null || true
  while [[ -e /proc/$p && $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) != Z ]]; do
    sleep 0.2
  done
  pid[$1]=""
}
load() { echo "load: $(cut -d' ' -f1-3 /proc/loadavg) ($1)"; }
counter() { curl -fsS "$(metrics_url "$1")" | awk -v n="$2" '$1 == n {print $2}'; }

printf '\nmachine: %s cores, %s; %s; %s\n' "$(nproc)" "$(uname -m)" \
  "$(rabbitmqctl version 2>/dev/null | head -1 | sed 's/^/RabbitMQ /')" "$(rustc --version)"
df -h "$work" | tail -1

# 1. Seed at Monday 09:00 city time.
move_clock "$seed_at"
for name in small big; do
  n=$([[ $name == big ]] && echo "$cases" || echo "$baseline_cases")
  rabbitmqctl -q delete_vhost "minhu-clockbench-$name" >/dev/null 2>&1 || true
  rabbitmqctl -q add_vhost "minhu-clockbench-$name" >/dev/null
  rabbitmqctl -q set_permissions -p "minhu-clockbench-$name" guest '.*' '.*' '.*' >/dev/null
  mkdir -p "$work/$name"
  echo "== $name: empty store, start-up"
  start "$name" --follow 0s
  # The department queues the relay declared once it connected.
  for _ in $(seq 100); do
    mapfile -t queues < <(rabbitmqctl -q list_queues -p "minhu-clockbench-$name" name \
      --no-table-headers 2>/dev/null | grep -E '^minhu\.(dept\.|emergency\.)' || true)
    ((${#queues[@]} > 0)) && break
    sleep 0.2
  done
  purge=()
  for q in "${queues[@]}"; do purge+=(--purge "$q"); done
  echo "== $name: seeding $n cases at $(date -u -d "@$(fake_now)" '+%F %T UTC') (fake clock)"
  "${fake[@]}" "$loadgen" clocks-bench seed --grpc "http://127.0.0.1:${port[$name]}" \
    --metrics-url "$(metrics_url "$name")" --count "$n" --in-flight "$in_flight" \
    --amqp-url "$(vhost_url "$name")" "${purge[@]}"
  stop "$name"
done
seeded_until=$(fake_now)
du -sh "$work/big"
df -h "$work" | tail -1

# 2. Nothing due: start-up, then CPU of both over the same windows.
for name in small big; do
  echo "== $name: restart, nothing due"
  start "$name" --follow 0s
done
echo "== settling for ${settle} s, then ${windows} windows of ${window}"
sleep "$settle"
before_small=$(counter small minhu_clocks_evaluated_total)
before_big=$(counter big minhu_clocks_evaluated_total)
load "before the idle windows"
"$loadgen" clocks-bench idle --cpu-of "small=${pid[small]}" --cpu-of "big=${pid[big]}" \
  --windows "$windows" --window "$window"
echo "idle: units evaluated during the windows: small $(($(counter small minhu_clocks_evaluated_total) - before_small)), big $(($(counter big minhu_clocks_evaluated_total) - before_big))"
load "after the idle windows"
stop small
stop big

# The probe the scheduler makes each second, outside the gateway: 10,000 times on each store
# with the sqlite3 shell (which parses each statement again; the gateway's is prepared once).
awk 'BEGIN { for (i = 0; i < 10000; i++) print "SELECT MIN(next_at) FROM unit_clocks WHERE next_at IS NOT NULL;" }' >"$work/probe.sql"
for name in small big; do
  db="$work/$name/minhu.db"
  echo "probe: $name: unit_clocks rows, with next_at: $(sqlite3 "$db" 'SELECT COUNT(*), COUNT(next_at) FROM unit_clocks')"
  echo "probe: $name: $(sqlite3 "$db" 'EXPLAIN QUERY PLAN SELECT MIN(next_at) FROM unit_clocks WHERE next_at IS NOT NULL' | tail -1)"
  t=$(date +%s%N)
  sqlite3 "$db" <"$work/probe.sql" >/dev/null
  echo "probe: $name: $((($(date +%s%N) - t) / 10000)) ns per probe (sqlite3 shell, 10,000 probes)"
done

# 3. The clock past every unit's sign-for yellow: the later of 2 h 10 min after the seed
# started and 2 h 2 min after it ended (all within Monday's working hours).
restart_at=$((seed_at + 7800))
((seeded_until + 7320 > restart_at)) && restart_at=$((seeded_until + 7320))
move_clock "$restart_at"
echo "== clock moved to $(date -u -d "@$restart_at" '+%F %T UTC')"
# Each restart starts from a copy of the stores as they were before the first one.
for name in small big; do
  cp -a "$work/$name" "$work/$name.due"
  rm -f "$work/$name.starts"
done
for round in $(seq "$restarts"); do
  for name in small big; do
    echo "== $name: restart $round/$restarts after the lights fell due"
    rm -rf "${work:?}/$name"
    cp -a "$work/$name.due" "$work/$name"
    for q in lights leader district city; do
      rabbitmqctl -q purge_queue -p "minhu-clockbench-$name" "minhu.supervision.$q" >/dev/null
    done
    load "before the restart"
    start "$name" --amqp-url "$(vhost_url "$name")" --first-on minhu.supervision.lights \
      --follow "$follow" --stop
    load "after the catch-up"
    pid[$name]=""
  done
done

# Medians over the restarts, in seconds after the exec.
for name in small big; do
  for what in "merge index rebuilt at" "relay starting at" "serving after" "first message after"; do
    grep -ho "$what [0-9][0-9.]*" "$work/$name.starts" | awk '{ print $NF }' | sort -n |
      awk -v n="$name" -v w="$what" '{ v[NR] = $1 } END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "restart: %s: %s: median %.3f s of", n, w, m
        for (i = 1; i <= NR; i++) printf " %s", v[i]
        print ""
      }'
  done
done
