#!/usr/bin/env bash
# `vibeml catalog refresh` against a loopback catalog: per-cloud column orders, GCP host prices,
# and cut-off downloads that must leave the previous cache as it was.
bin=$1
. "$(dirname "$0")/stub_env.sh"
start_stub catalog_stub.py
export VIBEML_HOME=$TMP/home STUB=http://127.0.0.1:$STUB_PORT
"$bin" run "$VML_SOURCE_DIR/tests/integration/lua/refresh_check.lua" || exit 1
# the command line: good refresh exits 0, a truncated one exits 1 and says which cloud failed
"$bin" catalog refresh --url "$STUB/good" --cloud aws --cloud nebius || { echo "FAIL refresh cli"; exit 1; }
before=$(cat "$VIBEML_HOME/catalog/v8/aws.csv")
out=$("$bin" catalog refresh --url "$STUB/trunc" --cloud aws 2>&1); rc=$?
echo "$out"
[ $rc -eq 1 ] || { echo "FAIL truncated refresh exit $rc"; exit 1; }
echo "$out" | grep -q aws || { echo "FAIL no cloud named"; exit 1; }
[ "$before" = "$(cat "$VIBEML_HOME/catalog/v8/aws.csv")" ] || { echo "FAIL cache changed"; exit 1; }
ls "$VIBEML_HOME/catalog/v8/" | grep -v -E '^(aws|nebius|gcp)\.csv$|^meta\.json$' && { echo "FAIL temp files left"; exit 1; }
"$bin" gpus --cloud nebius --json | grep -q '"H200"' || { echo "FAIL gpus after refresh"; exit 1; }
echo "catalog refresh: ok"
