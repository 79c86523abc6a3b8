#!/usr/bin/env bash
# A per-job cap below the expected cost through `vibeml serve` with the official SDK client:
# the plan warns, no elicitation refuses, decline, accept (assistant_cap.test.mjs), stand-in sky.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
need_node_module @modelcontextprotocol/sdk
job_home 5
sim_env
"$bin" budget set --monthly 100 --per-job 0.5 >/dev/null
mkdir -p "$FAKE_SKY_STATE"; : >"$FAKE_SKY_STATE/argv.log"
run_node_test assistant_cap.test.mjs
# the CLI asks the same question; without --yes it is refused before anything launches
before=$(grep -c '"jobs", "launch"' "$FAKE_SKY_STATE/argv.log" || true)
set +e
out=$("$bin" launch --model meta-llama/Llama-3.1-8B --dataset yahma/alpaca-cleaned --workflow lora \
  --offline --backend skypilot 2>&1)
rc=$?
set -e
[ "$rc" -eq 3 ] || { echo "CLI launch under the cap: exit $rc, wanted 3: $out" >&2; exit 1; }
echo "$out" | grep -q 'The cap of \$0\.50 is below this job.s expected cost' || { echo "no cap question: $out" >&2; exit 1; }
after=$(grep -c '"jobs", "launch"' "$FAKE_SKY_STATE/argv.log" || true)
[ "$before" = "$after" ] || { echo "the CLI launched despite the refusal" >&2; exit 1; }
echo "ok assistant cap"
