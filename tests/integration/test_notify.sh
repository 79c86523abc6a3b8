#!/usr/bin/env bash
# Webhook notifications (issue 15), local backend: a receiver on 127.0.0.1 gets signed JSON events
# (HMAC-SHA256 under a vault key, checked here) for a job that starts and completes and for one a
# watchdog stops; Slack-format bodies go to a second hook; a 500 is retried; no body carries a
# secret (the job's name is a vault secret's value: it arrives redacted); the per-job delivery
# log names hosts only.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
job_home
fail() { echo "FAIL: $*" >&2; cat "$home/got.jsonl" >&2 2>/dev/null || true; exit 1; }

key='nk-9Qw2Lz7Tx4Pm1Rb8Vc3D'
token='hf_Zq8Lm3Xv7Tn2Wp9Rb4Kc6J'
printf '%s\n' "$key" | "$bin" secrets set VIBEML_NOTIFY_KEY 2>/dev/null || fail "secrets set"
printf '%s\n' "$token" | "$bin" secrets set HF_TOKEN 2>/dev/null || fail "secrets set"

# the receiver: the first POST gets a 500, the rest 200; each request is one JSON line
cat > "$home/recv.py" <<'PY'
import http.server, json, sys, threading
out = sys.argv[1]
state = {"n": 0}
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        with lock:
            state["n"] += 1
            code = 500 if state["n"] == 1 else 200
            with open(out, "a") as f:
                f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body, "code": code}) + "\n")
        self.send_response(code); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
start_receiver "$home/recv.py"
cat > "$home/notify.json" <<JSON
{ "webhooks": [ "http://127.0.0.1:$port/hook/tok-path-4411",
                { "url": "http://127.0.0.1:$port/slack", "format": "slack" } ] }
JSON

launch() { launch_smoke --backend local "$@"; }
ok_id=$(launch --param max_steps=40 --param step_delay_s=0.01 --name "run-$token")
nan_id=$(launch --param max_steps=4000 --param step_delay_s=0.01 --param nan_at_step=30)

# bounded wait for: started + completed (json and slack) for ok_id; watchdog + terminated for nan_id
python3 - "$home/got.jsonl" "$ok_id" "$nan_id" <<'PY' || fail "deliveries missing"
import json, sys, time, os
path, ok_id, nan_id = sys.argv[1:4]
want = {(ok_id, "started"), (ok_id, "completed"), (nan_id, "watchdog"), (nan_id, "terminated")}
for _ in range(600):
    got = set()
    if os.path.exists(path):
        for l in open(path):
            r = json.loads(l)
            if r["path"].startswith("/hook") and r["code"] == 200:
                b = json.loads(r["body"])
                got.add((b["job"]["id"], b["event"]))
    if want <= got:
        sys.exit(0)
    time.sleep(0.2)
print("missing", want - got, file=sys.stderr)
sys.exit(1)
PY
# slack copies arrive too (bounded)
for _ in $(seq 1 100); do grep -c '"/slack"' "$home/got.jsonl" | grep -qv '^[0-3]$' && break; sleep 0.2; done

python3 - "$home/got.jsonl" "$key" "$token" "$ok_id" "$nan_id" <<'PY' || fail "deliveries"
import hashlib, hmac, json, sys
path, key, token, ok_id, nan_id = sys.argv[1:6]
reqs = [json.loads(l) for l in open(path)]
assert reqs[0]["code"] == 500, "the first POST was not answered 500"
first = reqs[0]["headers"]["X-VibeML-Delivery"]
tries = [r for r in reqs if r["headers"].get("X-VibeML-Delivery") == first and r["path"] == reqs[0]["path"]]
assert len(tries) >= 2 and tries[-1]["code"] == 200, "the delivery after a 500 was not retried: %r" % [r["code"] for r in tries]
slack = 0
for r in reqs:
    h, body = r["headers"], r["body"]
    assert key not in body and token not in body, "a secret in a body: " + body
    assert key not in json.dumps(h) and token not in json.dumps(h), "a secret in the headers"
    ts, sig = h["X-VibeML-Timestamp"], h["X-VibeML-Signature"]
    want = "sha256=" + hmac.new(key.encode(), (ts + "." + body).encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(sig, want), "bad signature on %s" % body[:80]
    if r["path"] == "/slack":
        slack += 1
        assert set(json.loads(body)) == {"text"}, body
    else:
        b = json.loads(body)
        if b["event"] == "completed":
            assert b["data"]["outputs"]["output"].endswith(ok_id + "/output"), b["data"]
            assert "cost" in b["data"], b["data"]
            assert b["job"]["name"] != "run-" + token and "run-" in b["job"]["name"], b["job"]
        if b["event"] == "watchdog":
            assert b["data"]["rule"] == "non_finite_loss" and b["data"]["evidence"], b["data"]
        if b["event"] == "terminated":
            assert b["data"]["stop_reason"] == "watchdog: non_finite_loss", b["data"]
assert slack >= 4, "slack deliveries: %d" % slack
print("ok: %d requests, all signed, none with a secret; retried after 500" % len(reqs))
PY
log=$home/jobs/$ok_id/notify.log
[ -f "$log" ] || fail "no delivery log"
grep '"status":200' "$log" >/dev/null || fail "delivery log has no 200"
if grep -q "tok-path-4411" "$log"; then fail "the delivery log shows a webhook path"; fi
grep '"to":"http://127.0.0.1:' "$log" >/dev/null || fail "the delivery log does not name the host"
echo "PASS"
