#!/usr/bin/env bash
# Plugins that escaped the limits (issue 16, H1) through `vibeml serve`: a pattern bomb and a
# looping __gc finalizer, at load time and in a tool handler. The server must load the good
# plugin after them, answer tools/list, answer every tool call (with an error for the hostile
# ones) and exit on stdin EOF. Before the fix each case hung the server at 100 % CPU.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cd "$here"
VIBEML_BIN="$bin" VIBEML_HOME="$home" node --test --test-concurrency=1 plugin_limits.test.mjs
