#!/usr/bin/env bash
# vibeml secrets set/list/rm through the real binary; a script uses a handle; no value leaks to
# stdout, stderr, argv or any file under VIBEML_HOME.
set -u
bin=$1
home=$(mktemp -d); trap 'rm -rf "$home"' EXIT
export VIBEML_HOME=$home
unset VIBEML_PASSPHRASE
secret='sk-live-Q7f2Zk9PwX4mLt8RvB1c'
fail() { echo "FAIL: $*"; exit 1; }

printf '%s\n' "$secret" | "$bin" secrets set HF_TOKEN 2>"$home/err.txt" || fail "set"
echo "other-value-123" | "$bin" secrets set WANDB_API_KEY 2>>"$home/err.txt" || fail "set 2"
"$bin" secrets list --json >"$home/list.json" || fail "list"
grep -q '"name": "HF_TOKEN"' "$home/list.json" || fail "list lacks HF_TOKEN"
grep -q '"verified": true' "$home/list.json" || fail "list not verified"
[ "$(stat -c %a "$home/vault")" = 600 ] || fail "vault mode"
[ "$(stat -c %a "$home/vault.key")" = 600 ] || fail "key mode"
"$bin" secrets set 'bad name' </dev/null 2>/dev/null; [ $? = 2 ] || fail "bad name exit 2"
"$bin" secrets set HF_TOKEN extra </dev/null 2>/dev/null; [ $? = 2 ] || fail "value in argv refused"

cat >"$home/use.lua" <<'LUA'
local secrets = require "vibeml.vault"
local h = assert(secrets.env_for({ "HF_TOKEN" }, { "WANDB_API_KEY", "NOT_SET" }))
print("handle", tostring(h), #h)
print("names", table.concat(secrets.names(), ","))
print("has", secrets.has("HF_TOKEN"), secrets.has("NOT_SET"))
-- a tool result that accidentally contains the value is masked
local leak = "result: " .. (os.getenv("SECRET_FOR_TEST") or "")
print(h:redact(leak))
print(secrets.redact(leak))
h:close()
LUA
SECRET_FOR_TEST=$secret "$bin" run "$home/use.lua" >"$home/out.txt" 2>&1 || { cat "$home/out.txt"; fail "script"; }
grep -q 'handle	SecretEnv(HF_TOKEN, WANDB_API_KEY)	2' "$home/out.txt" || { cat "$home/out.txt"; fail "handle"; }
grep -q 'has	true	false' "$home/out.txt" || fail "has"
grep -q 'result: \*\*\*\*' "$home/out.txt" || { cat "$home/out.txt"; fail "redact"; }

# tampering: flip one byte of the ciphertext; every command fails clearly, file untouched
cp "$home/vault" "$home/vault.orig"
python3 - "$home/vault" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
i = b.index(b'"ct": "') + 10
b[i] = ord('A') if b[i] != ord('A') else ord('B')
open(p, 'wb').write(b)
PY
cp "$home/vault" "$home/vault.bad"
"$bin" secrets list 2>"$home/t.txt"; [ $? = 1 ] || fail "list on tampered vault"
grep -q "is damaged" "$home/t.txt" || { cat "$home/t.txt"; fail "damaged message"; }
echo x-value-123 | "$bin" secrets set NEW_ONE 2>/dev/null && fail "set on tampered vault"
cmp -s "$home/vault" "$home/vault.bad" || fail "tampered vault was modified"
cp "$home/vault.orig" "$home/vault"
rm -f "$home/vault.orig" "$home/vault.bad"

"$bin" secrets rm WANDB_API_KEY 2>/dev/null || fail "rm"
"$bin" secrets list | grep -q WANDB_API_KEY && fail "rm did not remove"

# nothing under VIBEML_HOME holds the value or its base64
b64=$(printf %s "$secret" | base64)
if grep -rlF -e "$secret" -e "$b64" "$home"; then fail "plaintext found in a file"; fi
echo "ok secrets cli"
