#!/usr/bin/env bash
# Hugging Face lookups and planning against the Hub stand-in (HF_ENDPOINT on loopback).
bin=$1
. "$(dirname "$0")/stub_env.sh"
start_stub hf_stub.py "$TMP/requests.log"
export VIBEML_HOME=$TMP/home HF_ENDPOINT=http://127.0.0.1:$STUB_PORT
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HF_DATASETS_SERVER
"$bin" run "$VML_SOURCE_DIR/tests/integration/lua/hf_check.lua" || exit 1
# HF_TOKEN from the environment reaches the Hub only as a header, and never appears in output
out=$(HF_TOKEN=hf_test_good_token_123 "$bin" run "$VML_SOURCE_DIR/tests/integration/lua/hf_token_check.lua" 2>&1) || { echo "$out"; exit 1; }
echo "$out"
if echo "$out" | grep -q hf_test_good_token_123; then echo "FAIL token printed"; exit 1; fi
if grep -q hf_test_good_token_123 "$TMP/requests.log"; then echo "FAIL token in a URL"; exit 1; fi
grep -q '"auth": "bearer"' "$TMP/requests.log" || { echo "FAIL token never sent"; exit 1; }
if grep -rq hf_test_good_token_123 "$VIBEML_HOME"; then echo "FAIL token stored on disk"; exit 1; fi
# Hub unreachable: planning falls back to the size in the model's name and says so
HF_ENDPOINT=http://127.0.0.1:9 VIBEML_HOME=$TMP/home2 "$bin" run "$VML_SOURCE_DIR/tests/integration/lua/hf_offline_check.lua"
