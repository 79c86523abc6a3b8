#!/usr/bin/env bash
# The job dashboard (issue 15; dashboard.test.mjs): the ui:// view rendered in headless Chromium
# (the Debian package) inside a host page run by the official AppBridge (@modelcontextprotocol/
# ext-apps, bundled for the page with esbuild), a screenshot checked for the loss curve
# and the cost figures, Stop driving terminate_job through the bridge; the same view at
# /jobs/<id> of `vibeml serve --http`. Jobs run through the VM simulator `sky` (billed at the
# smoke's CPU rate, so the cost figures are not zero).
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
need_node_module playwright-core
chromium=${VIBEML_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium" ] || { echo "no chromium: install the Debian package (bash .ci/deps)" >&2; exit 1; }
job_home 0.3
sim_env
launch() { launch_smoke --backend skypilot "$@"; }
"$bin" doctor >/dev/null 2>&1 || true
# two long runs (one stopped through the MCP Apps bridge, one from the browser page) and one that
# fails before its first step (its chart must be found empty)
app=$(launch --param max_steps=100000 --param step_delay_s=0.05 --param logging_steps=2 --max-cost 0.5 --yes)
web=$(launch --param max_steps=100000 --param step_delay_s=0.05 --param logging_steps=2 --max-cost 0.5 --yes)
empty=$(launch --param max_steps=100 --param fail_at_step=1)
cd "$here"
VIBEML_BIN="$bin" CHROMIUM="$chromium" JOB_APP=$app JOB_WEB=$web JOB_EMPTY=$empty \
  SHOT_DIR="$(dirname "$bin")" node --test --test-concurrency=1 dashboard.test.mjs
