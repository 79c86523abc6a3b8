#!/usr/bin/env bash
# The re-quote against this month's budget (issue 15), through the SkyPilot VM simulator (billed
# at the smoke's CPU rate): while the month's budget has room, a running job's re-quote shows
# what is left for it and no warning; once the person lowers the monthly budget below what the
# job is projected to cost (and below its cap, so the cap would not stop it first), the status
# says so (JSON and the CLI's text), one "cost" event records it before the budget is reached,
# and the configured webhook receives "budget_projected".
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
job_home
sim_env
fail() { echo "FAIL: $*" >&2; [ -n "${id:-}" ] && "$bin" jobs show "$id" --json >&2; exit 1; }
"$bin" doctor >/dev/null 2>&1 || true

cat > "$home/recv.py" <<'PY'
import http.server, json, sys
out = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        with open(out, "a") as f:
            f.write(json.dumps({"event": self.headers.get("X-VibeML-Event"), "body": body}) + "\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
start_receiver "$home/recv.py"
"$bin" config set notify.webhook "http://127.0.0.1:$(cat "$home/port")/hook" >/dev/null 2>&1 || fail "config set notify.webhook"
"$bin" budget set --monthly 5 >/dev/null || fail "budget set"

# 0.096 $/h: 4000 steps x 0.05 s = 200 s cost about $0.0053; the cap ($1) is far above that
id=$("$bin" launch --model acme/tiny-1B --dataset acme/text --workflow smoke --offline --backend skypilot \
       --param max_steps=4000 --param step_delay_s=0.05 --max-cost 1 --yes 2>"$home/launch.err") \
  || { cat "$home/launch.err" >&2; fail "launch"; }
ids+=("$id")

echo "# 1. room in the month: the re-quote shows what is left, no warning"
js=""
for _ in $(seq 1 600); do
  js=$(show "$id")
  [ -n "$(echo "$js" | field requote.budget_left)" ] && break
  case "$(echo "$js" | field state)" in completed|failed|terminated) fail "ended early" ;; esac
  sleep 0.2
done
[ -n "$(echo "$js" | field requote.budget_left)" ] || fail "no budget_left in the re-quote"
python3 -c 'import sys; sys.exit(0 if abs(float(sys.argv[1]) - 5) < 1e-6 else 1)' "$(echo "$js" | field requote.budget_left)" \
  || fail "budget_left $(echo "$js" | field requote.budget_left), expected 5 (the whole month for the only job)"
[ -z "$(echo "$js" | field requote.crosses_budget)" ] || fail "a warning with room in the month"
echo "ok 1 - $(echo "$js" | field requote.summary)"

echo "# 2. the person lowers the monthly budget below the projection: told before it is reached"
"$bin" budget set --monthly 0.004 >/dev/null || fail "budget set lower"
for _ in $(seq 1 600); do
  js=$(show "$id")
  [ "$(echo "$js" | field requote.crosses_budget)" = True ] && break
  case "$(echo "$js" | field state)" in completed|failed|terminated) fail "ended before the warning" ;; esac
  sleep 0.2
done
[ "$(echo "$js" | field requote.crosses_budget)" = True ] || fail "no crosses_budget"
echo "$js" | field requote.summary | grep "crosses this month's remaining budget" >/dev/null || fail "summary: $(echo "$js" | field requote.summary)"
"$bin" jobs show "$id" | grep "warning:   this month's budget runs out" >/dev/null || fail "the CLI's text has no warning"
"$bin" jobs logs "$id" --stream events --tail 100000 > "$home/ev.jsonl"
python3 - "$home/ev.jsonl" "$id" <<'PY' || fail "the cost event"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
w = [e["data"] for e in ev if e["kind"] == "cost" and (e["data"] or {}).get("requote") == "crosses_budget"]
assert len(w) == 1, w
d = w[0]
assert d["accrued"] < d["budget_left"] < d["projected"], d          # told before it happens
assert abs(d["budget_left"] - 0.004) < 1e-6 and d["month_limit"] == 0.004 and d["cap"] == 1, d
assert "vibeml budget set --monthly" in d["message"] and "jobs stop " + sys.argv[2] in d["message"], d["message"]
print("  " + d["message"])
PY
python3 - "$home/got.jsonl" "$id" <<'PY' || fail "no budget_projected webhook"
import json, os, sys, time
for _ in range(300):
    if os.path.exists(sys.argv[1]):
        for l in open(sys.argv[1]):
            r = json.loads(l)
            if r["event"] == "budget_projected":
                b = json.loads(r["body"])
                assert b["job"]["id"] == sys.argv[2] and b["data"]["requote"] == "crosses_budget", b
                sys.exit(0)
    time.sleep(0.2)
sys.exit(1)
PY
[ "$(show "$id" | field state)" = running ] || fail "the warning stopped the job"
echo "ok 2 - told, evented, notified; the job runs on"
echo "PASS"
