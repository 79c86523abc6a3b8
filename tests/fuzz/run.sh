#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined, the whole core
# instrumented) in build-fuzz/, then runs each named target (default: all) for SECONDS
# (default 600), one after another, on a working copy of its seed corpus: new inputs found go
# to build-fuzz/corpus/<target>/, a crash or leak to build-fuzz/findings/<target>/, the log to
# build-fuzz/logs/<target>.log (read by tests/fuzz/summary.sh). Seeds in tests/fuzz/corpus/ are
# never modified: copy a finding there by hand, with its fix.
#
#   bash tests/fuzz/run.sh [-t SECONDS] [-j JOBS] [target ...]
#   nice -n 19 bash tests/fuzz/run.sh -t 600 progress      # one target, ten minutes
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${VML_FUZZ_DIR:-$root/build-fuzz}
secs=600
jobs=1
while getopts "t:j:" o; do
  case $o in
    t) secs=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-j JOBS] [target ...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
all=$(cd "$root/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
targets=${*:-$all}
command -v clang >/dev/null || { echo "run.sh: clang is needed (libFuzzer)" >&2; exit 2; }

# the system libraries are not instrumented, but every VibeML file is
mkdir -p "$out"
cmake -S "$root" -B "$out" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
  -DVML_FUZZ=ON -DVML_SANITIZE="address;undefined" >"$out/cmake.log" 2>&1 ||
  { cat "$out/cmake.log" >&2; exit 1; }
# vmlcore first: building only a target that links it does not regenerate the embedded Lua
cmake --build "$out" -j"$jobs" --target vmlcore >"$out/build_vmlcore.log" 2>&1 ||
  { tail -30 "$out/build_vmlcore.log" >&2; exit 1; }
for t in $targets; do
  cmake --build "$out" -j"$jobs" --target "fuzz_$t" >"$out/build_$t.log" 2>&1 ||
    { tail -30 "$out/build_$t.log" >&2; echo "run.sh: building fuzz_$t failed" >&2; exit 1; }
done

mkdir -p "$out/logs" "$out/corpus" "$out/findings"
rc=0
for t in $targets; do
  # findings of an earlier run are cleared: one that was fixed is in the seed corpus by now
  rm -rf "$out/findings/$t"
  mkdir -p "$out/corpus/$t" "$out/findings/$t"
  dict=()
  [ -f "$root/tests/fuzz/$t.dict" ] && dict=(-dict="$root/tests/fuzz/$t.dict")
  echo "run.sh: fuzz_$t for ${secs} s (log: $out/logs/$t.log)"
  start=$(date +%s)
  # -timeout: an input that runs 10 s is a hang (a finding); -rss_limit_mb: so is 2 GB
  set +e
  (cd "$out/findings/$t" && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
      -print_final_stats=1 "${dict[@]}" "$out/corpus/$t" "$root/tests/fuzz/corpus/$t") \
    >"$out/logs/$t.log" 2>&1
  code=$?
  set -e
  ran=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/logs/$t.log" | tail -1)
  echo "run.sh: $t ran $ran s, exit $code" | tee -a "$out/logs/$t.log"
  # one line per run, kept across runs: summary.sh reads it
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$ran" "${execs:-0}" "$code" \
    >>"$out/logs/history.tsv"
  [ $code -eq 0 ] || rc=1
done
exit $rc
