#!/usr/bin/env bash
# A state database lost after a budget was set (issue 16): a 0-byte or deleted vibeml.db must
# not be re-created empty (budgets gone, launches unlimited). Every command that needs it
# refuses with the way out; deleting the marker starts afresh on purpose.
set -euo pipefail
bin=$(realpath "$1")
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export VIBEML_HOME="$home"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" budget set --monthly 5 --per-job 1 >/dev/null 2>&1 || fail "budget set"
[ -f "$home/vibeml.db.expected" ] || fail "no marker beside the database"
out=$("$bin" budget show --json)
echo "$out" | grep -q '"monthly_limit":5' || fail "budget show: $out"

: > "$home/vibeml.db"; rm -f "$home/vibeml.db-wal" "$home/vibeml.db-shm"
set +e
out=$("$bin" budget show 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] || fail "budget show on a 0-byte database succeeded: $out"
echo "$out" | grep -q "is empty (0 bytes)" || fail "no clear message: $out"
echo "$out" | grep -q "Restore" || fail "no fix in: $out"
[ ! -s "$home/vibeml.db" ] || fail "the empty database was re-created"

set +e
out=$("$bin" launch --model test/tiny-0.1B --dataset test/text --workflow smoke --backend local \
      --offline --yes 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a launch ran without its budget: $out"
echo "$out" | grep -q "vibeml.db.expected" || fail "launch: no clear message: $out"

rm -f "$home/vibeml.db"
set +e
out=$("$bin" budget show 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && echo "$out" | grep -q "is missing" || fail "deleted database: $out"

rm -f "$home/vibeml.db.expected"   # starting afresh on purpose
"$bin" budget show >/dev/null 2>&1 || fail "a fresh start after removing the marker"
echo "ok: lost database refused, fresh start only on purpose"
