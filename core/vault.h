/* SPDX-License-Identifier: MIT
 *
 * vault — the encrypted secrets file: its format, keys and rollback check; reading, writing and
 * decrypting entries into secret sets (core/secrets.h). Masking output is core/redact.h.
 *
 * Secrets (HF_TOKEN, WANDB_API_KEY, ...) live encrypted in one file, `<data>/vault` (data =
 * $XDG_DATA_HOME/vibeml or VIBEML_HOME). Plaintexts and keys exist only in sodium_malloc memory
 * and are wiped (sodium_free) when released; they never become Lua strings, never go to argv, a
 * task file, the store, a log or a tool result. A value reaches only the environment of the
 * process that needs it (vml_secrets_env_apply), and captured output is masked (core/redact.h).
 *
 * Key. A 32-byte master key, either
 *   - from a passphrase: Argon2id (crypto_pwhash, ALG_ARGON2ID13) with a random 16-byte salt and
 *     the ops/mem limits stored in the file (VIBEML_PASSPHRASE, else a no-echo prompt when stdin
 *     is a terminal), chosen when the vault is created while VIBEML_PASSPHRASE is set; or
 *   - from a key file, `<data>/vault.key`: 32 random bytes, mode 0600, created with the vault when
 *     no passphrase is set. A key file readable by group or others is refused.
 * VIBEML_PASSPHRASE is removed from the process's environment at start-up (kept in sodium
 * memory), so child processes never inherit it.
 * Sub-keys come from crypto_kdf_derive_from_key(master, id, "vmlvault"): 1 entry encryption,
 * 2 file MAC, 3 key check.
 *
 * File format (version 1): text, three parts, mode 0600, replaced atomically (temp file in the
 * same folder, fsync, rename, fsync of the folder) under an flock on `<data>/vault.lock`.
 *     VIBEMLVAULT1\n
 *     {"format":"vibeml-vault","version":1,
 *      "kdf":{"alg":"argon2id13","salt":B64,"opslimit":N,"memlimit":N} | {"alg":"keyfile"},
 *      "check":B64(16 bytes: keyed BLAKE2b of "vibeml vault key check" under sub-key 3),
 *      "entries":[{"name":"HF_TOKEN","created":"2026-11-29T02:30:00Z","updated":"...",
 *                  "nonce":B64(24 bytes),"ct":B64(ciphertext + 16-byte tag)}, ...]}\n
 *     mac B64(32 bytes)\n
 * Each entry is XChaCha20-Poly1305-IETF with a fresh random nonce; its associated data is
 * "vibeml-vault:1:" followed by the entry's name, so a value moved to another name fails to open.
 * The MAC is keyed BLAKE2b-256 (sub-key 2) over every byte before the "mac " line, so any edit to
 * names, dates or structure is detected once the key is known. A wrong key gives "wrong passphrase
 * for the vault at PATH"; a damaged file gives "the vault at PATH is damaged ..." and the file is
 * left exactly as it was (nothing is written after a failed check).
 *
 * Rollback: the JSON part also holds "generation", raised by every write and recorded in the
 * state database (table vault_generation); a verified file below the record is refused as an
 * older copy put back, until `vibeml secrets accept-restore` (vml_vault_accept_restore).
 *
 * Names are environment-variable names (vml_secrets_name_ok). Values: 1..65536 bytes.
 *
 * Uses: err, paths, store, secrets, libsodium, jansson, SQLite.
 */
#ifndef VML_VAULT_H
#define VML_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "secrets.h"

#define VML_VAULT_VALUE_MAX 65536

/* One entry as listed (no value). */
typedef struct vml_vault_entry {
    char name[VML_SECRET_NAME_MAX + 1];
    char created[32]; /* ISO 8601 UTC */
    char updated[32];
} vml_vault_entry;

/* How the vault is listed. */
typedef struct vml_vault_index {
    vml_vault_entry *entries; /* sorted by name; owned (vml_vault_index_deinit) */
    size_t count;
    int exists;     /* 0: no vault file yet (count 0) */
    int passphrase; /* 1: passphrase (Argon2id) vault, 0: key-file vault */
    int verified;   /* 1: key known and the file's MAC checked */
    char path[4096];
} vml_vault_index;

/* The vault file's path into buf. Returns 0 or a VML code. */
int vml_vault_path(char *buf, size_t n, vml_err *err);

/* Reads names and dates. Needs no key; when the key is available without asking (key file, or
 * VIBEML_PASSPHRASE) the file is verified too (idx->verified), so a tampered file is an error.
 * A missing file is an empty index. Returns 0 or VML_EIO/VML_ECRYPTO/VML_EAUTH. */
int vml_vault_list(vml_vault_index *idx, vml_err *err);
void vml_vault_index_deinit(vml_vault_index *idx);

/* Stores value (len bytes, borrowed; the caller wipes its copy) under name, creating the vault
 * (and key file) when missing. May prompt for the passphrase on a terminal. */
int vml_vault_set(const char *name, const unsigned char *value, size_t len, vml_err *err);
/* Removes name. VML_ENOENT when it is not there. */
int vml_vault_remove(const char *name, vml_err *err);
/* Accepts the vault file as it is now as the newest (after restoring an older copy on purpose):
 * the key and the MAC are checked, then the recorded generation is set to the file's (*gen, may
 * be NULL). Without this, a file older than the last one written here is refused (VML_ESTATE,
 * "an older copy ... rolled back"). */
int vml_vault_accept_restore(long long *gen, vml_err *err);
/* 1 when the vault has an entry called name (no key needed), 0 when not, <0 on error. */
int vml_vault_has(const char *name, vml_err *err);

/* {============================================================ decrypting into secret sets */

/* Decrypts the n named secrets into *out (the caller's: vml_secrets_free). Names in
 * optional (may be NULL, m names) are taken when present and skipped when not. A missing
 * required name is VML_ENOENT with "secret 'NAME' is not in the vault; add it with
 * `vibeml secrets set NAME`". A wrong key is VML_EAUTH; a damaged file VML_ECRYPTO. May prompt
 * for the passphrase on a terminal. */
int vml_vault_load(const char *const *names, size_t n, const char *const *optional, size_t m,
                   vml_secrets **out, vml_err *err);
/* Every secret in the vault. No vault file = an empty set. */
int vml_vault_load_all(vml_secrets **out, vml_err *err);
/* Every secret in the vault when the key is available without asking (key file or
 * VIBEML_PASSPHRASE); otherwise, or without a vault file, *out = NULL and 0. Never prompts. */
int vml_vault_load_quiet(vml_secrets **out, vml_err *err);

/* }============================================================ */

/* {============================================================ Lua */

/* Lua scripts hold a set as a "vibeml.SecretEnv" userdata (vibeml.vault.env_for(names), also
 * require("vibeml.vault").env_for): the values stay in C. A spawner's Lua binding (lapi_proc.c)
 * takes it as an argument and gets the set with this function: the set at idx, borrowed (valid
 * while the userdata lives and is not closed), or NULL when idx is not an open SecretEnv. */
struct lua_State;
const vml_secrets *vml_vault_lua_tosecrets(struct lua_State *L, int idx);

/* }============================================================ */

/* {============================================================ internals exposed for tests/CLI */

/* Reads a secret from fd: with no echo after writing prompt to stderr when fd is a terminal,
 * else everything until EOF (one trailing "\n" or "\r\n" removed). *out is sodium_malloc'd
 * (sodium_free), *len its length. Empty input is VML_EINVAL. */
int vml_vault_read_secret(int fd, const char *prompt, unsigned char **out, size_t *len,
                          vml_err *err);

/* Argon2id cost for new passphrase vaults (tests lower it). Defaults: libsodium's INTERACTIVE. */
void vml_vault_set_kdf_cost(unsigned long long opslimit, size_t memlimit);

/* }============================================================ */

#endif
