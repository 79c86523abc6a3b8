#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prints, per fuzz target, what tests/fuzz/run.sh recorded: the last run (when, seconds,
# executions, exit status), all runs together (runs, seconds, executions), the findings of the
# last run still on disk (crash-/leak-/timeout-/oom- files) and the corpus size (the seeds in
# tests/fuzz/corpus/<t> plus what the runs added in build-fuzz/corpus/<t>).
#   bash tests/fuzz/summary.sh
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${VML_FUZZ_DIR:-$root/build-fuzz}
hist=$out/logs/history.tsv
printf '%-10s %-20s %6s %12s %4s | %4s %7s %13s | %8s %6s %7s\n' target last_run secs execs exit \
  runs secs execs findings seeds corpus
total=0
for f in "$root"/tests/fuzz/fuzz_*.c; do
  t=$(basename "$f" .c); t=${t#fuzz_}
  last=$( [ -f "$hist" ] && awk -F'\t' -v t="$t" '$2 == t' "$hist" | tail -1)
  all=$( [ -f "$hist" ] && awk -F'\t' -v t="$t" '$2 == t { n++; s += $3; e += $4 } END { printf "%d %d %d", n, s, e }' "$hist")
  read -r runs secs execs <<<"${all:-0 0 0}"
  findings=$(ls "$out/findings/$t" 2>/dev/null | grep -cE '^(crash|leak|timeout|oom|slow-unit)-')
  seeds=$(ls "$root/tests/fuzz/corpus/$t" 2>/dev/null | wc -l)
  corpus=$(ls "$out/corpus/$t" 2>/dev/null | wc -l)
  if [ -n "$last" ]; then
    IFS=$'\t' read -r when _ lsecs lexecs lcode <<<"$last"
  else
    when=never lsecs=0 lexecs=0 lcode=-
  fi
  printf '%-10s %-20s %6s %12s %4s | %4s %7s %13s | %8s %6s %7s\n' "$t" "$when" "$lsecs" "$lexecs" \
    "$lcode" "$runs" "$secs" "$execs" "$findings" "$seeds" "$((seeds + corpus))"
  total=$((total + execs))
done
echo "executions in all runs: $total (history: $hist)"
