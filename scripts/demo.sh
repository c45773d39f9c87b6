#!/usr/bin/env bash
# Minhu end to end on one machine: installs what is missing, starts RabbitMQ, builds, starts the
# gateway on the sample config with a fresh store, sends sample reports through every channel,
# and shows how many messages wait in each department queue.
#
#   scripts/demo.sh          keep the gateway running until Ctrl-C
#   scripts/demo.sh --once   stop after showing the queues (also: DEMO_ONCE=1)
#
# DEMO_DATA_DIR=dir keeps the store (minhu.db) and the gateway log in dir instead of a temporary
# folder that is removed at the end. MINHU_GRPC__LISTEN / MINHU_HTTP__LISTEN move the gateway.
#
# DEMO_FAKETIME='2027-12-20 10:00' runs the gateway and the load generator on a clock that
# starts at that instant (libfaketime; any date `faketime` takes), e.g. to see deadlines counted
# into a year without an official calendar. Use it rather than `faketime … scripts/demo.sh`:
# under libfaketime rustc hangs, so the build would whenever there is anything to compile.
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

once="${DEMO_ONCE:-0}"
for arg in "$@"; do
  case "$arg" in
    --once) once=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log() { printf '\n== %s\n' "$*"; }

grpc_addr="${MINHU_GRPC__LISTEN:-127.0.0.1:50051}"
http_addr="${MINHU_HTTP__LISTEN:-127.0.0.1:8080}"

log "Installing missing dependencies"
scripts/install-deps.sh

# Checked before the build, so that a mistake does not cost one.
if [[ -n "${DEMO_FAKETIME:-}" ]]; then
  if ! command -v faketime >/dev/null 2>&1; then
    echo "DEMO_FAKETIME needs faketime (libfaketime): scripts/install-deps.sh installs it" >&2
    exit 1
  fi
  if ! faketime "$DEMO_FAKETIME" true; then
    echo "faketime does not take DEMO_FAKETIME='$DEMO_FAKETIME'" >&2
    exit 2
  fi
fi

log "Starting RabbitMQ"
scripts/broker.sh start
export RABBITMQ_NODENAME=rabbit@localhost

log "Building (release)"
cargo build --release --bins

if curl -fsS -o /dev/null "http://$http_addr/healthz" 2>/dev/null; then
  echo "something already answers on http://$http_addr: stop it (or set MINHU_HTTP__LISTEN and MINHU_GRPC__LISTEN) and run again" >&2
  exit 1
fi

if [[ -n "${DEMO_DATA_DIR:-}" ]]; then
  data_dir="$DEMO_DATA_DIR"
  mkdir -p "$data_dir"
  remove_data=0
else
  data_dir="$(mktemp -d -t minhu-demo.XXXXXX)"
  remove_data=1
fi
gateway_log="$data_dir/minhu.log"
gateway_pid=""

# shellcheck disable=SC2317  # invoked by the trap below
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$gateway_pid" ]] && kill -0 "$gateway_pid" 2>/dev/null; then
    echo "stopping the gateway (pid $gateway_pid)"
    kill -TERM "$gateway_pid" 2>/dev/null || true
    for _ in $(seq 1 30); do
      kill -0 "$gateway_pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$gateway_pid" 2>/dev/null; then
      echo "the gateway did not stop within 15 s; killing it" >&2
      kill -KILL "$gateway_pid" 2>/dev/null || true
    fi
    wait "$gateway_pid" 2>/dev/null || true
  fi
  if ((remove_data == 1)); then
    rm -rf "$data_dir"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "Starting the gateway (store $data_dir/minhu.db, log $gateway_log)"
# The environment that puts a program on the moved clock (empty: the real one), worked out now
# since the clock runs from the moment `faketime` is asked. The programs are started with it
# directly, not under the `faketime` command, which forks and waits: the gateway's pid would be
# the wrapper's, and stopping it would leave the gateway running.
fake_clock=()
if [[ -n "${DEMO_FAKETIME:-}" ]]; then
  mapfile -t fake_clock < <(faketime "$DEMO_FAKETIME" env | grep -E '^(LD_PRELOAD|FAKETIME)=')
  # Only the wall clock moves: timeouts and timers run on the real monotonic clock.
  fake_clock+=(FAKETIME_DONT_FAKE_MONOTONIC=1)
  echo "clock: the gateway and the load generator start at $DEMO_FAKETIME (libfaketime)"
fi
# `env` execs the gateway, so $! is the gateway's own pid, for the readiness check and cleanup.
env "${fake_clock[@]}" MINHU_STORE__PATH="$data_dir/minhu.db" \
  target/release/minhu serve --config config/minhu.toml >"$gateway_log" 2>&1 &
gateway_pid=$!

ready=0
for _ in $(seq 1 120); do
  if ! kill -0 "$gateway_pid" 2>/dev/null; then
    echo "the gateway exited during start-up; its log:" >&2
    tail -n 40 "$gateway_log" >&2 || true
    exit 1
  fi
  if curl -fsS -o /dev/null "http://$http_addr/readyz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.5
done
if ((ready == 0)); then
  echo "the gateway did not become ready within 60 s; its log:" >&2
  tail -n 40 "$gateway_log" >&2 || true
  exit 1
fi
echo "ready: gRPC $grpc_addr, HTTP http://$http_addr (/healthz, /readyz, /metrics)"

# Messages waiting in the department queues; earlier runs may have left some.
dept_queues() {
  rabbitmqctl list_queues -q name messages 2>/dev/null |
    awk '$1 ~ /^minhu\.dept\./ || $1 == "minhu.emergency.linkage"' | sort || true
}
total_of() { awk '{ sum += $2 } END { print sum + 0 }' <<<"$1"; }
baseline="$(total_of "$(dept_queues)")"

log "Submitting sample reports through every channel"
env "${fake_clock[@]}" target/release/minhu-loadgen demo --grpc "http://$grpc_addr"

# Accepted reports are on disk; the relay publishes them to RabbitMQ right after. Wait until
# the outbox is empty so the queue depths below include every dispatch.
metric() {
  curl -fsS "http://$http_addr/metrics" 2>/dev/null |
    awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $2; found = 1 }
                      END { if (found) print sum }'
}
for _ in $(seq 1 60); do
  [[ "$(metric minhu_outbox_depth)" == "0" ]] && break
  sleep 0.5
done
confirmed="$(metric minhu_publishes_confirmed_total || true)"
echo "outbox depth: $(metric minhu_outbox_depth || true); publishes confirmed: ${confirmed:-?}"

log "Department queues (rabbitmqctl list_queues name messages)"
# Queue statistics of quorum queues trail by a few seconds; wait until this run's dispatches
# show up (or give up after 20 s, e.g. when a consumer is taking them off already).
confirmed_n="${confirmed%.*}"
[[ $confirmed_n =~ ^[0-9]+$ ]] || confirmed_n=0
expected=$((baseline + confirmed_n))
for _ in $(seq 1 20); do
  queues="$(dept_queues)"
  total="$(total_of "$queues")"
  ((total >= expected && total > 0)) && break
  sleep 1
done
printf '%-40s %s\n' "queue" "messages"
awk '{ printf "%-40s %s\n", $1, $2 }' <<<"$queues"
if ((baseline > 0)); then
  echo "($baseline of these were there before this run)"
fi
if ((total == 0)); then
  echo "no messages reached the department queues" >&2
  exit 1
fi

if [[ "$once" == "1" ]]; then
  log "Done (--once)"
  exit 0
fi

log "The gateway keeps running; Ctrl-C stops it"
cat <<MSG
  consume a department queue:   cargo run --release --example consumer -- urban-mgmt
  look a ticket up (grpcurl):   grpcurl -plaintext -d '{"ticket_id":"T..."}' $grpc_addr minhu.v1.Gateway/GetTicket
  metrics:                      curl http://$http_addr/metrics
  the store:                    sqlite3 $data_dir/minhu.db
MSG
wait "$gateway_pid" || true
echo "the gateway exited; its log: $gateway_log" >&2
exit 1
