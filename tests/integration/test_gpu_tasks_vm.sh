#!/usr/bin/env bash
# The GPU workflows' generated tasks on the VM simulator with stand-in pip/python/accelerate
# (issue 11): every file their commands name reaches the VM (gpu_tasks_vm.lua).
set -euo pipefail
bin=$(realpath "$1")
src=${VML_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
home=$(mktemp -d)
export VIBEML_HOME=$home FAKE_SKY_STATE=$home/fake_sky VML_SOURCE_DIR=$src
export PATH="$src/tests/fixtures/fake_sky:$PATH" VIBEML_SKY_BACKOFF=0.01 VIBEML_POLL_INTERVAL=0
unset VIBEML_SKY
trap 'sky _shutdown >/dev/null 2>&1 || true; rm -rf "$home"' EXIT
mkdir -p "$FAKE_SKY_STATE"
# every cloud in the catalog enabled; the stand-ins first on the VM's PATH
python3 - "$src/tests/fixtures/fake_vm_bin" <<'PY'
import json, os, sys
caps = ["compute", "storage"]
st = {"clouds": {c: caps for c in ("AWS", "GCP", "Azure", "Lambda", "Nebius", "RunPod", "Vast",
                                   "Fluidstack", "Paperspace", "Cudo", "OCI", "DO", "Hyperbolic")},
      "vm_path_prepend": [sys.argv[1]]}
json.dump(st, open(os.environ["FAKE_SKY_STATE"] + "/state.json", "w"))
PY
printf "hf_fakeTokenForTests0123456789" | "$bin" secrets set HF_TOKEN >/dev/null
"$bin" run "$src/tests/integration/gpu_tasks_vm.lua"
