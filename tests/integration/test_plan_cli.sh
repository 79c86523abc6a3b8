#!/usr/bin/env bash
# `vibeml plan`, `vibeml gpus`, `vibeml catalog` on the command line: output, --json, exit codes.
bin=$1
. "$(dirname "$0")/stub_env.sh"
export VIBEML_HOME=$TMP/home
fail() { echo "FAIL: $*"; exit 1; }
out=$("$bin" plan --model meta-llama/Llama-3.1-8B --dataset yahma/alpaca-cleaned --workflow unsloth --offline) \
  || fail "plan exit $?"
echo "$out" | head -12
echo "$out" | grep -q "^Best: 1× " || fail "no Best line"
echo "$out" | grep -q "Assumptions:" || fail "no assumptions"
echo "$out" | grep -q "assumed 8 B parameters from the model name" || fail "offline assumption not stated"
"$bin" plan --model meta-llama/Llama-3.1-8B --offline --json | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert p["best"]["cost"]["expected"] > 0
assert isinstance(p["options"], list) and isinstance(p["warnings"], list)
c = [o["cost"]["expected"] for o in p["options"]]
assert c == sorted(c), c
' || fail "plan --json"
"$bin" plan --model meta-llama/Llama-3.1-8B --gpu RTX9000 --offline 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "unknown GPU exit $rc"
grep -q "GPU type 'RTX9000' not supported. Available: " "$TMP/err" || fail "unknown GPU wording"
"$bin" plan --model x/Model-70B --workflow full --gpu T4 --gpus 1 --offline 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] || fail "infeasible exit $rc"
grep -q "What would work" "$TMP/err" || fail "no suggestions"
"$bin" plan --model x/Model-70B --workflow full --gpu T4 --gpus 1 --offline --json 2>/dev/null \
  | python3 -c 'import json,sys; e=json.load(sys.stdin)["error"]; assert e["code"]=="VML_ELIMIT" and len(e["suggestions"])>=1' \
  || fail "infeasible --json"
"$bin" plan --bogus 2>/dev/null; [ $? -eq 2 ] || fail "bad option exit"
"$bin" plan 2>/dev/null; [ $? -eq 2 ] || fail "missing --model exit"
"$bin" gpus --cloud nebius | grep -q "gpu-h100-sxm_1gpu-16vcpu-200gb" || fail "gpus table"
"$bin" gpus --min-memory 100 --spot --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["offers"] and all(o["memory_gb"] >= 100 and o.get("spot_price_hr") for o in r["offers"])
' || fail "gpus --json filters"
"$bin" gpus --gpu RTX9000 2>/dev/null; [ $? -eq 1 ] || fail "gpus unknown GPU exit"
"$bin" catalog --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["offers"] > 2000 and d["sources"]["aws"]["kind"] == "snapshot"' \
  || fail "catalog show"
"$bin" help plan | grep -q -- "--max-cost" || fail "help plan"
echo "plan cli: ok"
