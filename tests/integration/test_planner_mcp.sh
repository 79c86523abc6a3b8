#!/usr/bin/env bash
# The planner's MCP tools through the official SDK client, with the Hugging Face stand-in.
bin=$(realpath "$1")
. "$(dirname "$0")/stub_env.sh"
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/@modelcontextprotocol/sdk" ]; then
  echo "test_planner_mcp.sh: the MCP SDK is not installed; run: bash .ci/deps --tests" >&2
  exit 1
fi
start_stub hf_stub.py
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN
cd "$here"
VIBEML_BIN="$bin" VIBEML_HOME="$TMP/home" HF_ENDPOINT="http://127.0.0.1:$STUB_PORT" \
  node --test --test-concurrency=1 planner_sdk.test.mjs
