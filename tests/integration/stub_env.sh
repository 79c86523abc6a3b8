# shellcheck shell=bash
# Sourced by integration tests: start_stub SCRIPT [ARGS...] starts a Python stand-in server on an
# ephemeral loopback port and sets STUB_PORT; it is stopped (by its pid) when the test exits.
set -u
VML_SOURCE_DIR=${VML_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TMP=$(mktemp -d)
STUB_PIDS=()
cleanup() {
  for p in "${STUB_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
start_stub() {
  local script=$1; shift
  local pf="$TMP/port.$RANDOM"
  python3 "$VML_SOURCE_DIR/tests/fixtures/$script" "$pf" "$@" &
  STUB_PIDS+=($!)
  for _ in $(seq 1 100); do [ -s "$pf" ] && break; sleep 0.05; done
  [ -s "$pf" ] || { echo "stub $script did not start"; exit 1; }
  STUB_PORT=$(cat "$pf")
}
