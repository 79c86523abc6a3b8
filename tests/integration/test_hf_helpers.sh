#!/usr/bin/env bash
# The Hugging Face workflows' shared module (workflows/vibeml_hf.py) without a GPU or the ML
# packages: parameters, dataset format detection and conversion, complete-checkpoint search,
# the @@VIBEML progress callback against stub Trainer states, SIGTERM -> save and stop, and the
# training scripts failing cleanly (error event, exit 1) where their packages are missing.
set -euo pipefail
src=${VML_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
TMPDIR="$tmp" PYTHONPYCACHEPREFIX="$tmp/pyc" VML_WORKFLOWS="$src/workflows" python3 "$src/tests/integration/hf_helpers_test.py" -v 2>&1 | tail -40
