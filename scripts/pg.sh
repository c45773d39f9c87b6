#!/usr/bin/env bash
# Start, stop or inspect the local PostgreSQL that Minhu's tests and multi-gateway demo use:
# Debian's `postgresql` package, run by hand on a data folder under target/ (like
# scripts/broker.sh for RabbitMQ), never the packaged cluster or service.
#
#   scripts/pg.sh start            the primary (initdb on first use), idempotent
#   scripts/pg.sh standby          a hot standby streaming from the primary (pg_basebackup on
#                                  first use), idempotent
#   scripts/pg.sh promote          promote the standby to primary (pg_ctl promote)
#   scripts/pg.sh stop [NODE]      stop primary, standby or all (default all); fast shutdown
#   scripts/pg.sh kill NODE        SIGKILL a node's postmaster (fault tests)
#   scripts/pg.sh status           exit 0 when the primary accepts connections
#   scripts/pg.sh url              print the URL gateways use (both hosts, read-write target)
#   scripts/pg.sh fresh-db NAME    (re)create an empty database NAME on the primary, owned by
#                                  the minhu role, and print its URL (the store tests' database)
#   scripts/pg.sh destroy          stop everything and delete the data folders
#
# Settings: synchronous_commit = on and fsync = on (a committed ticket is on disk), streaming
# replication ready (wal_level = replica), listening on 127.0.0.1 only, with trust
# authentication for loopback connections: a local test instance, never a production setup
# (docs/deployment.md, "PostgreSQL"). PostgreSQL refuses to run as root, so under root the server runs as
# the package's `postgres` user, which owns the data folders.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE="${MINHU_PG_DIR:-$ROOT/target/pg}"
PRIMARY_PORT="${MINHU_PG_PORT:-55432}"
STANDBY_PORT="${MINHU_PG_STANDBY_PORT:-55433}"
DB=minhu
USER_NAME=minhu

log() { printf 'pg: %s\n' "$*" >&2; }

# The newest installed server's programs (Debian keeps them out of PATH).
BIN=""
for d in /usr/lib/postgresql/*/bin; do
  [[ -x "$d/pg_ctl" ]] && BIN="$d"
done
if [[ -z "$BIN" ]]; then
  log "PostgreSQL is not installed; run scripts/install-deps.sh first (Debian package postgresql)"
  exit 1
fi

# Runs a server program as the data folders' owner.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

data_of() { printf '%s/%s' "$BASE" "$1"; }
port_of() { if [[ "$1" == primary ]]; then echo "$PRIMARY_PORT"; else echo "$STANDBY_PORT"; fi; }

# A folder the server may own: under root, handed to postgres, with every parent traversable.
make_dir() {
  mkdir -p "$1"
  if [[ "$(id -u)" == 0 ]]; then
    chown postgres:postgres "$1"
    local p="$1"
    while [[ "$p" != / ]]; do
      p="$(dirname "$p")"
      chmod o+x "$p" 2>/dev/null || true
    done
  fi
  chmod 700 "$1"
}

running() { as_owner "$BIN/pg_ctl" -D "$(data_of "$1")" status >/dev/null 2>&1; }

ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$(port_of "$1")" -d postgres; }

wait_ready() {
  local deadline=$((SECONDS + 60))
  until ready "$1"; do
    if ((SECONDS >= deadline)); then
      log "$1 did not accept connections within 60 s; see $(data_of "$1")/log/"
      exit 1
    fi
    sleep 0.2
  done
}

configure() {
  local data="$1" port="$2"
  cat >"$data/minhu.conf" <<EOF
# Written by scripts/pg.sh.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$BASE/run'
max_connections = 200
synchronous_commit = on
fsync = on
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
logging_collector = on
log_directory = 'log'
EOF
  grep -q "include 'minhu.conf'" "$data/postgresql.conf" ||
    echo "include 'minhu.conf'" >>"$data/postgresql.conf"
}

start_node() {
  local node="$1" data
  data="$(data_of "$node")"
  if running "$node"; then
    wait_ready "$node"
    return
  fi
  as_owner "$BIN/pg_ctl" -D "$data" -l "$data/startup.log" -w -t 60 start >/dev/null
  wait_ready "$node"
}

start_primary() {
  local data
  data="$(data_of primary)"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    make_dir "$BASE"
    make_dir "$BASE/run"
    make_dir "$data"
    log "initdb in $data"
    as_owner "$BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    configure "$data" "$PRIMARY_PORT"
    cat >"$data/pg_hba.conf" <<'EOF'
# Loopback only, trusted: a local test instance (scripts/pg.sh).
local all         all                 trust
host  all         all  127.0.0.1/32   trust
host  replication all  127.0.0.1/32   trust
EOF
    start_node primary
    psql_primary -c "CREATE ROLE $USER_NAME LOGIN" >/dev/null
    psql_primary -c "CREATE DATABASE $DB OWNER $USER_NAME" >/dev/null
  else
    start_node primary
  fi
  log "primary ready on 127.0.0.1:$PRIMARY_PORT (data $data)"
}

psql_primary() { PGOPTIONS="--client-min-messages=warning" psql -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d postgres "$@"; }

start_standby() {
  local data
  data="$(data_of standby)"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    ready primary || { log "start the primary first (scripts/pg.sh start)"; exit 1; }
    make_dir "$data"
    log "pg_basebackup from 127.0.0.1:$PRIMARY_PORT into $data"
    # -R writes primary_conninfo and standby.signal: the copy starts as a streaming standby.
    as_owner "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$data" \
      -X stream -R -c fast >/dev/null
    configure "$data" "$STANDBY_PORT"
  fi
  start_node standby
  log "standby ready on 127.0.0.1:$STANDBY_PORT (data $data)"
}

stop_node() {
  if running "$1"; then
    if as_owner "$BIN/pg_ctl" -D "$(data_of "$1")" -m fast -w -t 20 stop >/dev/null; then
      log "$1 stopped"
    else
      kill_node "$1"
    fi
  fi
}

kill_node() {
  local pidfile
  pidfile="$(data_of "$1")/postmaster.pid"
  if [[ -f "$pidfile" ]]; then
    local pid
    pid="$(head -1 "$pidfile")"
    # The postmaster and its children (a killed postmaster's backends would linger).
    pkill -9 -P "$pid" 2>/dev/null || true
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    log "$1 killed"
  fi
}

case "${1:-}" in
start) start_primary ;;
standby) start_standby ;;
promote)
  as_owner "$BIN/pg_ctl" -D "$(data_of standby)" -w promote >/dev/null
  log "standby promoted: it accepts writes on 127.0.0.1:$STANDBY_PORT"
  ;;
stop)
  case "${2:-all}" in
  primary | standby) stop_node "$2" ;;
  all) stop_node standby; stop_node primary ;;
  *) log "stop what? primary, standby or all"; exit 2 ;;
  esac
  ;;
kill)
  case "${2:-}" in
  primary | standby) kill_node "$2" ;;
  *) log "kill what? primary or standby"; exit 2 ;;
  esac
  ;;
status) ready primary ;;
url)
  echo "postgres://$USER_NAME@127.0.0.1:$PRIMARY_PORT,127.0.0.1:$STANDBY_PORT/$DB?target_session_attrs=read-write"
  ;;
fresh-db)
  name="${2:-}"
  if [[ ! "$name" =~ ^[a-z_][a-z0-9_]*$ ]]; then
    log "fresh-db needs a database name (lower-case letters, digits, _)"
    exit 2
  fi
  psql_primary -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
  psql_primary -c "CREATE DATABASE $name OWNER $USER_NAME" >/dev/null
  echo "postgres://$USER_NAME@127.0.0.1:$PRIMARY_PORT/$name"
  ;;
destroy)
  stop_node standby
  stop_node primary
  rm -rf "$BASE"
  ;;
*)
  sed -n '2,16p' "$0" >&2
  exit 2
  ;;
esac
