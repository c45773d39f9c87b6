#!/usr/bin/env bash
# Reproduces the "Notifications (issue 15)" figures of BENCHMARKS.md: notices sent to citizens
# per second, against Submit's rate in the same run. Builds release binaries, starts RabbitMQ,
# writes a service file (the sample config with its [notify] senders pointed at stand-ins of
# the SMS gateway and the WeChat API that `minhu-loadgen notify` serves itself; quiet hours
# off), starts a gateway on it with a fresh store and a vhost of its own, and runs
# `minhu-loadgen notify`: Submit (the baseline), SignFor every case, Complete half the cases
# with the stand-ins answering (rates, latency from completion to arrival), then the other half
# with every send held, and times the held notices as they drain. Unpaced, the live
# completions outrun the notifier and its latency is mostly queueing; paced below its
# capacity (BENCH_NOTIFY_LIVE_RATE), the latency is the notifier's own. Prints Markdown tables with
# CPU per operation of the gateway, the broker and the load generator (from /proc).
#
#   scripts/bench-notify.sh                                  # 10,000 reports, [notify] concurrency 16
#   BENCH_NOTIFY_CONCURRENCY=64 scripts/bench-notify.sh      # another [notify] concurrency
#   BENCH_NOTIFY_LIVE_RATE=500 scripts/bench-notify.sh       # live completions paced at 500/s
#   BENCH_NOTIFY_REPORTS=4000 BENCH_NOTIFY_WECHAT_PERCENT=20 scripts/bench-notify.sh
#   BENCH_GATEWAY=/path/to/minhu scripts/bench-notify.sh     # another gateway build
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export RABBITMQ_NODENAME=rabbit@localhost

reports=${BENCH_NOTIFY_REPORTS:-10000}
in_flight=${BENCH_NOTIFY_IN_FLIGHT:-128}
wechat_percent=${BENCH_NOTIFY_WECHAT_PERCENT:-50}
concurrency=${BENCH_NOTIFY_CONCURRENCY:-}
live_rate=${BENCH_NOTIFY_LIVE_RATE:-0}
bin_dir=${CARGO_TARGET_DIR:-target}/release
gateway_bin=${BENCH_GATEWAY:-$bin_dir/minhu}
base_config=${BENCH_CONFIG:-config/minhu.toml}
grpc_port=${BENCH_GRPC_PORT:-50152}
http_port=${BENCH_HTTP_PORT:-8182}
sms_listen=${BENCH_SMS_LISTEN:-127.0.0.1:18190}
wechat_listen=${BENCH_WECHAT_LISTEN:-127.0.0.1:18191}
vhost=minhu-bench-notify

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
  rabbitmqctl delete_vhost "$vhost" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

rabbitmqctl delete_vhost "$vhost" >/dev/null 2>&1 || true
rabbitmqctl add_vhost "$vhost" >/dev/null
rabbitmqctl set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null

"$bin_dir/minhu-loadgen" notify-config --base "$base_config" --out "$work/minhu.toml" \
  --sms-listen "$sms_listen" --wechat-listen "$wechat_listen" ${concurrency:+--concurrency "$concurrency"}
MINHU_STORE__PATH="$work/store/minhu.db" \
  MINHU_AMQP__URL="amqp://guest:guest@127.0.0.1:5672/$vhost" \
  MINHU_GRPC__LISTEN="127.0.0.1:$grpc_port" MINHU_HTTP__LISTEN="127.0.0.1:$http_port" \
  MINHU_LOG__LEVEL=warn \
  "$gateway_bin" --config "$work/minhu.toml" serve 2>"$work/gateway.log" &
gateway_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

printf '\nmachine: %s cores, %s; %s; %s; gateway %s (%s, [notify] concurrency %s); load average %s\n' \
  "$(nproc)" "$(uname -m)" \
  "$(rabbitmqctl version 2>/dev/null | head -1 | sed 's/^/RabbitMQ /')" "$(rustc --version)" \
  "$gateway_bin" "$base_config" \
  "$(grep -E '^concurrency' "$work/minhu.toml" | grep -oE '[0-9]+' || echo 'default 16')" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
broker_pid=$(pgrep -f 'beam.smp.*rabbit' | head -1 || true)
"$bin_dir/minhu-loadgen" notify --grpc "http://127.0.0.1:$grpc_port" \
  --metrics-url "http://127.0.0.1:$http_port/metrics" \
  --sms-listen "$sms_listen" --wechat-listen "$wechat_listen" \
  --reports "$reports" --in-flight "$in_flight" --wechat-percent "$wechat_percent" \
  --live-rate "$live_rate" \
  --cpu-of "gateway=$gateway_pid" ${broker_pid:+--cpu-of "broker=$broker_pid"}
if grep -qiE 'error|panick' "$work/gateway.log"; then
  echo "gateway log (errors):"
  grep -iE 'error|panick' "$work/gateway.log" | head -20
fi
