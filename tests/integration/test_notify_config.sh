#!/usr/bin/env bash
# Webhooks set from the CLI, and the end of a job whose local supervisor is killed (issue 15):
# `vibeml config set|get|unset notify.webhook` adds two hooks (one Slack-format with its own
# signing secret), refuses bad URLs, formats and secret names with clear errors (notify.json
# unchanged), lists them with masked URLs (--reveal shows them whole). Then a local job billed
# at a test rate has its supervisor SIGKILLed: the next status read finds it gone, fails the job
# ("supervisor killed", the cost so far as its final cost, a fix), writes report.json and
# report.md, and the configured hooks receive "failed", each signed with its own vault key and
# none carrying a secret. Hooks removed with `config unset` get nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
job_home
fail() { echo "FAIL: $*" >&2; cat "$home/got.jsonl" >&2 2>/dev/null || true; exit 1; }

key='nk-7Hs2Qe9Lw4Zx1Vb6Tr3P'
key2='ok-3Jd8Rm5Wq1Ly7Nc2Gf9K'
printf '%s\n' "$key" | "$bin" secrets set VIBEML_NOTIFY_KEY 2>/dev/null || fail "secrets set"
printf '%s\n' "$key2" | "$bin" secrets set SLACK_SIGNING 2>/dev/null || fail "secrets set"

cat > "$home/recv.py" <<'PY'
import http.server, json, sys, threading
out = sys.argv[1]
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        with lock, open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body}) + "\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
start_receiver "$home/recv.py"
hook_a="http://127.0.0.1:$port/hook/tok-a-5521"
hook_b="http://127.0.0.1:$port/slack/tok-b-7730"

echo "# 1. config set / get / unset notify.webhook"
"$bin" config set notify.webhook "$hook_a" >/dev/null || fail "set hook a"
"$bin" config set notify.webhook "$hook_b" --format slack --secret SLACK_SIGNING >/dev/null || fail "set hook b"
before=$(cat "$home/notify.json")
# refusals: exit 2, a message naming what is wrong, nothing written
refuse() {
  local want=$1; shift
  local rc=0
  "$bin" config "$@" >/dev/null 2>"$home/err" || rc=$?
  [ "$rc" = 2 ] || fail "config $*: exit $rc, expected 2"
  grep -- "$want" "$home/err" >/dev/null || fail "config $*: message '$(cat "$home/err")' lacks '$want'"
  [ "$(cat "$home/notify.json")" = "$before" ] || fail "config $*: notify.json changed"
}
refuse "only over http or https" set notify.webhook "ftp://127.0.0.1/x"
refuse "no scheme" set notify.webhook "127.0.0.1:$port/x"
refuse "names no host" set notify.webhook "https:///x"
refuse "spaces" set notify.webhook "http://127.0.0.1/a b"
refuse "port must be a number from 1 to 65535" set notify.webhook "http://127.0.0.1:70000/x"
refuse "format must be json, slack or ntfy" set notify.webhook "$hook_a" --format teams
refuse "not a secret name" set notify.webhook "$hook_a" --secret "1-bad"
refuse "unknown option" set notify.webhook "$hook_a" --fromat slack
refuse "give the URL" set notify.webhook
"$bin" config get notify.webhook --json > "$home/list.json"
python3 - "$home/list.json" <<'PY' || fail "config get notify.webhook --json"
import json, sys
l = json.load(open(sys.argv[1]))["notify.webhook"]
assert [(h["format"], h["key_secret"]) for h in l] == [("json", "VIBEML_NOTIFY_KEY"), ("slack", "SLACK_SIGNING")], l
assert all("tok-" not in h["url"] and h["url"].startswith("http://127.0.0.1:") for h in l), l  # masked
PY
"$bin" config get notify.webhook --reveal | grep -- "$hook_b" >/dev/null || fail "--reveal does not show the URL"
"$bin" config get notify.webhook | grep "tok-" >/dev/null && fail "an unmasked URL in the list"
# the same URL again changes its options instead of adding a third hook
"$bin" config set notify.webhook "$hook_a" --format json | grep "^updated" >/dev/null || fail "re-adding did not update"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["webhooks"]))' "$home/notify.json")" = 2 ] \
  || fail "a duplicate hook was stored"
echo "ok 1 - set, refuse, list, update"

echo "# 2. a local job whose supervisor is SIGKILLed: failed, reported, notified"
cat > "$home/launch.lua" <<'LUA'
-- billed at 3.6 USD/h (0.1 cent a second, cap 10 USD) so the cost so far is not zero
local p = assert(require("vibeml.planner").plan({ model = "acme/tiny-1B", dataset = "acme/text", workflow = "smoke",
  offline = true, hyperparameters = { max_steps = 100000, step_delay_s = 0.02, save_steps = 50 } }))
local job = assert(require("vibeml.jobs").launch(p, { backend = "local", rate_hr = 3.6, cap = 10 }))
print(job.id)
LUA
id=$("$bin" run "$home/launch.lua") || fail "launch"
ids+=("$id")
for _ in $(seq 1 400); do
  [ "$(show "$id" | field progress.step)" -ge 60 ] 2>/dev/null && break
  sleep 0.1
done
js=$(show "$id")
[ "$(echo "$js" | field state)" = running ] || fail "the job is not running: $(echo "$js" | field state)"
spid=$(echo "$js" | field backend_ids.pid)
[ -n "$spid" ] || fail "no supervisor pid"
grep -a "supervise" "/proc/$spid/cmdline" >/dev/null || fail "pid $spid is not the supervisor"
pgid=$(ps -o pgid= --ppid "$spid" | tr -d ' ' | head -1)
[ -n "$pgid" ] && [ "$pgid" != "$spid" ] || fail "no training group under the supervisor"
kill -KILL "$spid"
for _ in $(seq 1 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
js=$(show "$id")  # the status read that finds the supervisor gone
[ "$(echo "$js" | field state)" = failed ] || fail "state after SIGKILL: $(echo "$js" | field state)"
[ "$(echo "$js" | field failure.category)" = supervisor ] || fail "category $(echo "$js" | field failure.category)"
echo "$js" | field failure.message | grep "^supervisor killed" >/dev/null || fail "message $(echo "$js" | field failure.message)"
[ "$(echo "$js" | field failure.fixes.0.tool)" = launch_training ] || fail "no relaunch fix"
cost=$(echo "$js" | field cost.final)
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "${cost:-0}" || fail "no final cost: '$cost'"
python3 - "$home/jobs/$id/report.json" "$cost" <<'PY' || fail "report.json"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["outcome"]["state"] == "failed", r["outcome"]
assert r["outcome"]["failure"]["message"].startswith("supervisor killed"), r["outcome"]
assert abs(r["cost"]["final"] - float(sys.argv[2])) < 1e-6, (r["cost"], sys.argv[2])
assert r["training"]["steps"] >= 60, r["training"]
assert r["outputs"]["last_checkpoint"], r["outputs"]
PY
grep "supervisor killed" "$home/jobs/$id/report.md" >/dev/null || fail "report.md"
# the training group it supervised is gone too (nobody would record it or stop it at its cap)
for _ in $(seq 1 100); do ps -o pid= -g "$pgid" >/dev/null 2>&1 || break; sleep 0.05; done
ps -o pid= -g "$pgid" >/dev/null 2>&1 && fail "the training group $pgid outlived its supervisor"
python3 - "$home/got.jsonl" "$id" "$key" "$key2" <<'PY' || fail "deliveries"
import hashlib, hmac, json, os, sys, time
path, jid, key, key2 = sys.argv[1:5]
want = {("/hook", "failed"), ("/slack", "failed"), ("/hook", "started")}
for _ in range(300):
    got, reqs = set(), []
    if os.path.exists(path):
        reqs = [json.loads(l) for l in open(path)]
        for r in reqs:
            top = "/" + r["path"].split("/")[1]
            ev = r["headers"].get("X-VibeML-Event")
            got.add((top, ev))
    if want <= got:
        break
    time.sleep(0.2)
else:
    sys.exit("missing %r" % (want - got))
for r in reqs:
    h, body = r["headers"], r["body"]
    assert key not in body and key2 not in body and key not in json.dumps(h) and key2 not in json.dumps(h), body
    k = key2 if r["path"].startswith("/slack") else key
    ts = h["X-VibeML-Timestamp"]
    exp = "sha256=" + hmac.new(k.encode(), (ts + "." + body).encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(h["X-VibeML-Signature"], exp), "bad signature on " + r["path"]
    if r["path"].startswith("/slack"):
        assert set(json.loads(body)) == {"text"}, body
    elif h["X-VibeML-Event"] == "failed":
        b = json.loads(body)
        assert b["job"]["id"] == jid and b["data"]["failure"]["message"].startswith("supervisor killed"), b
        assert b["data"]["failure"]["fixes"], b
        assert b["data"]["cost"] > 0, b["data"]
print("ok: %d deliveries, each signed with its hook's key" % len(reqs))
PY
echo "ok 2 - supervisor killed: failed, report, webhooks"

echo "# 3. hooks removed with config unset get nothing"
"$bin" config unset notify.webhook "$hook_a" | grep "^removed" >/dev/null || fail "unset by URL"
"$bin" config get notify.webhook --json | python3 -c 'import json,sys; l=json.load(sys.stdin)["notify.webhook"]; assert [h["format"] for h in l] == ["slack"], l' \
  || fail "unset by URL removed the wrong hook"
rc=0; "$bin" config unset notify.webhook "$hook_a" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "unsetting an absent hook: exit $rc"
"$bin" config unset notify.webhook >/dev/null || fail "unset all"
"$bin" config get notify.webhook | grep "^none" >/dev/null || fail "hooks left after unset all"
id2=$("$bin" launch --model acme/tiny-1B --dataset acme/text --workflow smoke --offline --backend local \
        --param max_steps=20 2>/dev/null) || fail "launch 2"
ids+=("$id2")
for _ in $(seq 1 200); do
  case "$(show "$id2" | field state)" in completed|failed|terminated) break ;; esac
  sleep 0.1
done
[ "$(show "$id2" | field state)" = completed ] || fail "job 2 did not complete"
[ ! -e "$home/jobs/$id2/notify" ] && [ ! -e "$home/jobs/$id2/notify.log" ] || fail "a removed hook was sent to"
echo "ok 3 - unset"
echo "PASS"
