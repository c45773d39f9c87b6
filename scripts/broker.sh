#!/usr/bin/env bash
# Start, stop or inspect the local RabbitMQ node Minhu's demo and tests use.
#
#   scripts/broker.sh start    start the node unless it already runs (idempotent)
#   scripts/broker.sh status   exit 0 when the node is up and serving
#   scripts/broker.sh stop     stop the node
#
#   scripts/broker.sh cluster start       three clustered nodes (see scripts/broker-cluster.sh)
#   scripts/broker.sh cluster stop|status|destroy|urls|kill N|restart N
#
# The node is named rabbit@localhost and listens on 127.0.0.1 only: the packaged service start
# derives the node name from the host name, which fails on machines whose host name does not
# resolve, so the node is started by hand with these two variables set.
set -euo pipefail

export RABBITMQ_NODENAME=rabbit@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1

# How long to wait for the node to finish booting.
STARTUP_TIMEOUT="${BROKER_STARTUP_TIMEOUT:-180}"

log() { printf 'broker: %s\n' "$*" >&2; }

require_rabbitmq() {
  if ! command -v rabbitmqctl >/dev/null 2>&1 || ! command -v rabbitmq-server >/dev/null 2>&1; then
    # The Debian package puts them in /usr/sbin, which a non-root PATH may lack.
    if [[ -x /usr/sbin/rabbitmqctl ]]; then
      PATH="$PATH:/usr/sbin"
    else
      log "RabbitMQ is not installed; run scripts/install-deps.sh first"
      exit 1
    fi
  fi
}

# True when the node runs and the rabbit application is up.
is_up() {
  rabbitmqctl status >/dev/null 2>&1
}

# True when the Erlang node answers at all (it may still be booting).
node_answers() {
  rabbitmqctl ping >/dev/null 2>&1
}

# Waits until the node runs the rabbit application. `await_startup` needs the node to be
# registered with epmd already, which takes a moment after `rabbitmq-server -detached` returns.
await_startup() {
  local deadline=$((SECONDS + STARTUP_TIMEOUT))
  until node_answers; do
    if ((SECONDS >= deadline)); then
      log "the node did not come up within ${STARTUP_TIMEOUT}s; see /var/log/rabbitmq/"
      exit 1
    fi
    sleep 1
  done
  local left=$((deadline - SECONDS))
  ((left > 10)) || left=10
  if ! rabbitmqctl await_startup --timeout "$left" >/dev/null; then
    log "the node did not finish booting within ${STARTUP_TIMEOUT}s; see /var/log/rabbitmq/"
    exit 1
  fi
}

cmd_start() {
  if is_up; then
    log "already running ($RABBITMQ_NODENAME)"
    return 0
  fi
  if node_answers; then
    log "node is booting; waiting for it"
  else
    log "starting $RABBITMQ_NODENAME on $RABBITMQ_NODE_IP_ADDRESS"
    rabbitmq-server -detached
  fi
  await_startup
  log "running ($RABBITMQ_NODENAME)"
}

cmd_stop() {
  if ! node_answers; then
    log "not running"
    return 0
  fi
  rabbitmqctl stop >/dev/null
  log "stopped"
}

cmd_status() {
  if is_up; then
    log "running ($RABBITMQ_NODENAME)"
  else
    log "not running ($RABBITMQ_NODENAME)"
    return 1
  fi
}

main() {
  require_rabbitmq
  case "${1:-}" in
    cluster)
      shift
      exec "$(dirname "${BASH_SOURCE[0]}")/broker-cluster.sh" "$@"
      ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
      echo "usage: $0 start|stop|status | cluster start|stop|status|destroy|urls|kill N|restart N" >&2
      exit 2
      ;;
  esac
}

main "$@"
