#!/usr/bin/env bash
# Static checks of the GPU workflows that need no GPU: the task each builds for a grid of requests
# (sizes 0.5-72 B, every dataset format, 1-16 GPUs) is valid against an excerpt of SkyPilot's task
# schema, its disk holds save_total_limit + 1 checkpoints with the model, and sizes outside a
# workflow's range are refused; then every keyword argument the training scripts pass to
# SFTConfig/SFTTrainer/LoraConfig/Unsloth exists in the pinned versions.
set -euo pipefail
bin=$1
src=${VML_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VIBEML_HOME=$tmp/home
mkdir -p "$tmp/tasks"
"$bin" run "$src/tests/integration/lua/dump_tasks.lua" "$tmp/tasks"
python3 "$src/tests/integration/check_tasks.py" "$tmp/tasks" "$src/tests/fixtures/skypilot_task_schema.json"
# the schema check can fail: a task with a field SkyPilot does not know
python3 - "$tmp/tasks" "$src/tests/fixtures/skypilot_task_schema.json" <<'PY'
import json, os, sys, jsonschema
d, s = sys.argv[1], json.load(open(sys.argv[2]))
man = json.load(open(os.path.join(d, "manifest.json")))
t = json.load(open(os.path.join(d, man["tasks"][0]["file"])))
t["resources"]["gpus_wanted"] = 3
assert list(jsonschema.Draft202012Validator(s).iter_errors(t)), "an unknown resources field passed"
PY
python3 "$src/tests/integration/check_script_kwargs.py" "$src" --self-test
# the pins are shown where a user looks: `vibeml workflows show`
for w in unsloth lora full; do
  out=$("$bin" workflows show "$w")
  grep -q "^packages .*torch==2.8.0" <<<"$out" || { echo "FAIL: $w shows no pins"; exit 1; }
  grep -q "^hardware .*NVIDIA, compute capability" <<<"$out" || { echo "FAIL: $w shows no hardware"; exit 1; }
done
out=$("$bin" workflows show unsloth)
grep -q "unsloth==2026.8.19" <<<"$out" || { echo "FAIL: unsloth pin"; exit 1; }
echo "workflows show: pins and hardware for unsloth, lora, full"
