#!/usr/bin/env bash
# Cloud jobs that really run and keep their results (issue 11), end to end through the CLI with
# the VM simulator on PATH as `sky` (tests/fixtures/fake_sky: each managed job runs on a fresh
# folder that holds only what the task shipped; only buckets outlive it):
#   a smoke job completes on a VM with loss, logs and cost; its output is in its bucket prefix
#   after the VM is gone and `jobs show` names it; a preemption right after the first checkpoint
#   resumes from it on a new VM; a second job with the same model and data starts fresh; a run
#   that fails and a job that is stopped both leave their checkpoints in the bucket; a checkpoint
#   of another run is never resumed; a job that lands on its second candidate is billed at that
#   candidate's rate and stopped at its cap (cloud_jobs.lua).
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
job_home
sim_env
next_sky_id() { python3 -c 'import json,os; print(json.load(open(os.environ["FAKE_SKY_STATE"]+"/state.json")).get("next_id", 1))' 2>/dev/null || echo 1; }
launch() { launch_smoke --backend skypilot "$@"; }
start_events() { "$bin" jobs logs "$1" --stream events | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    d = e.get("data") or {}
    if d.get("event") == "start":
        print(d.get("resumed_from_step", 0))'; }

# the bucket, the store and what `sky check` enables come from the simulator's defaults
"$bin" doctor >/dev/null 2>&1 || true

echo "# 1. a smoke job completes on a VM; its output outlives the VM and jobs show names it"
id=$(launch --param max_steps=60 --param save_steps=20 --param step_delay_s=0.02)
wait_for "$id" completed
js=$(show "$id")
[ -n "$(echo "$js" | field progress.loss)" ] || fail "no loss"
[ "$(echo "$js" | field progress.step)" = 60 ] || fail "step $(echo "$js" | field progress.step)"
[ "$(echo "$js" | field cost.rate_hr)" = 0.096 ] || fail "rate $(echo "$js" | field cost.rate_hr)"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "$(echo "$js" | field cost.billed_hours)" || fail "nothing billed"
"$bin" jobs logs "$id" | grep '(task, pid=' >/dev/null || fail "logs in SkyPilot's form"
out=$(echo "$js" | field outputs.output)
bucket=$(echo "$js" | field outputs.bucket)
case "$out" in "s3://$bucket/$id/output") ;; *) fail "output uri $out" ;; esac
[ -f "$FAKE_SKY_STATE/buckets/$bucket/$id/output/model.json" ] || fail "model.json not in the bucket"
[ -z "$(ls "$FAKE_SKY_STATE/vms" 2>/dev/null)" ] || fail "a VM is left: $(ls "$FAKE_SKY_STATE/vms")"
"$bin" jobs show "$id" | grep "output:    s3://$bucket/$id/output" >/dev/null || fail "jobs show names the output"
"$bin" jobs show "$id" | grep "fetch:     aws s3 sync s3://$bucket/$id/output" >/dev/null || fail "jobs show gives the fetch command"
task=$(find "$home" -path "*/jobs/$id/task.yaml")
python3 - "$task" "$id" <<'PY' || fail "task file"
import json, sys
t = json.load(open(sys.argv[1])); jid = sys.argv[2]
assert t["workdir"].endswith("/jobs/%s/workdir" % jid), t.get("workdir")
m = t["file_mounts"]["~/vibeml"]
assert m["mode"] == "MOUNT_CACHED" and m["persistent"] is True and m["store"] == "s3", m
assert t["envs"]["VIBEML_CHECKPOINT_DIR"] == "~/vibeml/%s/checkpoints" % jid
assert t["envs"]["VIBEML_OUTPUT_DIR"] == "~/vibeml/%s/output" % jid
PY
echo "ok 1 - completed on a VM: output at $out"

echo "# 2. a preemption right after the first checkpoint resumes from it on a new VM"
knob preempt "{\"$(next_sky_id)\": {\"after_checkpoints\": 1}}"
id2=$(launch --param max_steps=60 --param save_steps=10 --param step_delay_s=0.03)
wait_for "$id2" completed
knob preempt '{}'   # (the knob also matches job names containing the id's digits)
js=$(show "$id2")
[ "$(echo "$js" | field recoveries)" = 1 ] || fail "recoveries $(echo "$js" | field recoveries)"
resumed=$(start_events "$id2" | tail -n1)
[ "${resumed:-0}" -gt 0 ] || fail "second VM resumed_from_step=$resumed (starts: $(start_events "$id2" | tr '\n' ' '))"
[ "$(start_events "$id2" | sed -n 1p)" = 0 ] || fail "the first VM started fresh"
[ -f "$FAKE_SKY_STATE/buckets/$bucket/$id2/output/model.json" ] || fail "output after recovery"
echo "ok 2 - preempted, recovered (recovery_count 1), resumed from step $resumed"

echo "# 3. a second job with the same model and data starts fresh"
id3=$(launch --param max_steps=20 --param save_steps=10)
wait_for "$id3" completed
[ "$(start_events "$id3")" = 0 ] || fail "job 3 resumed: $(start_events "$id3")"
echo "ok 3 - same model and data, own prefix, fresh start"

echo "# 4. a run that fails leaves its checkpoints in the bucket"
id4=$(launch --param max_steps=60 --param save_steps=10 --param fail_at_step=35)
wait_for "$id4" failed
[ -f "$FAKE_SKY_STATE/buckets/$bucket/$id4/checkpoints/checkpoint-30/COMPLETE" ] || fail "checkpoint-30 kept"
show "$id4" | field outputs.last_checkpoint | grep "s3://$bucket/$id4/checkpoints/checkpoint-30" >/dev/null || fail "status names the last checkpoint: $(show "$id4" | field outputs.last_checkpoint)"
echo "ok 4 - failed run kept checkpoint-30"

echo "# 5. a stopped job leaves its checkpoints in the bucket"
id5=$(launch --param max_steps=2000 --param save_steps=5 --param step_delay_s=0.05)
for _ in $(seq 1 200); do
  ls "$FAKE_SKY_STATE/buckets/$bucket/$id5/checkpoints" 2>/dev/null | grep -q checkpoint- && break
  sleep 0.1
done
"$bin" jobs stop "$id5" >/dev/null
wait_for "$id5" terminated
ls "$FAKE_SKY_STATE/buckets/$bucket/$id5/checkpoints" | grep '^checkpoint-' >/dev/null || fail "no checkpoint kept after stop"
[ -z "$(ls "$FAKE_SKY_STATE/vms" 2>/dev/null)" ] || fail "a VM is left after stop"
echo "ok 5 - stopped job kept $(ls "$FAKE_SKY_STATE/buckets/$bucket/$id5/checkpoints" | tr '\n' ' ')"

echo "# 6. a checkpoint of another run is never resumed (fingerprint), its own is"
ck=$home/ck
mkdir -p "$ck"
cp -r "$FAKE_SKY_STATE/buckets/$bucket/$id4/checkpoints/checkpoint-30" "$ck/"
params='{"v":1,"workflow":"smoke","model":"acme/tiny-1B","dataset":"acme/text","hyperparameters":{"max_steps":40,"save_steps":10,"fail_at_step":0}}'
run_smoke() { VIBEML_JOB_ID=$1 VIBEML_PARAMS=$params VIBEML_CHECKPOINT_DIR=$ck VIBEML_OUTPUT_DIR=$home/out \
  python3 "$src/workflows/smoke/train.py" 2>"$home/smoke.err" | grep '"event":"start"'; }
run_smoke jother | grep '"resumed_from_step":0' >/dev/null || fail "a foreign checkpoint was resumed"
grep -q "belongs to another run" "$home/smoke.err" || fail "no word on skipping the foreign checkpoint"
# the same run (job id and parameters from job 4's task file) does resume it
# (fail_at_step is cadence, not shape: the fingerprint ignores it, so the resumed run can finish)
params=$(python3 -c 'import json,sys
p = json.loads(json.load(open(sys.argv[1]))["envs"]["VIBEML_PARAMS"]); p["hyperparameters"]["fail_at_step"] = 0
print(json.dumps(p))' "$(find "$home" -path "*/jobs/$id4/task.yaml")")
run_smoke "$id4" | grep "\"resumed_from_step\":30" >/dev/null || { cat "$home/smoke.err" >&2; fail "its own checkpoint was not resumed"; }
echo "ok 6 - foreign checkpoint skipped, own checkpoint resumed"

echo "# 8. the storage preference (and a bad one) overrides the default bucket"
"$bin" config set storage s3://team-ckpts >/dev/null
id8=$(launch --param max_steps=10 --param save_steps=5)
wait_for "$id8" completed
[ -f "$FAKE_SKY_STATE/buckets/team-ckpts/$id8/output/model.json" ] || fail "output not in the preferred bucket"
[ "$(show "$id8" | field outputs.output)" = "s3://team-ckpts/$id8/output" ] || fail "status names the preferred bucket"
if "$bin" config set storage "s3://Bad_Bucket" >/dev/null 2>"$home/cfg.err"; then fail "a bad bucket name was accepted"; fi
grep "bucket name" "$home/cfg.err" >/dev/null || fail "the refusal names the rule: $(cat "$home/cfg.err")"
"$bin" config set storage null >/dev/null
echo "ok 8 - storage preference used; a bad bucket name refused"

echo "# 7. billed at the rate of the candidate that runs; stopped at the cap"
"$bin" run "$src/tests/integration/cloud_jobs.lua"
echo "ok 7 - second candidate's rate and cap"
echo "8 passed, 0 failed"
