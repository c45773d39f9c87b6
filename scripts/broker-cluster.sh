#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, for the failover tests and for trying
# `[amqp] urls`. Reached through `scripts/broker.sh cluster …`:
#
#   scripts/broker.sh cluster start       start the three nodes and cluster them (idempotent)
#   scripts/broker.sh cluster status      exit 0 when all three run as one cluster
#   scripts/broker.sh cluster stop        stop all three nodes (data kept)
#   scripts/broker.sh cluster destroy     stop all three and delete their data
#   scripts/broker.sh cluster urls        print the three AMQP URLs (guest, default vhost)
#   scripts/broker.sh cluster kill N      SIGKILL node N's Erlang VM (fault tests), N in 1..3
#   scripts/broker.sh cluster restart N   stop node N if it runs, start it, wait until it serves
#
# Nodes: minhu-N@localhost, AMQP on 127.0.0.1:568N, Erlang distribution on 2568N, no plugins
# (an empty enabled-plugins file, so no management or Prometheus listener clashes with the
# shared rabbit@localhost node), data, logs and pid file under target/rabbit-cluster/minhu-N.
# The Debian wrappers run every RabbitMQ program as the `rabbitmq` user (HOME
# /var/lib/rabbitmq), so all nodes and rabbitmqctl share that user's Erlang cookie; under root
# the data folders are handed to that user. Nodes 2 and 3 join node 1 (stop_app, reset,
# join_cluster, start_app) the first time; afterwards they rejoin by themselves on start.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE="${MINHU_RABBIT_CLUSTER_DIR:-$ROOT/target/rabbit-cluster}"
NODES=(1 2 3)
STARTUP_TIMEOUT="${BROKER_STARTUP_TIMEOUT:-180}"

log() { printf 'broker cluster: %s\n' "$*" >&2; }

if ! command -v rabbitmqctl >/dev/null 2>&1 && [[ -x /usr/sbin/rabbitmqctl ]]; then
  PATH="$PATH:/usr/sbin"
fi

name_of() { printf 'minhu-%s@localhost' "$1"; }
port_of() { printf '%s' "$((5680 + $1))"; }
dir_of() { printf '%s/minhu-%s' "$BASE" "$1"; }

ctl() {
  local n="$1"
  shift
  rabbitmqctl -n "$(name_of "$n")" "$@"
}

check_node() {
  [[ "${1:-}" =~ ^[123]$ ]] || {
    log "node must be 1, 2 or 3"
    exit 2
  }
}

# Runs a command, showing its output only when it fails (rabbitmqctl logs noise on stderr while
# a node joins).
quiet() {
  local out
  if ! out="$("$@" 2>&1)"; then
    printf '%s\n' "$out" >&2
    return 1
  fi
}

answers() { ctl "$1" ping >/dev/null 2>&1; }
is_up() { ctl "$1" status >/dev/null 2>&1; }

# A folder the rabbitmq user may own: under root, handed over, with every parent traversable.
make_dir() {
  mkdir -p "$1"
  if [[ "$(id -u)" == 0 ]]; then
    chown -R rabbitmq:rabbitmq "$1"
    local p="$1"
    while [[ "$p" != / ]]; do
      p="$(dirname "$p")"
      chmod o+x "$p" 2>/dev/null || true
    done
  fi
}

# Writes node N's config and plugin list (every start: a changed script takes effect).
prepare() {
  local n="$1" d
  d="$(dir_of "$n")"
  make_dir "$d"
  # No plugins at all: nothing listens besides AMQP and Erlang distribution.
  printf '[].\n' >"$d/enabled_plugins"
  cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$(port_of "$n")
loopback_users.guest = true
# Three nodes: the side with two keeps serving, a lone node pauses instead of diverging.
cluster_partition_handling = pause_minority
EOF
  make_dir "$d"
}

launch() {
  local n="$1" d
  d="$(dir_of "$n")"
  prepare "$n"
  log "starting $(name_of "$n") on 127.0.0.1:$(port_of "$n")"
  RABBITMQ_NODENAME="$(name_of "$n")" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$(port_of "$n")" \
    RABBITMQ_DIST_PORT="$((25680 + n))" \
    RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$d/mnesia" \
    RABBITMQ_LOG_BASE="$d/log" \
    RABBITMQ_PID_FILE="$d/beam.pid" \
    rabbitmq-server -detached
}

await_node() {
  local n="$1" deadline=$((SECONDS + STARTUP_TIMEOUT))
  until answers "$n"; do
    if ((SECONDS >= deadline)); then
      log "$(name_of "$n") did not come up within ${STARTUP_TIMEOUT}s; see $(dir_of "$n")/log/"
      exit 1
    fi
    sleep 1
  done
  local left=$((deadline - SECONDS))
  ((left > 10)) || left=10
  if ! ctl "$n" await_startup --timeout "$left" >/dev/null; then
    log "$(name_of "$n") did not finish booting; see $(dir_of "$n")/log/"
    exit 1
  fi
}

# True when node N counts node 1 among its cluster's disk nodes.
joined() {
  ctl "$1" cluster_status --formatter json 2>/dev/null | grep -q "\"$(name_of 1)\""
}

join() {
  local n="$1"
  joined "$n" && return 0
  log "joining $(name_of "$n") to $(name_of 1)"
  quiet ctl "$n" stop_app
  quiet ctl "$n" reset
  quiet ctl "$n" join_cluster "$(name_of 1)"
  quiet ctl "$n" start_app
  quiet ctl "$n" await_startup
}

running_nodes() {
  ctl 1 eval 'length(rabbit_nodes:all_running()).' 2>/dev/null | tr -dc '0-9'
}

cmd_start() {
  # Every stopped node is launched before any is awaited: after a full stop each node waits
  # for the peers it last saw, so starting them one by one could deadlock.
  local n
  for n in "${NODES[@]}"; do
    answers "$n" || launch "$n"
  done
  for n in "${NODES[@]}"; do
    await_node "$n"
  done
  join 2
  join 3
  log "running: $(running_nodes) nodes ($(name_of 1) $(name_of 2) $(name_of 3))"
}

cmd_status() {
  local n
  for n in "${NODES[@]}"; do
    if ! is_up "$n"; then
      log "$(name_of "$n") not running"
      return 1
    fi
  done
  if [[ "$(running_nodes)" != 3 ]] || ! joined 2 || ! joined 3; then
    log "the three nodes run but are not one cluster"
    return 1
  fi
  log "running: 3 nodes"
}

stop_node() {
  local n="$1"
  if answers "$n"; then
    ctl "$n" stop >/dev/null
    log "stopped $(name_of "$n")"
  fi
}

cmd_stop() {
  stop_node 3
  stop_node 2
  stop_node 1
}

cmd_kill() {
  local n="$1" pidfile pid
  pidfile="$(dir_of "$n")/beam.pid"
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if [[ -z "$pid" || "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != beam.smp ]]; then
    log "$(name_of "$n") is not running"
    return 0
  fi
  kill -KILL "$pid"
  log "killed $(name_of "$n") (beam.smp pid $pid)"
}

cmd_restart() {
  local n="$1"
  stop_node "$n"
  launch "$n"
  await_node "$n"
  log "restarted $(name_of "$n")"
}

cmd_urls() {
  local n
  for n in "${NODES[@]}"; do
    printf 'amqp://guest:guest@127.0.0.1:%s/%%2f\n' "$(port_of "$n")"
  done
}

main() {
  case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    urls) cmd_urls ;;
    destroy)
      cmd_stop
      rm -rf "$BASE"
      log "deleted $BASE"
      ;;
    kill)
      check_node "${2:-}"
      cmd_kill "$2"
      ;;
    restart)
      check_node "${2:-}"
      cmd_restart "$2"
      ;;
    *)
      echo "usage: scripts/broker.sh cluster start|stop|status|destroy|urls|kill N|restart N" >&2
      exit 2
      ;;
  esac
}

main "$@"
