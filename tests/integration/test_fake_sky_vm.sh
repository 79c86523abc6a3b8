#!/usr/bin/env bash
# Self-test of the SkyPilot stand-in's simulated VM (tests/fixtures/fake_sky, vm mode): managed
# jobs driven directly with hand-written task files. What reaches the VM (only the workdir and
# file_mounts), envs and secrets, buckets that outlive the VM, preemption and restarts on new VMs,
# resource failover, statuses and log exit codes, multi-node ranks, launch errors, the GPU tool
# stand-ins (tests/fixtures/fake_vm_bin), and that `sky _shutdown` leaves no process behind.
# $1 (the vibeml binary) is not needed. No timed assertions: states are polled with a bound.
set -euo pipefail
src=${VML_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d)
export FAKE_SKY_STATE=$T/sky PATH="$src/tests/fixtures/fake_sky:$PATH"
unset FAKE_SKY_VM_PATH
cleanup() { sky _shutdown >/dev/null 2>&1 || true; rm -rf "$T"; }
trap cleanup EXIT
mkdir -p "$FAKE_SKY_STATE"
# The stand-in through the interpreter itself: a python3 on PATH may be a slow shim (pyenv)
PY=$(python3 -c 'import sys; print(sys.executable)')
sky() { "$PY" "$src/tests/fixtures/fake_sky/sky" "$@"; }
export -f sky
export PY src
fails=0
pass() { echo "ok - $*"; }
fail() { echo "not ok - $*" >&2; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

# knob NAME JSON: sets a key of the stand-in's state (under its lock)
knob() {
  "$PY" - "$FAKE_SKY_STATE" "$1" "$2" <<'EOF'
import fcntl, json, os, sys
d, k, v = sys.argv[1:]
with open(os.path.join(d, "lock"), "w") as l:
    fcntl.flock(l, fcntl.LOCK_EX)
    p = os.path.join(d, "state.json")
    st = json.load(open(p)) if os.path.exists(p) else {}
    st[k] = json.loads(v)
    json.dump(st, open(p + ".tmp", "w")); os.replace(p + ".tmp", p)
EOF
}
# launch TASK [sky args...]: prints the managed job id
launch() {
  local out
  out=$(sky jobs launch "$@" -y -d) || { echo "launch failed: $out" >&2; return 1; }
  sed -n 's/.*Managed Job ID: \([0-9]*\).*/\1/p' <<<"$out"
}
# field ID NAME...: fields of the job's `sky jobs queue -o json -v` record, JSON-encoded, joined
# by "|" (one sky call)
field() {
  sky jobs queue -o json -v | "$PY" -c '
import json, sys
for r in json.load(sys.stdin):
    if str(r["job_id"]) == sys.argv[1]:
        print("|".join(json.dumps(r.get(k)) for k in sys.argv[2:]))' "$@"
}
# wait_status ID STATUS: polls the queue (at most 60 s) until the job has that status
wait_status() {
  local s
  for _ in $(seq 300); do
    s=$(field "$1" status)
    [ "$s" = "\"$2\"" ] && return 0
    case $s in '"SUCCEEDED"'|'"FAILED"'*|'"CANCELLED"') break ;; esac
    sleep 0.2
  done
  echo "job $1: wanted $2, got $s" >&2
  sky jobs logs "$1" --no-follow >&2 || true
  sky jobs logs "$1" --controller --no-follow >&2 || true
  return 1
}
logs() { sky jobs logs "$1" --no-follow || true; }
task() { local f=$T/$1.yaml; cat >"$f"; echo "$f"; }
has() { grep -qF -- "$2" <<<"$1"; }
# gone PID...: no such process, or only a zombie not yet reaped by whoever adopted it
gone() {
  local p st
  for p in "$@"; do
    st=$(cat "/proc/$p/stat" 2>/dev/null) || continue  # gone (even between two looks)
    st=${st##*) }
    [ "${st%% *}" = Z ] || return 1
  done
}

mkdir -p "$T/wd" "$T/shipped"
cat >"$T/wd/train.py" <<'EOF'
import os
print("trained in", os.getcwd())
EOF
echo "host only" >"$T/not_shipped.txt"
echo "extra" >"$T/shipped/extra.txt"

# 1. no workdir: the script is not on the VM, as the issue saw it
f=$(task noworkdir <<EOF
{"name": "noworkdir", "resources": {"infra": "aws", "accelerators": "A100:1"}, "run": "python3 train.py"}
EOF
)
j1=$(launch "$f")
# 2. with workdir and a local file mount: succeeds, the VM holds only what was shipped
f=$(task withworkdir <<EOF
{"name": "withworkdir", "workdir": "$T/wd", "resources": {"infra": "aws/us-east-1", "accelerators": "A100:1"},
 "file_mounts": {"~/extra": "$T/shipped"},
 "envs": {"MY_ENV": "from-envs"}, "secrets": {"MY_SECRET": null},
 "setup": "echo setup-ran",
 "run": "python3 train.py && ls -A ~ | tr '\\\\n' ' ' && echo && ls -A ~/sky_workdir && test ! -e ../not_shipped.txt && echo env=\$MY_ENV secret=\$MY_SECRET caller=\${CALLER_ONLY:-unset} rank=\$SKYPILOT_NODE_RANK gpus=\$SKYPILOT_NUM_GPUS_PER_NODE && cat ~/extra/extra.txt"}
EOF
)
j2=$(CALLER_ONLY=leaked MY_SECRET=s3cr3t launch "$f" --secret MY_SECRET)
wait_status "$j1" FAILED && pass "no workdir: FAILED"
l=$(logs "$j1")
check "no workdir: python's can't open file in a (task, pid=N) line" has "$l" "can't open file"
check "no workdir: prefixed like SkyPilot" grep -qE '^\(task, pid=[0-9]+\) .*sky_workdir/train.py' <<<"$l"
check "no workdir: sky jobs logs exits 100" bash -c "sky jobs logs $j1 --no-follow >/dev/null; [ \$? = 100 ]"
wait_status "$j2" SUCCEEDED && pass "workdir: SUCCEEDED"
l=$(logs "$j2")
check "workdir: train.py ran in ~/sky_workdir" grep -qE '^\(task, pid=[0-9]+\) trained in .*/vms/'"$j2"'-1/sky_workdir$' <<<"$l"
check "workdir: setup ran first, with its prefix" grep -qE '^\(setup pid=[0-9]+\) setup-ran$' <<<"$l"
check "VM home holds only sky_workdir and the mounts" grep -qE '^\(task, pid=[0-9]+\) extra sky_workdir $' <<<"$l"
check "only the workdir's files are uploaded" grep -qE '^\(task, pid=[0-9]+\) train.py$' <<<"$l"
check "envs and --secret reach the job, the caller's environment does not" \
  has "$l" "env=from-envs secret=s3cr3t caller=unset rank=0 gpus=1"
check "a local file mount is copied" grep -qE '^\(task, pid=[0-9]+\) extra$' <<<"$l"
check "the secret value is not in the state file" bash -c "! grep -q s3cr3t '$FAKE_SKY_STATE/state.json'"
check "the VM folder is deleted at the end" bash -c "! ls -d '$FAKE_SKY_STATE'/vms/$j2-* 2>/dev/null"
q=$(field "$j2" infra accelerators cluster_resources_full recovery_count)
check "queue: where it ran, on what (no Spot)" \
  [ "$q" = '"AWS (us-east-1/us-east-1a)"|{"A100": 1}|"1x AWS(p4d.24xlarge, gpus=A100:1)"|0' ]
check "queue: start_at, end_at and job_duration set" python3 -c "
import sys; s, e, d = (float(x) for x in sys.argv[1].split('|')); assert 0 < s <= e and d >= 0" \
  "$(field "$j2" start_at end_at job_duration)"

# 3. a bucket mount outlives the VM; a later job on a new VM sees it
f=$(task bucket <<'EOF'
{"name": "bucket-writer", "resources": {"infra": "nebius", "accelerators": "H100:1", "use_spot": true},
 "file_mounts": {"~/vibeml": {"name": "vibeml-test-bucket", "store": "nebius", "mode": "MOUNT_CACHED", "persistent": true}},
 "run": "mkdir -p ~/vibeml/job1 && echo adapter > ~/vibeml/job1/model.txt && echo wrote"}
EOF
)
j3=$(launch "$f")
wait_status "$j3" SUCCEEDED && pass "bucket writer: SUCCEEDED"
check "bucket: the job's file is in the bucket after the VM is gone" \
  bash -c "[ \"\$(cat '$FAKE_SKY_STATE/buckets/vibeml-test-bucket/job1/model.txt')\" = adapter ] && ! ls -d '$FAKE_SKY_STATE'/vms/$j3-* 2>/dev/null"
check "queue: spot on Nebius" [ "$(field "$j3" cluster_resources_full)" = '"1x Nebius(gpu-h100-sxm_1gpu-16vcpu-200gb, gpus=H100:1, [Spot])"' ]
f=$(task bucket-read <<'EOF'
{"name": "bucket-reader", "resources": {"infra": "aws"},
 "file_mounts": {"~/ro": {"name": "vibeml-test-bucket", "mode": "COPY"}, "~/sub": "s3://vibeml-test-bucket/job1"},
 "run": "cat ~/ro/job1/model.txt ~/sub/model.txt; if [ \"$(id -u)\" != 0 ]; then ! touch ~/ro/x 2>/dev/null; fi"}
EOF
)
j4=$(launch "$f")
wait_status "$j4" SUCCEEDED && pass "bucket reader: SUCCEEDED"
check "COPY mode and a bucket URL bring the bucket's content (read-only)" \
  test "$(logs "$j4" | grep -c ') adapter$')" = 2

# 4. absolute destinations are not reachable by their path on the simulated VM: visibly broken
f=$(task absolute <<'EOF'
{"name": "absolute", "file_mounts": {"/checkpoints": {"name": "vibeml-abs-bucket"}},
 "run": "ls /checkpoints/.simulated 2>&1 || exit 7"}
EOF
)
j5=$(launch "$f")
wait_status "$j5" FAILED && pass "absolute mount destination: FAILED"
check "absolute destination: the log says why" has "$(logs "$j5")" "(simulator) file_mounts: /checkpoints is placed at"

# 5. preemption after the first checkpoint: a new VM, the bucket kept, recovered, SUCCEEDED
knob preempt '{"preempt-me": {"after_checkpoints": 1, "times": 1}}'
f=$(task preempt <<'EOF'
{"name": "preempt-me", "resources": {"infra": "aws", "accelerators": "A100:1", "use_spot": true},
 "file_mounts": {"~/vibeml": {"name": "vibeml-preempt", "store": "s3", "mode": "MOUNT_CACHED"}},
 "setup": "echo setup on $HOME",
 "run": "n=$(cat ~/vibeml/attempts 2>/dev/null || echo 0); n=$((n+1)); echo $n > ~/vibeml/attempts\nif [ -e ~/local.txt ]; then echo local file survived; exit 4; fi\necho local > ~/local.txt\necho \"attempt $n home $HOME task $SKYPILOT_TASK_ID\"\nif [ $n = 1 ]; then echo '@@VIBEML {\"v\":1,\"event\":\"checkpoint\",\"step\":5}'; sleep 30; echo not preempted; exit 3; fi\necho resumed"}
EOF
)
j6=$(launch "$f")
wait_status "$j6" SUCCEEDED && pass "preempted job: SUCCEEDED"
l=$(logs "$j6")
check "preemption: recovery_count 1; EAGER_NEXT_REGION left us-east-1" [ "$(field "$j6" recovery_count region)" = '1|"us-east-2"' ]
check "preemption: setup ran again on the new VM" [ "$(grep -c '^(setup pid=[0-9]*) setup on' <<<"$l")" = 2 ]
check "preemption: a new VM home, the same task id" python3 - "$l" <<'EOF'
import re, sys
a = re.findall(r"attempt (\d) home (\S+) task (\S+)", sys.argv[1])
assert [x[0] for x in a] == ["1", "2"], a
assert a[0][1] != a[1][1] and a[0][2] == a[1][2], a
EOF
check "preemption: the run resumed, the old VM's local file is gone" has "$l" ") resumed"
check "preemption: the bucket kept the first VM's write" [ "$(cat "$FAKE_SKY_STATE/buckets/vibeml-preempt/attempts")" = 2 ]
check "preemption: the controller log says so" has "$(sky jobs logs "$j6" --controller --no-follow || true)" "Cluster is preempted or failed"

# 6. `unavailable`: the second ordered candidate runs, and the queue says where
knob unavailable '[{"infra": "aws"}]'
f=$(task failover <<'EOF'
{"name": "failover", "resources": {"use_spot": false, "ordered": [
   {"infra": "aws/us-east-1", "accelerators": "A100:1"}, {"infra": "nebius/eu-north1", "accelerators": "H100:1"}]},
 "run": "echo on $SKYPILOT_CLUSTER_INFO"}
EOF
)
j7=$(launch "$f")
wait_status "$j7" SUCCEEDED && pass "failover: SUCCEEDED"
check "failover: the queue names the second candidate" \
  [ "$(field "$j7" infra accelerators resources)" = '"Nebius (eu-north1)"|{"H100": 1}|"1x[H100:1]"' ]
check "failover: the controller log names the candidate out of capacity" \
  has "$(sky jobs logs "$j7" --controller --no-follow || true)" "Failed to acquire resources in AWS (us-east-1) A100:1"
f=$(task noresource <<'EOF'
{"name": "noresource", "resources": {"any_of": [{"infra": "aws", "accelerators": "H100:8"}]}, "run": "true"}
EOF
)
j8=$(launch "$f")
wait_status "$j8" FAILED_NO_RESOURCE && pass "nothing available: FAILED_NO_RESOURCE"
check "FAILED_NO_RESOURCE: failure_reason like SkyPilot's" has "$(field "$j8" failure_reason)" "Resources unavailable: failed to launch clusters after"
knob unavailable '[]'

# 7. FAILED_SETUP, FAILED after max_restarts_on_errors, CANCELLED
f=$(task badsetup <<'EOF'
{"name": "badsetup", "setup": "echo installing; exit 1", "run": "echo never"}
EOF
)
j9=$(launch "$f")
f=$(task restarts <<'EOF'
{"name": "restarts", "resources": {"job_recovery": {"strategy": "FAILOVER", "max_restarts_on_errors": 1}},
 "run": "echo try on $HOME; exit 5"}
EOF
)
j10=$(launch "$f")
f=$(task long <<'EOF'
{"name": "long", "run": "trap 'echo got TERM; exit 143' TERM; sleep 300 & echo pid $!; wait"}
EOF
)
j11=$(launch "$f")
wait_status "$j9" FAILED_SETUP && pass "setup exits 1: FAILED_SETUP"
check "FAILED_SETUP: run never ran" bash -c "! sky jobs logs $j9 --no-follow | grep -q never"
wait_status "$j10" FAILED && pass "run exits 5 twice: FAILED"
check "max_restarts_on_errors 1: restarted once on a new VM" \
  [ "$(field "$j10" recovery_count)|$(logs "$j10" | grep -c ') try on ')" = "1|2" ]
wait_status "$j11" RUNNING
for _ in $(seq 300); do logs "$j11" | grep -q ') pid ' && break; sleep 0.2; done
check "a running job: sky jobs logs --no-follow exits 101" bash -c "sky jobs logs $j11 --no-follow >/dev/null; [ \$? = 101 ]"
pid=$(logs "$j11" | sed -n 's/.*) pid \([0-9]*\)$/\1/p')
sky jobs cancel -y "$j11" >/dev/null
wait_status "$j11" CANCELLED && pass "cancel: CANCELLED"
check "cancel: the job got SIGTERM" has "$(logs "$j11")" "got TERM"
check "cancel: its process is gone" gone "$pid"
check "cancel: sky jobs logs exits 103" bash -c "sky jobs logs $j11 --no-follow >/dev/null; [ \$? = 103 ]"
check "unknown job: sky jobs logs exits 102" bash -c "sky jobs logs 999 --no-follow >/dev/null; [ \$? = 102 ]"

# 8. two nodes: one process per node, each with its rank and its own VM folder
f=$(task multinode <<'EOF'
{"name": "multinode", "num_nodes": 2, "resources": {"infra": "aws", "accelerators": "H100:8"},
 "run": "echo rank=$SKYPILOT_NODE_RANK nodes=$SKYPILOT_NUM_NODES gpus=$SKYPILOT_NUM_GPUS_PER_NODE ips=$(echo $SKYPILOT_NODE_IPS | tr ' ' ,) home=$(basename $HOME)"}
EOF
)
j12=$(launch "$f")
wait_status "$j12" SUCCEEDED && pass "two nodes: SUCCEEDED"
l=$(logs "$j12")
check "two nodes: rank 0 on the head" grep -qE "^\(head, rank=0, pid=[0-9]+\) rank=0 nodes=2 gpus=8 ips=127.0.0.1,127.0.0.2 home=$j12-1-node0$" <<<"$l"
check "two nodes: rank 1 on worker1" grep -qE "^\(worker1, rank=1, pid=[0-9]+, ip=127.0.0.2\) rank=1 nodes=2 gpus=8 ips=127.0.0.1,127.0.0.2 home=$j12-1-node1$" <<<"$l"
check "two nodes: resources 2x" [ "$(field "$j12" resources)" = '"2x[H100:8]"' ]

# 9. launch errors like SkyPilot's: exit 1, the exception on stderr, nothing submitted
lerr() { local out rc=0; out=$(sky jobs launch "$1" -y -d 2>&1) || rc=$?; [ "$rc" = 1 ] && grep -qF -- "$2" <<<"$out"; }
f=$(task missingwd <<EOF
{"name": "x", "workdir": "$T/nope", "run": "true"}
EOF
)
check "launch error: missing workdir" lerr "$f" "ValueError: Workdir must be a valid directory"
f=$(task badbucket <<'EOF'
{"name": "x", "file_mounts": {"~/b": {"name": "Bad_Bucket", "store": "s3"}}, "run": "true"}
EOF
)
check "launch error: bad bucket name" lerr "$f" "sky.exceptions.StorageNameError: Invalid store name: name Bad_Bucket can consist only of"
f=$(task badstore <<'EOF'
{"name": "x", "file_mounts": {"~/b": {"name": "good-bucket", "store": "dropbox", "mode": "MOUNT"}}, "run": "true"}
EOF
)
check "launch error: bad store" lerr "$f" "ValueError: Invalid task YAML: 'dropbox' is not one of"
f=$(task badmode <<'EOF'
{"name": "x", "file_mounts": {"~/b": {"name": "good-bucket", "mode": "MOUNTED"}}, "run": "true"}
EOF
)
check "launch error: bad mode" lerr "$f" "'MOUNTED' is not one of ['MOUNT', 'COPY', 'MOUNT_CACHED']"
f=$(task ipbucket <<'EOF'
{"name": "x", "file_mounts": {"~/b": "s3://192.168.5.4/x"}, "run": "true"}
EOF
)
check "launch error: bucket named like an IP address" lerr "$f" "must not be formatted as an IP address"

# 10. the GPU tool stand-ins on the VM's PATH
knob vm_path_prepend "[\"$src/tests/fixtures/fake_vm_bin\"]"
mkdir -p "$T/gpu"
cat >"$T/gpu/train.py" <<'EOF'
import os, json
import torch
from transformers import AutoModel
import helper
EOF
echo "X = 1" >"$T/gpu/helper.py"
echo "{}" >"$T/gpu/accel.json"
echo "trl" >"$T/gpu/requirements.txt"
f=$(task gpu-ok <<EOF
{"name": "gpu-ok", "workdir": "$T/gpu", "resources": {"accelerators": "H100:1"},
 "setup": "set -e\npython3 -m venv ~/env\n. ~/env/bin/activate\npip install -q -r requirements.txt\npip install -q trl",
 "run": "set -e\n. ~/env/bin/activate\npython train.py\naccelerate launch --config_file accel.json --num_processes 1 train.py\ncat ~/.fake_pip.log"}
EOF
)
j13=$(launch "$f")
rm "$T/gpu/helper.py"
f=$(task gpu-bad <<EOF
{"name": "gpu-bad", "workdir": "$T/gpu", "setup": "pip install -r requirements.txt",
 "run": "accelerate launch --config_file accel.json train.py"}
EOF
)
j14=$(launch "$f")
f=$(task gpu-badcfg <<EOF
{"name": "gpu-badcfg", "workdir": "$T/gpu", "run": "accelerate launch --config_file zero3.json train.py"}
EOF
)
j15=$(launch "$f")
f=$(task gpu-badreq <<EOF
{"name": "gpu-badreq", "workdir": "$T/gpu", "setup": "pip install -c constraints.txt trl", "run": "true"}
EOF
)
j16=$(launch "$f")
wait_status "$j13" SUCCEEDED && pass "stand-ins: a GPU workflow whose files are all shipped passes"
l=$(logs "$j13")
check "stand-ins: python and accelerate checked the script" test "$(grep -c '"event":"end","status":"checked"' <<<"$l")" = 2
check "stand-ins: pip recorded its argv in the venv" has "$l" '["install", "-q", "-r", "requirements.txt"]'
wait_status "$j14" FAILED && pass "stand-ins: a missing helper module fails the run"
check "stand-ins: names the missing module" has "$(logs "$j14")" "file not found on the VM: "
check "stand-ins: ... helper.py" has "$(logs "$j14")" "/sky_workdir/helper.py"
wait_status "$j15" FAILED && pass "stand-ins: a missing accelerate config fails the run"
check "stand-ins: names the missing config" has "$(logs "$j15")" "sky_workdir/zero3.json"
wait_status "$j16" FAILED_SETUP && pass "stand-ins: a missing pip constraints file fails setup"
check "stand-ins: names the missing constraints" has "$(logs "$j16")" "sky_workdir/constraints.txt"
knob vm_path_prepend '[]'

# 11. a driver that dies: FAILED_CONTROLLER, its job's processes and VM gone
f=$(task orphan <<'EOF'
{"name": "orphan", "run": "sleep 300 & echo child $!; wait"}
EOF
)
j19=$(launch "$f")
wait_status "$j19" RUNNING
for _ in $(seq 300); do logs "$j19" | grep -q ') child ' && break; sleep 0.2; done
child=$(logs "$j19" | sed -n 's/.*) child \([0-9]*\)$/\1/p')
kill -9 "$(awk -v j="$j19" '$2 == j { print $1 }' "$FAKE_SKY_STATE/drivers")"
wait_status "$j19" FAILED_CONTROLLER && pass "a dead driver: FAILED_CONTROLLER"
check "a dead driver: the job's process and VM are gone" \
  bash -c "$(declare -f gone); gone $child && ! ls -d '$FAKE_SKY_STATE'/vms/$j19-* 2>/dev/null"

# 12. on-demand preemption, and `sky _shutdown` leaves nothing running
f=$(task ondemand <<'EOF'
{"name": "ondemand", "run": "echo start $HOME; sleep 300 & echo child $!; wait"}
EOF
)
j17=$(launch "$f")
j18=$(launch "$f")
wait_status "$j17" RUNNING
for _ in $(seq 300); do logs "$j17" | grep -q ') start ' && break; sleep 0.2; done
sky _preempt "$j17" >/dev/null
for _ in $(seq 300); do [ "$(logs "$j17" | grep -c ') start ')" = 2 ] && break; sleep 0.2; done
check "sky _preempt: the job restarted on a new VM" \
  [ "$(field "$j17" recovery_count)|$(logs "$j17" | grep -c ') start ')" = "1|2" ]
wait_status "$j18" RUNNING
sky _shutdown >/dev/null
check "_shutdown: every running job CANCELLED" \
  [ "$(field "$j17" status)|$(field "$j18" status)" = '"CANCELLED"|"CANCELLED"' ]
alive=0
while read -r p _; do gone "$p" || alive=$((alive + 1)); done <"$FAKE_SKY_STATE/drivers"
check "_shutdown: no driver process left ($(wc -l <"$FAKE_SKY_STATE/drivers") started)" [ "$alive" = 0 ]
check "_shutdown: no VM folder left" bash -c "[ -z \"\$(ls -A '$FAKE_SKY_STATE/vms')\" ]"
children=$( (logs "$j17"; logs "$j18") | sed -n 's/.*) child \([0-9]*\)$/\1/p' | tr '\n' ' ')
check "_shutdown: no job process left (pids $children)" eval '[ -n "$children" ] && gone $children'

if [ "$fails" -gt 0 ]; then
  echo "test_fake_sky_vm: $fails check(s) failed" >&2
  exit 1
fi
echo "test_fake_sky_vm: all checks passed"
