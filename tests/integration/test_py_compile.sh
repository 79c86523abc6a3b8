#!/usr/bin/env bash
# Every shipped training script compiles: python3 -m py_compile on workflows/**/*.py and
# plugins/**/*.py (byte code goes to a temporary folder, not the source tree).
set -euo pipefail
src=${VML_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
while IFS= read -r -d '' f; do
  PYTHONPYCACHEPREFIX="$tmp" python3 -m py_compile "$f"
  echo "ok ${f#$src/}"
  n=$((n + 1))
done < <(find "$src/workflows" "$src/plugins" -name '*.py' -print0 2>/dev/null)
[ "$n" -ge 5 ] || { echo "expected at least 5 training scripts, found $n"; exit 1; }
echo "$n scripts compile"
