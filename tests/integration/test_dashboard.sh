#!/usr/bin/env bash
# The job dashboard (issue 15; dashboard.test.mjs): the ui:// view rendered in headless Chromium
# (the Debian package) inside a host page run by the official AppBridge (@modelcontextprotocol/
# ext-apps, bundled for the page with esbuild), a screenshot checked for the loss curve
# and the cost figures, Stop driving terminate_job through the bridge; the same view at
# /jobs/<id> of `vibeml serve --http`. Jobs run through the VM simulator `sky` (billed at the
# smoke's CPU rate, so the cost figures are not zero).
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
src=${VML_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
[ -d "$here/node_modules/playwright-core" ] || { echo "run: bash .ci/deps --tests" >&2; exit 1; }
chromium=${VIBEML_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium" ] || { echo "no chromium: install the Debian package (bash .ci/deps)" >&2; exit 1; }
home=$(mktemp -d)
export VIBEML_HOME=$home FAKE_SKY_STATE=$home/fake_sky VML_SOURCE_DIR=$src
export PATH="$src/tests/fixtures/fake_sky:$PATH" VIBEML_SKY_BACKOFF=0.01 VIBEML_POLL_INTERVAL=0.3
unset VIBEML_SKY
ids=()
cleanup() {
  for id in "${ids[@]}"; do "$bin" jobs stop "$id" >/dev/null 2>&1 || true; done
  sky _shutdown >/dev/null 2>&1 || true; rm -rf "$home"
}
trap cleanup EXIT
cd "$home"
launch() { local id; id=$("$bin" launch --model acme/tiny-1B --dataset acme/text --workflow smoke --offline \
             --backend skypilot "$@" 2>"$home/launch.err") || { cat "$home/launch.err" >&2; exit 1; }
           ids+=("$id"); echo "$id"; }
"$bin" doctor >/dev/null 2>&1 || true
# two long runs (one stopped through the MCP Apps bridge, one from the browser page) and one that
# fails before its first step (its chart must be found empty)
app=$(launch --param max_steps=100000 --param step_delay_s=0.05 --param logging_steps=2 --max-cost 0.5 --yes)
web=$(launch --param max_steps=100000 --param step_delay_s=0.05 --param logging_steps=2 --max-cost 0.5 --yes)
empty=$(launch --param max_steps=100 --param fail_at_step=1)
cd "$here"
VIBEML_BIN="$bin" CHROMIUM="$chromium" JOB_APP=$app JOB_WEB=$web JOB_EMPTY=$empty \
  SHOT_DIR="$(dirname "$bin")" node --test --test-concurrency=1 dashboard.test.mjs
