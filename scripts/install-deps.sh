#!/usr/bin/env bash
# Installs what Minhu's build, demo and tests need on a Debian/Ubuntu machine, and nothing that
# is there already: RabbitMQ, a C toolchain (SQLite and TLS are compiled from source by Cargo),
# pkg-config, the sqlite3 shell for operators, curl, libfaketime (tests move the gateway's
# clock with it) and promtool (tests check the Prometheus alert rules). Safe to run again;
# needs no terminal.
#
# Rust itself is not installed here: it is expected on the machine (see the message below when
# it is missing).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

log() { printf 'install-deps: %s\n' "$*" >&2; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n env DEBIAN_FRONTEND=noninteractive "$@"
  else
    log "need root to run: $*  (run this script as root, or install sudo)"
    exit 1
  fi
}

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing=()
# faketime brings libfaketime: tests about calendar years and deadlines run the gateway on a
# moved wall clock, so that none depends on today's date.
# prometheus brings promtool: the tests check deploy/prometheus/alerts.yml with it. chromium and
# chromium-driver drive the console's pages in a real browser; fonts-wqy-zenhei draws their
# Chinese labels in the screenshots. postgresql: scripts/pg.sh runs it (a primary and a hot
# standby) on data folders under target/ for the multi-gateway work (issue 17).
for pkg in rabbitmq-server pkg-config sqlite3 curl ca-certificates faketime prometheus chromium chromium-driver fonts-wqy-zenhei postgresql; do
  is_installed "$pkg" || missing+=("$pkg")
done
# Python with venv, for the interop test's independent gRPC client and AMQP consumer.
if ! command -v python3 >/dev/null 2>&1; then
  missing+=(python3 python3-venv)
elif ! python3 -m venv --help >/dev/null 2>&1; then
  is_installed python3-venv || missing+=(python3-venv)
fi
# Any working C compiler and make will do; build-essential is the usual way to get them.
if ! command -v cc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
  is_installed build-essential || missing+=(build-essential)
fi

if ((${#missing[@]} > 0)); then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing ${missing[*]}, and this is not a Debian-like system: install them by hand"
    exit 1
  fi
  log "installing ${missing[*]}"
  as_root apt-get update -q
  # The package would start the Debian service right away, which fails on machines whose host
  # name does not resolve (and would break the install). scripts/broker.sh starts the node
  # instead, so forbid service starts for the duration of the install.
  policy=/usr/sbin/policy-rc.d
  created_policy=false
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    created_policy=true
  fi
  status=0
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}" || status=$?
  if [[ $created_policy == true ]]; then
    as_root rm -f "$policy"
  fi
  if ((status != 0)); then
    log "apt-get install failed (exit $status)"
    exit "$status"
  fi
else
  log "system packages present"
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [[ -x "$HOME/.cargo/bin/cargo" ]]; then
    log "cargo is installed but not on PATH: run  source \"\$HOME/.cargo/env\"  and try again"
  else
    log "cargo (Rust) is missing. Install the stable toolchain with rustup:"
    log "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y"
    log "  source \"\$HOME/.cargo/env\""
    log "then run this script again. Minhu needs Rust 1.88 or newer."
  fi
  exit 1
fi
# tests/interop.rs drives the gateway with a client generated from proto/ by the reference
# protoc (grpcio-tools) and reads queues with pika; the notify tests receive e-mail with the
# real SMTP server aiosmtpd: a venv under target/, pinned.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/target/interop-venv"
if ! "$venv/bin/python" -c 'import grpc_tools, grpc_health, pika, aiosmtpd' >/dev/null 2>&1; then
  log "creating the interop test venv in $venv"
  mkdir -p "$root/target"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    grpcio-tools==1.85.1 grpcio-health-checking==1.85.1 pika==1.4.4 aiosmtpd==1.4.6
fi

log "ok ($(cargo --version))"
