#!/usr/bin/env bash
# Runs one tests/lua/test_*.lua through `vibeml run` in a fresh VIBEML_HOME.
# usage: run_lua_test.sh VIBEML_BIN TEST.lua
set -u
bin=$1; test=$2
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
VIBEML_HOME=$home VML_SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd) "$bin" run "$test"
