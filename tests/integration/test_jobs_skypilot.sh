#!/usr/bin/env bash
# The SkyPilot backend against the stand-in `sky` (tests/fixtures/fake_sky/sky) on PATH: launch,
# recovery after preemption, failures in each error category with advice, cancel, cluster runs,
# the exact argv VibeML sends, and one queue call per poll for N = 1, 10, 500 jobs.
set -euo pipefail
bin=$1
src=${VML_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
home=$(mktemp -d)
trap 'sky _shutdown >/dev/null 2>&1 || true; rm -rf "$home"' EXIT
export VIBEML_HOME=$home FAKE_SKY_STATE=$home/fake_sky VML_SOURCE_DIR=$src
export PATH="$src/tests/fixtures/fake_sky:$PATH" VIBEML_SKY_BACKOFF=0.01 VIBEML_POLL_INTERVAL=0
unset VIBEML_SKY
# the tasks name HF_TOKEN: a launch without it in the vault is refused (fail closed)
printf "hf_fakeTokenForTests0123456789" | "$bin" secrets set HF_TOKEN >/dev/null
"$bin" run "$src/tests/integration/jobs_skypilot.lua"
