#!/usr/bin/env bash
# Runs every fuzz target of a JAMJET_FUZZ=ON build for SECONDS each, on a
# copy of its seed corpus (fuzz/corpus/<target>/, left unchanged).
#
#   fuzz/run.sh BUILD_DIR SECONDS
#
# Fails when a target finds a crash, a sanitizer report or an unexpected
# exception; the input that caused it stays in BUILD_DIR/fuzz-findings/ and
# the command to replay it is printed. Logs: BUILD_DIR/fuzz-logs/.
set -uo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
targets="fuzz_ir fuzz_event_json fuzz_condition fuzz_wire fuzz_http"
# Largest input per target: IR documents are larger than the rest.
max_len() {
  case $1 in
    fuzz_ir) echo 16384 ;;
    fuzz_event_json) echo 8192 ;;
    fuzz_condition) echo 512 ;;
    fuzz_wire) echo 4096 ;;
    fuzz_http) echo 8192 ;;
  esac
}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
findings="$build/fuzz-findings"
logs="$build/fuzz-logs"
mkdir -p "$findings" "$logs"
failed=0
for t in $targets; do
  bin="$build/fuzz/$t"
  if [ ! -x "$bin" ]; then
    echo "$t: $bin missing (configure with -DJAMJET_FUZZ=ON)" >&2
    exit 2
  fi
  work="$build/fuzz-corpus/$t"
  rm -rf "$work"
  mkdir -p "$work"
  cp "$here/corpus/$t"/* "$work"/
  seeds=$(ls "$work" | wc -l)
  echo "== $t: ${seconds}s, $seeds seeds, -max_len=$(max_len "$t")"
  "$bin" "$work" -max_total_time="$seconds" -max_len="$(max_len "$t")" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/$t-" >"$logs/$t.log" 2>&1
  rc=$?
  grep -E "^stat::number_of_executed_units|^stat::average_exec_per_sec|^stat::new_units_added" \
    "$logs/$t.log" | sed "s/^/   /"
  echo "   corpus after: $(ls "$work" | wc -l) inputs"
  if [ $rc -ne 0 ]; then
    failed=1
    echo "!! $t found a problem (exit $rc); log: $logs/$t.log"
    grep -E "^==[0-9]+==ERROR|runtime error|fuzz_[a-z_]+: |deadly signal|Test unit written" \
      "$logs/$t.log" | head -5 | sed "s/^/   /"
    for f in "$findings/$t"-*; do
      [ -e "$f" ] || continue
      echo "   reproduce: $bin $f"
    done
  fi
done
if [ $failed -ne 0 ]; then
  echo "fuzzing found problems; inputs kept in $findings" >&2
  exit 1
fi
echo "fuzzing: no findings (${seconds}s per target)"
