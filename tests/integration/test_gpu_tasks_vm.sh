#!/usr/bin/env bash
# The GPU workflows' generated tasks on the VM simulator with stand-in pip/python/accelerate
# (issue 11): every file their commands name reaches the VM (gpu_tasks_vm.lua).
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1"
job_home
sim_env
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
