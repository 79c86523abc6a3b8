#!/usr/bin/env bash
# `vibeml run`, `version`, `help` and exit codes end to end (docs/lua-api.md): limits exit 3 (a
# timeout within 2 s of wall time even while the script waits), script errors exit 1 naming
# file:line, usage errors exit 2, arg/... as the lua command sets them.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VIBEML_HOME=$tmp/home
pass=0; fail=0
check() { # name, status (0 = ok), detail
  if [ "$2" -eq 0 ]; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1: $3"; fi
}
now() { date +%s.%N; }
lt() { awk -v a="$1" -v b="$2" -v lim="$3" 'BEGIN { exit !((b - a) < lim) }'; }
is() { [ "$1" = "$2" ]; echo $?; }

echo 'while true do end' > "$tmp/loop.lua"
t0=$(now); "$bin" run --timeout 1 "$tmp/loop.lua" 2>"$tmp/err"; rc=$?; t1=$(now)
check "timeout on a busy loop exits 3" "$(is $rc 3)" "rc=$rc"
lt "$t0" "$t1" 2; check "timeout exits within 2 s" $? "took $(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}') s"
grep -q "time limit of 1 s reached" "$tmp/err"; check "timeout message" $? "$(cat "$tmp/err")"

echo 'while true do pcall(function() while true do end end) end' > "$tmp/loop2.lua"
"$bin" run --timeout 1 "$tmp/loop2.lua" 2>/dev/null; rc=$?
check "timeout cannot be swallowed by pcall" "$(is $rc 3)" "rc=$rc"

echo 'vibeml.sleep(30)' > "$tmp/wait.lua"
t0=$(now); "$bin" run --timeout 1 "$tmp/wait.lua" 2>/dev/null; rc=$?; t1=$(now)
check "timeout while waiting on the loop exits 3" "$(is $rc 3)" "rc=$rc"
lt "$t0" "$t1" 2; check "timeout while waiting within 2 s" $? ""

echo 'local t = {} while true do t[#t + 1] = string.rep("x", 1e6) .. #t end' > "$tmp/bomb.lua"
"$bin" run --max-memory 64 "$tmp/bomb.lua" 2>"$tmp/err"; rc=$?
check "memory bomb under --max-memory 64 exits 3" "$(is $rc 3)" "rc=$rc"
grep -q "memory limit of 64 MB reached" "$tmp/err"; check "memory message" $? "$(cat "$tmp/err")"

echo 'for i = 1, 100 do pcall(string.rep, "x", 1 << 30) end print("escaped")' > "$tmp/bomb2.lua"
out=$("$bin" run --max-memory 64 "$tmp/bomb2.lua" 2>/dev/null); rc=$?
check "memory bomb under pcall still exits 3" "$(is "$rc:$out" "3:")" "rc=$rc out=$out"

printf 'local x = 1\n\nerror("boom")\n' > "$tmp/err.lua"
"$bin" run "$tmp/err.lua" 2>"$tmp/err"; rc=$?
check "script error exits 1" "$(is $rc 1)" "rc=$rc"
grep -q "err.lua:3: boom" "$tmp/err"; check "error names file and line" $? "$(cat "$tmp/err")"
grep -q "stack traceback" "$tmp/err"; check "error has a traceback" $? ""

printf 'local x = = 1\n' > "$tmp/syntax.lua"
"$bin" run "$tmp/syntax.lua" 2>"$tmp/err"; rc=$?
grep -q "syntax.lua:1:" "$tmp/err"; g=$?
check "syntax error exits 1 with file:line" "$(is "$rc:$g" "1:0")" "rc=$rc $(cat "$tmp/err")"

printf 'print(arg[0], arg[1], arg[2], select("#", ...), ...)\n' > "$tmp/args.lua"
out=$("$bin" run "$tmp/args.lua" a "b c")
check "arg and ... as in lua" "$(is "$out" "$(printf '%s\ta\tb c\t2\ta\tb c' "$tmp/args.lua")")" "out=$out"

printf 'return 5\n' > "$tmp/code.lua"
"$bin" run "$tmp/code.lua"; rc=$?
check "an integer returned by the script is the exit code" "$(is $rc 5)" "rc=$rc"

"$bin" run 2>/dev/null; rc=$?; check "run without a script exits 2" "$(is $rc 2)" "rc=$rc"
"$bin" run --timeout abc "$tmp/code.lua" 2>/dev/null; rc=$?; check "bad --timeout exits 2" "$(is $rc 2)" "rc=$rc"
"$bin" run --bogus "$tmp/code.lua" 2>/dev/null; rc=$?; check "unknown option exits 2" "$(is $rc 2)" "rc=$rc"
"$bin" run "$tmp/missing.lua" 2>"$tmp/err"; rc=$?; grep -q "No such file" "$tmp/err"; g=$?
check "missing script exits 1 with the reason" "$(is "$rc:$g" "1:0")" "rc=$rc"
"$bin" nosuchcommand 2>/dev/null; rc=$?; check "unknown command exits 2" "$(is $rc 2)" "rc=$rc"
printf '\033Lua' > "$tmp/bin.lua"
"$bin" run "$tmp/bin.lua" 2>"$tmp/err"; rc=$?; grep -q "binary chunks" "$tmp/err"; g=$?
check "bytecode file refused" "$(is "$rc:$g" "1:0")" "rc=$rc"

out=$("$bin" version); echo "$out" | grep -q "^vibeml [0-9]"; check "version" $? "$out"
out=$("$bin" --version --json 2>&1)
echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["name"]=="vibeml" and d["lua"]' 2>/dev/null
check "version --json" $? "$out"
"$bin" help | grep -q "  run "; check "help lists run" $? ""
"$bin" help run | grep -q "usage: vibeml run"; check "help run" $? ""

# the installed binary runs from any folder: nothing is read from the source tree
cp "$bin" "$tmp/vibeml-copy"
(cd / && "$tmp/vibeml-copy" run "$tmp/code.lua"); rc=$?
check "binary is self-contained" "$(is $rc 5)" "rc=$rc"
printf 'local T = require "vibeml.test" print(type(T.case))\n' > "$tmp/req.lua"
out=$(cd / && "$tmp/vibeml-copy" run "$tmp/req.lua")
check "embedded modules load from anywhere" "$(is "$out" function)" "$out"

# doctor: every check reported, JSON parses, a usage error exits 2 without a traceback; ready
# without sky (the local backend can run jobs), SkyPilot's absence still listed with its fix
out=$(PATH=/usr/bin:/bin "$bin" doctor --json); rc=$?
echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["database"]=="ok" and "backends" in d and "budget" in d and d["ready"] and any("SkyPilot" in p for p in d["problems"])' 2>/dev/null
check "doctor --json reports database, backends, budget; ready with the local backend" "$(is "$?:$rc" "0:0")" "rc=$rc $out"
out=$(PATH=/usr/bin:/bin "$bin" doctor 2>&1)
n=$(printf '%s\n' "$out" | grep -c "No monthly budget is set")
check "doctor says each problem once" "$(is "$n" 1)" "$out"
printf '%s\n' "$out" | grep -q "^ready: jobs can run on local"
check "doctor says it is ready on the local backend" "$(is $? 0)" "$out"
"$bin" doctor --bogus 2>"$tmp/err"; rc=$?; grep -q "stack traceback" "$tmp/err"; g=$?
check "doctor usage error exits 2 without a traceback" "$(is "$rc:$g" "2:1")" "rc=$rc $(cat "$tmp/err")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
