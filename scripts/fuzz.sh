#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer) on the stable toolchain (RUSTC_BOOTSTRAP=1 unlocks the
# sanitizer-coverage flags cargo-fuzz needs). Targets: every adapter parser and config loading
# (fuzz/fuzz_targets). Corpora start from the test fixtures and fuzz/seeds.
#
#   scripts/fuzz.sh --short               every target for 10 s (CI)
#   scripts/fuzz.sh --secs 300 [TARGET…]  longer runs (all targets when none is named)
#
# Runs one process per target, niced, one after another, so it never takes both cores for
# long. Executions and findings per target go to target/fuzz-summary.txt; a crash, leak,
# timeout or OOM fails the run and leaves its input under fuzz/artifacts/TARGET/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cargo_fuzz_version="0.13.2"
secs=300
targets=()
while (($#)); do
  case "$1" in
    --short) secs=10 ;;
    --secs) secs="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) targets+=("$1") ;;
  esac
  shift
done

if ! cargo fuzz --version 2>/dev/null | grep -q "$cargo_fuzz_version"; then
  echo "== installing cargo-fuzz $cargo_fuzz_version"
  cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked
fi
export RUSTC_BOOTSTRAP=1
cd "$root/fuzz"
# No sanitizer: the gateway's crates forbid unsafe code, so libFuzzer is here for panics,
# hangs, runaway memory and wrong answers; -a keeps overflow checks and debug assertions on.
flags=(-s none -a)
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cargo fuzz list)
fi

seed() {
  local t="$1" dir="corpus/$1"
  mkdir -p "$dir"
  local fx="$root/tests/fixtures"
  case "$t" in
    wechat_xml) cp "$fx"/wechat/*.xml "$dir"/ ;;
    wechat_push)
      for q in "$fx"/wechat/*.query; do
        { cat "$q"; printf '\n'; cat "${q%.query}.xml"; } > "$dir/$(basename "${q%.query}")"
      done ;;
    mailbox_mime) cp "$fx"/mailbox/*.eml "$dir"/ ;;
    hotline_json) for f in "$fx"/hotline12345/*.json; do [[ $f == *.expected.json ]] || cp "$f" "$dir"/; done ;;
    hotline_csv) cp "$fx"/hotline12345/*.csv "$dir"/ ;;
    citymgmt_event) cp "$fx"/citymgmt/*.event.json "$dir"/ ;;
    open311_form) cp "$fx"/citymgmt/*.form "$dir"/ ;;
    emergency_transfer) cp "$fx"/emergency/*.transfer.json "$dir"/ ;;
    config) { cat "$root/config/minhu.toml"; printf '\n#--\n'; cat "$root/config/routing.toml"; } > "$dir/sample" ;;
  esac
  if [[ -d "seeds/$t" ]]; then cp seeds/"$t"/* "$dir"/; fi
}

echo "== building fuzz targets"
nice -n 10 cargo fuzz build "${flags[@]}"

mkdir -p "$root/target"
summary="$root/target/fuzz-summary.txt"
: > "$summary"
status=0
for t in "${targets[@]}"; do
  seed "$t"
  log="$root/target/fuzz-$t.log"
  echo "== fuzzing $t for ${secs}s"
  if nice -n 10 cargo fuzz run "${flags[@]}" "$t" "corpus/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 > "$log" 2>&1; then
    result="ok"
  else
    result="FINDING (see $log and fuzz/artifacts/$t/)"
    status=1
  fi
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  printf '%-20s %10s execs in %ss  corpus %5s  %s\n' "$t" "${execs:-?}" "$secs" \
    "$(find "corpus/$t" -type f | wc -l)" "$result" | tee -a "$summary"
done
exit "$status"
