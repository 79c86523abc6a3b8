# shellcheck shell=bash
# Sourced by the integration tests that run jobs (local backend, or the SkyPilot VM simulator
# tests/fixtures/fake_sky on PATH as `sky`):  source "$(dirname "$0")/lib.sh" "$1"
# Not named test_*.sh, so CMake does not register it. Sets bin (the vibeml binary: the test's
# argument), here (tests/integration) and src (the source tree: CTest passes VML_SOURCE_DIR).
bin=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${VML_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
ids=() # jobs to stop at exit (launch_smoke adds to it when not called in a subshell)
rpid="" # the receiver start_receiver runs, stopped at exit
sim=""  # set by sim_env: the simulator is shut down at exit

# need_node_module NAME: the test's Node package is installed (bash .ci/deps --tests)
need_node_module() {
  [ -d "$here/node_modules/$1" ] && return 0
  echo "$(basename "$0"): $1 is not installed; run: bash .ci/deps --tests" >&2
  exit 1
}

# run_node_test FILE: runs tests/integration/FILE (node --test) against the binary, from here
run_node_test() {
  cd "$here"
  VIBEML_BIN="$bin" node --test --test-concurrency=1 "$1"
}

# job_home [POLL_S]: a fresh VIBEML_HOME in $home (the working directory from now on), removed
# at exit after the jobs in ids and the receiver are stopped and the simulator (if sim_env was
# used) is shut down. VIBEML_POLL_INTERVAL is POLL_S (0 unless given; "" leaves the default).
job_home() {
  home=$(mktemp -d)
  export VIBEML_HOME=$home VML_SOURCE_DIR=$src
  unset VIBEML_PASSPHRASE # the vault of the fresh home, not one the caller unlocks
  if [ -n "${1-0}" ]; then export VIBEML_POLL_INTERVAL=${1-0}; else unset VIBEML_POLL_INTERVAL; fi
  trap cleanup EXIT
  cd "$home"
}
cleanup() {
  local id
  for id in "${ids[@]}"; do "$bin" jobs stop "$id" >/dev/null 2>&1 || true; done
  if [ -n "$rpid" ]; then kill "$rpid" 2>/dev/null || true; fi
  if [ -n "$sim" ]; then sky _shutdown >/dev/null 2>&1 || true; fi
  rm -rf "$home"
}

# sim_env: the VM simulator on PATH as `sky` (state under $home/fake_sky), quick retries
sim_env() {
  export FAKE_SKY_STATE=$home/fake_sky PATH="$src/tests/fixtures/fake_sky:$PATH"
  export VIBEML_SKY_BACKOFF=0.01
  unset VIBEML_SKY
  sim=1
}

# start_receiver SCRIPT: runs a Python stand-in webhook receiver, SCRIPT OUT, which prints its
# loopback port first and appends what it gets to OUT ($home/got.jsonl); sets port (and rpid)
start_receiver() {
  python3 "$1" "$home/got.jsonl" >"$home/port" &
  rpid=$!
  for _ in $(seq 1 100); do [ -s "$home/port" ] && break; sleep 0.1; done
  port=$(cat "$home/port")
  [ -n "$port" ] || fail "receiver did not start"
}

# fail MESSAGE: stops the test; shows the last launched job's status when there is one
fail() {
  echo "FAIL: $*" >&2
  if [ -n "${last:-}" ]; then "$bin" jobs show "$last" --json >&2 || true; fi
  exit 1
}

# field PATH < json: prints one value (dotted path; numbers index arrays; objects as JSON)
field() { python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else (v or {}).get(k)
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else v))' "$1"; }

show() { "$bin" jobs show "$1" --json; }

# launch_smoke ARGS...: launches the smoke workflow on acme's tiny model and prints the job id
launch_smoke() {
  local id
  id=$("$bin" launch --model acme/tiny-1B --dataset acme/text --workflow smoke --offline "$@" \
    2>"$home/launch.err") || { cat "$home/launch.err" >&2; fail "launch $*"; }
  ids+=("$id")
  last=$id
  echo "$id"
}

# wait_end ID [TRIES]: prints the job's state once it has ended (or the last seen, after
# TRIES polls a quarter second apart; 600 unless given)
wait_end() {
  local st=""
  for _ in $(seq 1 "${2:-600}"); do
    st=$(show "$1" | field state)
    case "$st" in completed|failed|terminated) echo "$st"; return 0 ;; esac
    sleep 0.25
  done
  echo "$st"
}

# wait_for ID STATE...: polls (bounded) until the job is in one of the states
wait_for() {
  local id=$1 st="" want
  shift
  for _ in $(seq 1 240); do
    st=$(show "$id" | field state)
    for want in "$@"; do [ "$st" = "$want" ] && return 0; done
    sleep 0.25
  done
  fail "job $id is $st, expected $*"
}

# watchdog_events ID: one line per watchdog event: rule, action | evidence
watchdog_events() { "$bin" jobs logs "$1" --stream events --tail 100000 | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    if e.get("kind") == "watchdog":
        d = e["data"]; print(d["rule"], d["action"], "|", d["evidence"])'; }

# knob NAME JSON: sets one of the simulator's settings in its state file (under its lock)
knob() { python3 - "$@" <<'PY'
import json, os, sys, fcntl
d = os.environ["FAKE_SKY_STATE"]; os.makedirs(d, exist_ok=True)
p = d + "/state.json"
with open(d + "/lock", "w") as lk:
    fcntl.flock(lk, fcntl.LOCK_EX)
    st = json.load(open(p)) if os.path.exists(p) else {}
    st[sys.argv[1]] = json.loads(sys.argv[2])
    json.dump(st, open(p + ".t", "w")); os.replace(p + ".t", p)
PY
}
