#!/usr/bin/env bash
# The no-echo prompts on a real terminal (a pseudo-terminal driven by Python's pty module):
# `secrets set` asks for the value without echoing it; a passphrase vault asks for the
# passphrase when VIBEML_PASSPHRASE is not set, and a wrong one is refused clearly.
set -u
bin=$1
home=$(mktemp -d); trap 'rm -rf "$home"' EXIT
export VIBEML_HOME=$home
command -v python3 >/dev/null || { echo "python3 is needed for this test"; exit 1; }
cat >"$home/drive_pty.py" <<'PY'
import os, pty, sys, time, select
def run(argv, answers, env):
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, env)
    out = b""
    for prompt, answer in answers:
        deadline = time.time() + 20
        while prompt.encode() not in out and time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try: out += os.read(fd, 4096)
                except OSError: break
        if prompt.encode() not in out:
            print("prompt not seen: %r in %r" % (prompt, out)); sys.exit(2)
        time.sleep(0.05)
        os.write(fd, answer.encode() + b"\n")
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk: break
        out += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")
mode = sys.argv[1]
env = dict(os.environ)
env.pop("VIBEML_PASSPHRASE", None)
binp = sys.argv[2]
if mode == "keyfile":
    code, out = run([binp, "secrets", "set", "TTY_TOKEN"], [("Value for TTY_TOKEN (not shown): ", "tty-secret-value-42")], env)
    if code != 0 or "tty-secret-value-42" in out: print("FAIL keyfile", code, repr(out)); sys.exit(1)
elif mode == "passphrase":
    code, out = run([binp, "secrets", "set", "PW_TOKEN"],
                    [("Value for PW_TOKEN (not shown): ", "pw-secret-value-77"), ("Vault passphrase: ", "open sesame 123")], env)
    if code != 0 or "pw-secret-value-77" in out or "open sesame" in out: print("FAIL pass", code, repr(out)); sys.exit(1)
    code, out = run([binp, "secrets", "rm", "PW_TOKEN"], [("Vault passphrase: ", "wrong words")], env)
    if code != 1 or "wrong passphrase for the vault at" not in out: print("FAIL wrong", code, repr(out)); sys.exit(1)
print("ok", mode)
PY
fail() { echo "FAIL: $*"; exit 1; }
python3 "$home/drive_pty.py" keyfile "$bin" || fail "keyfile prompt"
"$bin" secrets list | grep -q TTY_TOKEN || fail "TTY_TOKEN not stored"
# a passphrase vault: created with VIBEML_PASSPHRASE, then used from a terminal without it
home2=$home/pw; mkdir -p "$home2"
printf 'first-value-1' | VIBEML_HOME=$home2 VIBEML_PASSPHRASE='open sesame 123' "$bin" secrets set FIRST 2>/dev/null || fail "create passphrase vault"
[ -e "$home2/vault.key" ] && fail "a passphrase vault must not have a key file"
VIBEML_HOME=$home2 python3 "$home/drive_pty.py" passphrase "$bin" || fail "passphrase prompt"
VIBEML_HOME=$home2 VIBEML_PASSPHRASE='open sesame 123' "$bin" secrets list --json | grep -q '"verified": true' || fail "verify with passphrase"
VIBEML_HOME=$home2 "$bin" secrets list --json </dev/null | grep -q '"name": "PW_TOKEN"' || fail "names listed without the key"
printf 'x-value-1' | VIBEML_HOME=$home2 "$bin" secrets set OTHER 2>"$home/err" && fail "set without passphrase or terminal"
grep -q "VIBEML_PASSPHRASE" "$home/err" || fail "hint to set VIBEML_PASSPHRASE"
# the passphrase never reaches a child process: vibeml takes it out of its environment
cat >"$home/child.lua" <<'LUA'
local r = vibeml.proc.run({ "/bin/sh", "-c", 'echo "child sees: [${VIBEML_PASSPHRASE:-}]"; tr "\\0" "\\n" </proc/$PPID/environ | grep -c "^VIBEML_PASSPHRASE=open" || true' })
print(r.stdout)
print("script sees: [" .. tostring(os.getenv("VIBEML_PASSPHRASE")) .. "]")
print(require("vibeml.vault").has("PW_TOKEN"))
local h = assert(require("vibeml.vault").env_for({ "PW_TOKEN" }))
print(#h)
LUA
VIBEML_HOME=$home2 VIBEML_PASSPHRASE='open sesame 123' "$bin" run "$home/child.lua" >"$home/child.out" 2>&1 || { cat "$home/child.out"; fail "child script"; }
grep -q "child sees: \[\]" "$home/child.out" || { cat "$home/child.out"; fail "a child inherited VIBEML_PASSPHRASE"; }
grep -q "script sees: \[nil\]" "$home/child.out" || { cat "$home/child.out"; fail "scripts see VIBEML_PASSPHRASE"; }
grep -qx "0" "$home/child.out" || { cat "$home/child.out"; fail "/proc/PID/environ still shows the passphrase"; }
grep -qx "1" "$home/child.out" || { cat "$home/child.out"; fail "the captured passphrase does not open the vault"; }
echo "ok secrets tty"
