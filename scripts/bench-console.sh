#!/usr/bin/env bash
# Issue 16's console figures (BENCHMARKS.md, "Console pages (issue 16)"): the lights board and
# the departments page at 100,000 open cases. Builds release binaries, starts RabbitMQ, then:
#
#   1. fills a fresh store in process through the gateway's own code (`minhu-loadgen console
#      fill`): $BENCH_CONSOLE_OPEN open cases and $BENCH_CONSOLE_SCORED completed, rated and
#      scored ones, opened every 12 hours over the last $BENCH_CONSOLE_DAYS days on a wall clock
#      moved by libfaketime, the scheduler running all along; the fill deletes the outbox rows
#      at the end as the relay deletes confirmed ones, so the gateway does not publish the fill;
#   2. starts the gateway (release, real clock) on that store with [auth] on and a console
#      token of the coordination centre, on a vhost of its own;
#   3. logs in over HTTP and requests each page one at a time, $BENCH_CONSOLE_REQUESTS times
#      after a warm-up: /healthz and the stylesheet (the baseline), the lights board, the
#      board filtered by district and red light, the departments page; prints p50/p99/max and
#      the gateway's CPU per render (from /proc/PID/stat).
#
#   scripts/bench-console.sh
#   BENCH_CONSOLE_OPEN=10000 BENCH_CONSOLE_SCORED=3000 scripts/bench-console.sh   # a quick look
#   BENCH_CONSOLE_STORE=/tmp/kept.db scripts/bench-console.sh   # reuse (or keep) a filled store
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export RABBITMQ_NODENAME=rabbit@localhost
PATH="$PATH:/usr/sbin"

open=${BENCH_CONSOLE_OPEN:-100000}
scored=${BENCH_CONSOLE_SCORED:-30000}
days=${BENCH_CONSOLE_DAYS:-28}
requests=${BENCH_CONSOLE_REQUESTS:-200}
kept_store=${BENCH_CONSOLE_STORE:-}
target_dir=${CARGO_TARGET_DIR:-target}
grpc_port=${BENCH_GRPC_PORT:-50163}
http_port=${BENCH_HTTP_PORT:-8193}
vhost=minhu-bench-console
# The open states (src/handling/machine.rs OPEN_SQL).
open_states="1, 2, 3, 4, 7, 8"

scripts/install-deps.sh
scripts/broker.sh start
cargo build --release --bin minhu --bin minhu-loadgen
bin="$target_dir/release"

work=$(mktemp -d "${TMPDIR:-/tmp}/minhu-consolebench.XXXXXX")
gateway_pid=""
cleanup() {
  if [[ -n $gateway_pid ]]; then
    kill -TERM "$gateway_pid" 2>/dev/null || true
    wait "$gateway_pid" 2>/dev/null || true
  fi
  rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

store=${kept_store:-$work/store/minhu.db}
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
# The sample service file with [auth] on: the coordination centre's console token.
{
  sed '/^\[auth\]/,/^\[/{/^\[auth\]/d;/^\[/!d}' config/minhu.toml
  printf '\n[auth]\nenabled = true\n[[auth.callers]]\nid = "centre"\n'
  printf 'token_sha256 = "%s"\n' "$(printf '%s\n' "$token" | "$bin/minhu" auth hash-token)"
  printf 'departments = ["coordination-centre"]\ncoordination = true\nscopes = ["console:read", "console:act"]\n'
} >"$work/minhu.toml"
ln -s "$root/config/routing.toml" "$work/routing.toml"
ln -s "$root/config/taxonomy.toml" "$work/taxonomy.toml"
ln -s "$root/config/calendar" "$work/calendar"
ln -s "$root/config/areas" "$work/areas"

printf '\nmachine: %s cores, %s; %s; %s; load average %s\n' "$(nproc)" "$(uname -m)" \
  "$(rabbitmqctl version 2>/dev/null | head -1 | sed 's/^/RabbitMQ /')" "$(rustc --version)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"

if [[ -n $kept_store && -s $kept_store ]]; then
  echo "== reusing the store $kept_store"
else
  # The fill's wall clock: an offset from the real one that libfaketime reads from a file
  # (again every second); the fill moves it itself. The monotonic clock stays real.
  preload=$(faketime now env | sed -n 's/^LD_PRELOAD=//p')
  echo "+0" >"$work/faketime"
  echo "== filling $store: $open open and $scored scored cases over $days days"
  env "LD_PRELOAD=$preload" "FAKETIME_TIMESTAMP_FILE=$work/faketime" FAKETIME_CACHE_DURATION=1 \
    FAKETIME_DONT_FAKE_MONOTONIC=1 MINHU_STORE__PATH="$store" MINHU_LOG__LEVEL=warn \
    "$bin/minhu-loadgen" console fill --config "$work/minhu.toml" --open "$open" \
    --scored "$scored" --days "$days" --clock-file "$work/faketime"
fi
du -sh "$store"
now_ms=$(($(date +%s) * 1000))
echo "store: $(sqlite3 "$store" "SELECT COUNT(*) FROM cases WHERE status IN ($open_states)") cases not completed or closed, $(sqlite3 "$store" "SELECT COUNT(*) FROM case_scores WHERE counted_at >= $now_ms - 30 * 86400000") scored in the last 30 days, $(sqlite3 "$store" 'SELECT COUNT(*) FROM outbox') outbox rows"

rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
rabbitmqctl -q add_vhost "$vhost" >/dev/null
rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
MINHU_STORE__PATH="$store" MINHU_AMQP__URL="amqp://guest:guest@127.0.0.1:5672/$vhost" \
  MINHU_GRPC__LISTEN="127.0.0.1:$grpc_port" MINHU_HTTP__LISTEN="127.0.0.1:$http_port" \
  MINHU_LOG__LEVEL=warn NO_COLOR=1 \
  "$bin/minhu" --config "$work/minhu.toml" serve 2>"$work/gateway.log" &
gateway_pid=$!
for _ in $(seq 600); do
  curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
# The scheduler's catch-up since the fill ended, published before anything is timed.
for _ in $(seq 600); do
  depth=$(curl -fsS "http://127.0.0.1:$http_port/metrics" | awk '$1 == "minhu_outbox_depth" {print $2}')
  [[ $depth == 0 ]] && break
  sleep 0.5
done
echo "gateway: pid $gateway_pid, outbox depth ${depth:-?} before timing; load average $(cut -d' ' -f1-3 /proc/loadavg)"

open_cases=$(sqlite3 "$store" "SELECT COUNT(*) FROM cases WHERE status IN ($open_states)")
"$bin/minhu-loadgen" console pages --url "http://127.0.0.1:$http_port" --token "$token" \
  --requests "$requests" --gateway-pid "$gateway_pid" --cases "$open_cases"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if grep -iE 'error|panick' "$work/gateway.log" | grep -qv 'NOT_FOUND - no queue'; then
  echo "gateway log (errors):"
  grep -iE 'error|panick' "$work/gateway.log" | grep -v 'NOT_FOUND - no queue' | head -20
fi
