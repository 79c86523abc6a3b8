#!/usr/bin/env bash
# The re-quote's estimate error (issue 15): smoke runs with varied step_delay_s, on the local
# backend and through the SkyPilot VM simulator (tests/fixtures/fake_sky). Each run's status is
# read every 0.25 s; at the first reading past 10, 25, 50 and 75 % of the steps the re-quote's
# expected total run time (runtime so far + time left) is kept, and compared at the end with
# the true run time (ended_at - started_at, as the report measures it). Prints one row per run
# and the mean error per progress point; numbers, not assertions.
# usage: bench/requote/run.sh [path/to/vibeml] [delays (default "0.01 0.03 0.06")] [backends]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-$src/build/vibeml}")
delays=${2:-"0.01 0.03 0.06"}
backends=${3:-"local skypilot"}
home=$(mktemp -d)
export VIBEML_HOME=$home FAKE_SKY_STATE=$home/fake_sky VML_SOURCE_DIR=$src VIBEML_POLL_INTERVAL=0
export PATH="$src/tests/fixtures/fake_sky:$PATH" VIBEML_SKY_BACKOFF=0.01
unset VIBEML_SKY
trap 'sky _shutdown >/dev/null 2>&1 || true; rm -rf "$home"' EXIT
cd "$home"
"$bin" doctor >/dev/null 2>&1 || true
python3 - "$bin" "$delays" "$backends" <<'PY'
import json, subprocess, sys, time
bin, delays, backends = sys.argv[1], [float(d) for d in sys.argv[2].split()], sys.argv[3].split()
POINTS = (10, 25, 50, 75)
def show(i):
    return json.loads(subprocess.run([bin, "jobs", "show", i, "--json"], capture_output=True, text=True, check=True).stdout)
rows = []
for backend in backends:
    for d in delays:
        steps = int(round(18 / d)) if d > 0 else 2000  # about 18 s of steps
        i = subprocess.run([bin, "launch", "--model", "acme/tiny-1B", "--dataset", "acme/text", "--workflow", "smoke",
                            "--offline", "--backend", backend, "--param", "max_steps=%d" % steps,
                            "--param", "step_delay_s=%g" % d, "--yes"],
                           capture_output=True, text=True, check=True).stdout.strip()
        got = {}
        while True:
            js = show(i)
            if js["state"] in ("completed", "failed", "terminated"):
                break
            rq, pct = js.get("requote"), (js.get("progress") or {}).get("percent") or 0
            for p in POINTS:
                if p not in got and pct >= p and rq and rq.get("expected_runtime_s"):
                    got[p] = rq["expected_runtime_s"]
            time.sleep(0.25)
        true = js["ended_at"] - js["started_at"]
        err = {p: 100 * (got[p] - true) / true for p in got}
        # the tail: from the last step (the program's clock) to the end VibeML recorded
        ev = subprocess.run([bin, "jobs", "logs", i, "--stream", "events", "--tail", "100000"],
                            capture_output=True, text=True).stdout.splitlines()
        last = max([json.loads(l)["data"].get("ts") or 0 for l in ev
                    if json.loads(l)["kind"] == "progress" and (json.loads(l)["data"] or {}).get("event") == "step"] or [0])
        rows.append((backend, d, steps, true, err))
        print("%-8s delay %.2f s  %5d steps  true %6.1f s  tail %4.1f s  error %s   (%s)" % (backend, d, steps, true,
              js["ended_at"] - last if last else -1,
              "  ".join("%d%%: %+5.1f %%" % (p, err[p]) for p in POINTS if p in err), js["state"]), flush=True)
print()
for backend in backends:
    r = [x for x in rows if x[0] == backend]
    print("%-8s mean error  %s" % (backend, "  ".join("%d%%: %+5.1f %%" % (p, sum(x[4][p] for x in r if p in x[4]) / max(1, sum(1 for x in r if p in x[4]))) for p in POINTS)))
PY
