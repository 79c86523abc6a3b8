#!/usr/bin/env bash
# The smoke workflow's training script, for real: valid @@VIBEML lines, checkpoints, SIGKILL
# mid-run then restart resumes from the last checkpoint, SIGTERM saves a checkpoint and exits
# 143, and a finished run leaves the artifact. The parameters are the ones vibeml builds.
set -euo pipefail
bin=$1
src=${VML_SOURCE_DIR:?}
script=$src/workflows/smoke/train.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export VIBEML_HOME=$work/home
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }

# the parameter document exactly as `vibeml` builds it for the smoke workflow
cat > build.lua <<'LUA'
local wf = require "vibeml.workflows"
local task = assert(wf.build("smoke", { model = "vibeml/smoke-model", dataset = "vibeml/builtin",
  hyperparameters = { max_steps = tonumber(arg[1]), save_steps = 10, logging_steps = 5,
                      step_delay_s = tonumber(arg[2]), save_total_limit = 3 } }))
print(task.envs.VIBEML_PARAMS)
LUA
params() { "$bin" run build.lua "$1" "$2"; }

check_lines() { # every @@VIBEML line is JSON with v, event, ts
  python3 - "$1" <<'PY'
import json, sys
n = 0
events = []
for line in open(sys.argv[1], encoding="utf-8"):
    if "@@VIBEML " not in line:
        continue
    rec = json.loads(line.split("@@VIBEML ", 1)[1])
    assert rec["v"] == 1 and isinstance(rec["ts"], float) and rec["event"], rec
    if rec["event"] == "step":
        for k in ("step", "total_steps", "progress", "loss", "elapsed_s", "eta_s", "tokens"):
            assert k in rec, (k, rec)
        assert 0 <= rec["progress"] <= 1
    events.append(rec["event"])
    n += 1
assert n > 0, "no @@VIBEML lines"
print(" ".join(sorted(set(events))))
PY
}

# 1. a run killed with SIGKILL mid-way
P=$(params 120 0.02)
VIBEML_PARAMS=$P python3 "$script" > run1.out 2> run1.err &
pid=$!
for i in $(seq 1 200); do
  [ -e checkpoints/checkpoint-40/COMPLETE ] && break
  sleep 0.05
done
kill -KILL $pid; wait $pid 2>/dev/null || true
[ -e checkpoints/checkpoint-40/COMPLETE ] || fail "no checkpoint-40 before the kill"
ls checkpoints/final >/dev/null 2>&1 && fail "killed run must not have a final artifact"
last=$(ls -d checkpoints/checkpoint-* | sed 's/.*checkpoint-//' | sort -n | tail -1)
echo "killed after checkpoint $last"
check_lines run1.out > /dev/null
# a half-written checkpoint (no COMPLETE marker) must be ignored on restart
mkdir -p checkpoints/checkpoint-999 && echo '{' > checkpoints/checkpoint-999/state.json

# 2. restart: resumes from the last complete checkpoint and finishes with the artifact
VIBEML_PARAMS=$P python3 "$script" > run2.out 2> run2.err || fail "restart failed: $(cat run2.err)"
grep -q "resuming from checkpoints/checkpoint-$last" run2.err || fail "did not resume from $last: $(cat run2.err)"
python3 - "$last" <<'PY' || fail "resumed run's events are wrong"
import json, sys
last = int(sys.argv[1])
ev = [json.loads(l.split("@@VIBEML ", 1)[1]) for l in open("run2.out") if "@@VIBEML " in l]
start = [e for e in ev if e["event"] == "start"][0]
assert start["resumed_from_step"] == last, start
steps = [e["step"] for e in ev if e["event"] == "step"]
assert steps and steps[0] > last and steps[-1] == 120, steps
end = [e for e in ev if e["event"] == "end"][-1]
assert end["status"] == "completed" and end["step"] == 120, end
PY
events=$(check_lines run2.out)
for e in start step checkpoint phase eval artifact end; do
  echo "$events" | grep -qw "$e" || fail "event $e missing (got: $events)"
done
python3 -c '
import json; m = json.load(open("checkpoints/final/model.json"))
assert m["format"] == "vibeml-char-bigram-v1" and m["trained_steps"] == 120, m.keys()
assert len(m["weights"]) == len(m["vocab"]) and m["eval_loss"] < 3.6
' || fail "final artifact is wrong"
[ -f checkpoints/final/README.md ] || fail "no README in the artifact"
ls -d checkpoints/.tmp-* 2>/dev/null && fail "temporary checkpoint folders left behind"
echo "resumed from $last and finished with checkpoints/final/model.json"

# 3. SIGTERM: a checkpoint at the current step, status stopped, exit 143
rm -rf checkpoints
P=$(params 100000 0.01)
VIBEML_PARAMS=$P python3 "$script" > run3.out 2> run3.err &
pid=$!
for i in $(seq 1 200); do
  grep -q '"event":"step","ts":[0-9.]*,"step":15,' run3.out 2>/dev/null && break
  sleep 0.05
done
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ "$rc" = 143 ] || fail "SIGTERM exit status $rc, expected 143"
python3 - <<'PY' || fail "SIGTERM did not save a checkpoint"
import json, os
ev = [json.loads(l.split("@@VIBEML ", 1)[1]) for l in open("run3.out") if "@@VIBEML " in l]
end = ev[-1]
assert end["event"] == "end" and end["status"] == "stopped", end
ck = [e for e in ev if e["event"] == "checkpoint"][-1]
assert ck["step"] == end["step"], (ck, end)
assert os.path.exists(os.path.join(ck["path"], "COMPLETE")), ck
print("SIGTERM at step", end["step"], "saved", ck["path"])
PY

# 4. a failure is reported as an error event with a non-zero exit
rm -rf checkpoints
cat > fail.lua <<'LUA'
local wf = require "vibeml.workflows"
print(assert(wf.build("smoke", { model = "a/b", dataset = "c/d",
  hyperparameters = { max_steps = 50, fail_at_step = 7 } })).envs.VIBEML_PARAMS)
LUA
P=$("$bin" run fail.lua)
rc=0; VIBEML_PARAMS=$P python3 "$script" > run4.out 2> run4.err || rc=$?
[ "$rc" = 1 ] || fail "a failing run exited $rc"
grep -q '"event":"error","ts":[0-9.]*,"exc_type":"RuntimeError"' run4.out || fail "no error event"

# 5. the parameters may also come from a file; a local JSONL dataset in alpaca format
printf '%s\n' '{"instruction":"Say hi","input":"","output":"Hi there!"}' \
  '{"instruction":"Count","input":"1 2","output":"3 4 5"}' > data.jsonl
rm -rf checkpoints
python3 -c '
import json, sys
d = json.loads(sys.argv[1]); d["hyperparameters"]["dataset_file"] = "data.jsonl"
d["hyperparameters"]["max_steps"] = 20; d["hyperparameters"]["step_delay_s"] = 0
open("params.json", "w").write(json.dumps(d))' "$(params 20 0)"
VIBEML_PARAMS_FILE=params.json python3 "$script" > run5.out 2> run5.err || fail "file params: $(cat run5.err)"
grep -q '"dataset_format":"alpaca"' run5.out || fail "alpaca format not detected"

# 6. push to the Hub when asked, through HF_ENDPOINT (a loopback stand-in of the Hub's create-repo
# and commit endpoints records what arrives)
rm -rf checkpoints
cat > hub.py <<'PY'
import base64, json, sys, threading
from http.server import BaseHTTPRequestHandler, HTTPServer
log = []
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        log.append({"path": self.path, "auth": self.headers.get("Authorization"),
                    "type": self.headers.get("Content-Type"), "body": body.decode()})
        code = 409 if self.path == "/api/repos/create" and len(log) > 1 else 200
        self.send_response(code); self.send_header("Content-Type", "application/json")
        self.end_headers(); self.wfile.write(b"{}")
        if "/commit/" in self.path:
            json.dump(log, open("hub.log", "w"))
srv = HTTPServer(("127.0.0.1", 0), H)
open("hub.port", "w").write(str(srv.server_address[1]))
srv.serve_forever()
PY
python3 hub.py & hub=$!
for i in $(seq 1 100); do [ -s hub.port ] && break; sleep 0.05; done
cat > push.lua <<'LUA'
local wf = require "vibeml.workflows"
print(assert(wf.build("smoke", { model = "a/b", dataset = "c/d", push_to_hub = "me/smoke-model",
  hyperparameters = { max_steps = 10 } })).envs.VIBEML_PARAMS)
LUA
P=$("$bin" run push.lua)
rc=0
VIBEML_PARAMS=$P HF_ENDPOINT="http://127.0.0.1:$(cat hub.port)" HF_TOKEN=hf_test_token \
  python3 "$script" > run6.out 2> run6.err || rc=$?
kill $hub 2>/dev/null || true
[ "$rc" = 0 ] || fail "push run failed: $(cat run6.err)"
python3 - <<'PY' || fail "the Hub did not get the model"
import base64, json
log = json.load(open("hub.log"))
create, commit = log[0], log[-1]
assert create["path"] == "/api/repos/create", create
assert json.loads(create["body"])["name"] == "smoke-model" and json.loads(create["body"])["organization"] == "me"
assert commit["path"] == "/api/models/me/smoke-model/commit/main", commit["path"]
assert commit["auth"] == "Bearer hf_test_token" and commit["type"] == "application/x-ndjson"
lines = [json.loads(l) for l in commit["body"].splitlines()]
assert lines[0]["key"] == "header"
files = {l["value"]["path"]: base64.b64decode(l["value"]["content"]) for l in lines[1:]}
assert json.loads(files["model.json"])["trained_steps"] == 10, files.keys()
print("pushed", sorted(files))
PY
grep -q '"phase":"upload","status":"end","repo":"me/smoke-model"' run6.out || fail "no upload event"
echo "push to the Hub checked"
echo "all smoke script checks passed"
