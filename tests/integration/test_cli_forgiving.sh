#!/usr/bin/env bash
# The CLI forgives typos and says what is allowed (issue 13): did-you-mean for commands,
# subcommands and options; typed option values refused with their range (exit 2); preferences
# normalised or refused with suggestions; without `sky` a launch runs locally and says why;
# `jobs logs` renders progress as a bar on a terminal and keeps the raw lines for pipes/--raw.
set -u
bin=$1
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export VIBEML_HOME=$home
unset VIBEML_SKY
nosky=/usr/bin:/bin
fails=0
check() { # name, status (0 = ok), detail
  if [ "$2" = 0 ]; then echo "ok   $1"; else echo "FAIL $1: $3"; fails=$((fails + 1)); fi
}
is() { [ "$1" = "$2" ]; echo $?; }
has() { grep -qF -- "$2" <<<"$1"; echo $?; }

out=$("$bin" plna 2>&1); rc=$?
check "vibeml plna: exit 2, did you mean plan" "$(is "$rc:$(has "$out" "did you mean 'plan'")" "2:0")" "$out"
out=$("$bin" jobs lsit 2>&1); rc=$?
check "jobs lsit: did you mean list (not 'a job id is required')" "$(is "$rc:$(has "$out" "did you mean 'list'")" "2:0")" "$out"
out=$("$bin" plan --modle org/M-8B 2>&1); rc=$?
check "plan --modle: did you mean --model" "$(is "$rc:$(has "$out" "did you mean '--model'")" "2:0")" "$out"
out=$("$bin" gpus --min-memory abc 2>&1); rc=$?
check "gpus --min-memory abc: needs a number of GB, e.g. 80" "$(is "$rc:$(has "$out" "--min-memory needs a number of GB")" "2:0")" "$out"
out=$("$bin" gpus --limit -1 2>&1); rc=$?
check "gpus --limit -1: refused with the range" "$(is "$rc:$(has "$out" "from 0 to")" "2:0")" "$out"
out=$("$bin" plan --model org/M-8B --gpus two 2>&1); rc=$?
check "plan --gpus two: refused with the range" "$(is "$rc:$(has "$out" "--gpus needs a whole number of GPUs from 1")" "2:0")" "$out"

out=$("$bin" config set gpu H100s 2>&1); rc=$?
check "config set gpu H100s stores H100" "$(is "$rc:$("$bin" config get gpu)" "0:H100")" "$out"
out=$("$bin" config set cloud GCP 2>&1); rc=$?
check "config set cloud GCP stores gcp" "$(is "$rc:$("$bin" config get cloud)" "0:gcp")" "$out"
out=$("$bin" config set region us-central9 2>&1); rc=$?
check "config set region us-central9 refused with the closest regions" \
  "$(is "$rc:$(has "$out" "did you mean us-central1")" "2:0")" "$out"
out=$("$bin" config set gpu H1000 2>&1); rc=$?
check "config set gpu H1000 refused, suggests H100" "$(is "$rc:$(has "$out" "did you mean H100")" "2:0")" "$out"
"$bin" config set gpu null >/dev/null; "$bin" config set cloud null >/dev/null

# no sky on PATH and no backend chosen: the launch runs locally and says why
PATH=$nosky command -v sky >/dev/null && { echo "FAIL sky is in $nosky; cannot test"; exit 1; }
id=$(PATH=$nosky "$bin" launch --model org/Tiny-1M --workflow smoke --offline --dataset x/y 2>"$home/err"); rc=$?
check "launch without sky: runs (exit 0)" "$(is "$rc" 0)" "$(cat "$home/err")"
check "launch without sky: says the local backend and why" \
  "$(has "$(cat "$home/err")" "local backend: SkyPilot is not set up")" "$(cat "$home/err")"
check "launch without sky: says how to set up a cloud" "$(has "$(cat "$home/err")" "sky check")" "$(cat "$home/err")"
out=$(PATH=$nosky "$bin" jobs logs "$id" --follow 2>&1); rc=$?
check "the smoke job completes on this machine" "$(is "$rc:$(has "$out" "completed")" "0:0")" "$out"
check "piped logs keep the raw @@VIBEML lines" "$(has "$out" '@@VIBEML {')" "$out"
if command -v script >/dev/null 2>&1; then
  script -qc "'$bin' jobs logs '$id'" /dev/null >"$home/tty.out" 2>&1
  tty=$(cat "$home/tty.out")
  check "on a terminal: a progress bar, no raw lines" \
    "$(is "$(has "$tty" "step 200/200")$(has "$tty" "@@VIBEML")" "01")" "$tty"
  check "on a terminal: checkpoints as sentences" "$(has "$tty" "checkpoint at step")" "$tty"
  script -qc "'$bin' jobs logs '$id' --raw" /dev/null >"$home/raw.out" 2>&1
  check "--raw on a terminal prints the @@VIBEML lines" "$(has "$(cat "$home/raw.out")" "@@VIBEML {")" "$(head -3 "$home/raw.out")"
else
  echo "skip terminal rendering: no script(1)"
fi

# the person chose skypilot without installing it: the failure carries fixes
"$bin" config set backend skypilot >/dev/null
PATH=$nosky "$bin" launch --model org/Tiny-1M --workflow smoke --offline --dataset x/y >/dev/null 2>&1; rc=$?
jid=$("$bin" jobs list --state failed --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["id"])')
fx=$("$bin" jobs show "$jid" --json | python3 -c 'import json,sys; f=json.load(sys.stdin)["failure"]["fixes"]; print(len(f), f[0].get("arguments", {}).get("backend"))')
check "skypilot chosen but missing: failed launch with fixes (local first)" "$(is "$rc:$fx" "1:2 local")" "rc=$rc fixes=$fx"
out=$("$bin" config set backend null)
check "config set backend null is auto" "$(is "$out" "backend = auto")" "$out"

[ "$fails" = 0 ] && echo "ok cli forgiving" || { echo "$fails failed"; exit 1; }
