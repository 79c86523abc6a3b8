#!/usr/bin/env bash
# vibeml.http against a loopback server: status, headers, POST, time-out, size limit, redirects.
bin=$1
. "$(dirname "$0")/stub_env.sh"
start_stub hf_stub.py
VIBEML_HOME=$TMP/home STUB=http://127.0.0.1:$STUB_PORT "$bin" run "$VML_SOURCE_DIR/tests/integration/lua/http_check.lua"
