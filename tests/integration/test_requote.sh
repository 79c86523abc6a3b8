#!/usr/bin/env bash
# Live re-quote (issue 15) through the VM simulator `sky` (billed at the smoke's CPU rate):
# a running job's status carries `requote` (measured s/step, time left, cost to finish, expected
# total beside the plan's); a run slowed down with step_delay_s re-quotes slower and dearer than
# the same run without the delay; a job whose projected total crosses its cap gets a warning
# event before the cap stop happens.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
job_home
sim_env
launch() { launch_smoke --backend skypilot "$@"; }
# requote_at ID PERCENT: the job's status (JSON) once it is past PERCENT with a re-quote
requote_at() {
  local js
  for _ in $(seq 1 600); do
    js=$(show "$1")
    if [ -n "$(echo "$js" | field requote.eta_s)" ] && \
       python3 -c 'import sys; sys.exit(0 if float(sys.argv[1] or 0) >= float(sys.argv[2]) else 1)' \
         "$(echo "$js" | field progress.percent)" "$2"; then
      echo "$js"; return 0
    fi
    case "$(echo "$js" | field state)" in completed|failed|terminated) fail "job $1 ended before $2 %" ;; esac
    sleep 0.2
  done
  fail "no re-quote for $1"
}
"$bin" doctor >/dev/null 2>&1 || true

echo "# 1. a re-quote that moves with a slowed-down run"
fast=$(launch --param max_steps=300 --param step_delay_s=0.01)
jf=$(requote_at "$fast" 30)
slow=$(launch --param max_steps=300 --param step_delay_s=0.06)
js=$(requote_at "$slow" 30)
echo "fast: $(echo "$jf" | field requote.summary)"
echo "slow: $(echo "$js" | field requote.summary)"
python3 - "$jf" "$js" <<'PY' || fail "re-quote does not follow the delay"
import json, sys
f, s = (json.loads(a)["requote"] for a in sys.argv[1:3])
for r in (f, s):
    for k in ("measured_step_s", "eta_s", "expected_cost", "cost_to_finish", "planned_cost", "delta_pct", "expected_runtime_s"):
        assert isinstance(r.get(k), (int, float)), (k, r)
    assert r["summary"].startswith("planned $"), r["summary"]
# the slow run sleeps 0.06 s a step: measured time per step at least that, and well above the fast one
assert s["measured_step_s"] >= 0.06, s
assert s["measured_step_s"] > 2 * f["measured_step_s"], (f, s)
assert s["expected_runtime_s"] > f["expected_runtime_s"], (f, s)
assert s["expected_cost"] > f["expected_cost"], (f, s)
# time left: about steps_left x measured s/step plus the end's tail (no more than that: time since
# the last log counts); the tail is the workflow's export time while no smoke job has completed
assert isinstance(s["tail_s"], (int, float)) and s["tail_s"] >= 0 and s["tail_source"], s
assert s["eta_s"] <= s["steps_left"] * s["measured_step_s"] + s["tail_s"] + 1e-6, s
PY
echo "ok 1 - fast $(echo "$jf" | field requote.measured_step_s) s/step, slow $(echo "$js" | field requote.measured_step_s) s/step"

echo "# 2. a projected total over the cap is told before the cap stops the job"
# 0.096 \$/h: a cap of \$0.0004 is reached after 15 s; the run would take 2000 x 0.05 = 100 s
capped=$(launch --param max_steps=2000 --param step_delay_s=0.05 --max-cost 0.0004 --yes)  # a cap below the estimate is asked about: approve it
for _ in $(seq 1 600); do
  st=$(show "$capped" | field state)
  case "$st" in completed|failed|terminated) break ;; esac
  sleep 0.25
done
[ "$st" = terminated ] || fail "capped job ended $st"
[ "$(show "$capped" | field stop_reason)" = budget ] || fail "capped job stop reason $(show "$capped" | field stop_reason)"
"$bin" jobs logs "$capped" --stream events --tail 100000 > "$home/ev.jsonl"
python3 - "$home/ev.jsonl" <<'PY' || fail "no warning before the cap stop"
import json, sys
warn = stop = None
for l in open(sys.argv[1]):
    e = json.loads(l)
    d = e.get("data") or {}
    if e["kind"] == "cost" and d.get("requote") == "crosses_cap" and warn is None:
        warn = e["id"]; print("warning:", d["message"])
    if e["kind"] == "cost" and "cost cap reached" in (d.get("message") or "") and stop is None:
        stop = e["id"]
assert warn is not None, "no crosses_cap event"
assert stop is None or warn < stop, (warn, stop)
PY
dir=$(show "$capped" | field log_dir)
python3 - "$dir/report.json" <<'PY' || fail "report of the capped job"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["outcome"]["stop_reason"] == "budget", r["outcome"]
assert r["cost"]["final"] > 0 and r["cost"]["cap"] == 0.0004 and r["cost"]["planned"] > 0, r["cost"]
assert len(r["attempts"]) == 1 and r["attempts"][0]["cost"] > 0, r["attempts"]
assert any(w.get("rule") == "crosses_cap" for w in r["watchdog"]), r["watchdog"]
assert r["outputs"]["checkpoints"].startswith("s3://"), r["outputs"]
PY
cat "$dir/report.md"
echo "ok 2 - warned before the cap; report written"
echo "PASS"
