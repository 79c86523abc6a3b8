/* SPDX-License-Identifier: MIT
 *
 * vault — the encrypted secrets store, secret handles for process spawning, and redaction.
 *
 * Secrets (HF_TOKEN, WANDB_API_KEY, ...) live encrypted in one file, `<data>/vault` (data =
 * $XDG_DATA_HOME/vibeml or VIBEML_HOME). Plaintexts and keys exist only in sodium_malloc memory
 * and are wiped (sodium_free) when released; they never become Lua strings, never go to argv, a
 * task file, the store, a log or a tool result. A value reaches only the environment of the
 * process that needs it (vml_secrets_env_*), and captured output is masked with
 * vml_secrets_redact / vml_vault_redact.
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
 * Names are environment-variable names: [A-Za-z_][A-Za-z0-9_]{0,127}. Values: 1..65536 bytes.
 *
 * Uses: err, paths, libsodium, jansson.
 */
#ifndef VML_VAULT_H
#define VML_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define VML_VAULT_NAME_MAX 128
#define VML_VAULT_VALUE_MAX 65536
/* Values shorter than this are not masked by redaction (a 2-byte value would mask half a log). */
#define VML_VAULT_REDACT_MIN 4

/* One entry as listed (no value). */
typedef struct vml_vault_entry {
    char name[VML_VAULT_NAME_MAX + 1];
    char created[32]; /* ISO 8601 UTC */
    char updated[32];
} vml_vault_entry;

/* How the vault is listed. */
typedef struct vml_vault_index {
    vml_vault_entry *entries; /* sorted by name; owned (vml_vault_index_deinit) */
    size_t count;
    int exists;        /* 0: no vault file yet (count 0) */
    int passphrase;    /* 1: passphrase (Argon2id) vault, 0: key-file vault */
    int verified;      /* 1: key known and the file's MAC checked */
    char path[4096];
} vml_vault_index;

/* 1 if name is a valid secret name (an environment-variable name), else 0. */
int vml_vault_name_ok(const char *name);

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

/* {============================================================ secret handles */

/* A set of decrypted secrets in sodium_malloc memory: for one process spawn, or for redaction.
 * Each entry also keeps the "NAME=value" string the spawner hands to execve. */
typedef struct vml_secrets vml_secrets;

/* Decrypts the n named secrets into *out (the caller's: vml_secrets_free). Names in
 * optional (may be NULL, m names) are taken when present and skipped when not. A missing
 * required name is VML_ENOENT with "secret 'NAME' is not in the vault; add it with
 * `vibeml secrets set NAME`". A wrong key is VML_EAUTH; a damaged file VML_ECRYPTO. */
int vml_vault_load(const char *const *names, size_t n, const char *const *optional, size_t m,
                   vml_secrets **out, vml_err *err);
/* Every secret in the vault (for redaction). No vault file = an empty set. */
int vml_vault_load_all(vml_secrets **out, vml_err *err);
/* A set built from this process's own environment (the named variables that are set): for a
 * supervisor process that received secrets in its environment and must redact its child's
 * output. */
int vml_secrets_from_environ(const char *const *names, size_t n, vml_secrets **out, vml_err *err);
/* Wipes and frees; NULL is a no-op. */
void vml_secrets_free(vml_secrets *s);

size_t vml_secrets_count(const vml_secrets *s);
/* The i-th name. Borrowed, valid while s lives. */
const char *vml_secrets_name(const vml_secrets *s, size_t i);
/* The i-th "NAME=value" string, NUL-terminated, in sodium memory. Borrowed, valid while s lives.
 * This is what a spawner puts in the env array it passes to uv_spawn/execve; the kernel copies it
 * into the child, so s may be freed as soon as the spawn call returns. Never log it. */
const char *vml_secrets_env_entry(const vml_secrets *s, size_t i);

/* The spawner's API: calls put(ud, entry) with each "NAME=value" entry (borrowed, sodium memory).
 * put returns 0 or a VML code, which stops the walk and is returned. Use it to add the entries to
 * the environment array of a child, e.g.
 *     static int add(void *ud, const char *entry) { return env_push(ud, entry); }
 *     vml_vault_env_apply(secrets, add, &envb);
 *     uv_spawn(...);                 -- env array points at the entries
 *     vml_secrets_free(secrets);     -- after the spawn call
 * For SkyPilot: put "NAME=value" into the `sky` process's environment and pass `--secret NAME`
 * (the name only) on its command line, never `--env`. */
int vml_vault_env_apply(const vml_secrets *s, int (*put)(void *ud, const char *entry), void *ud);

/* Masks every occurrence in buf of each secret value of s and of its encodings (standard and
 * URL-safe base64 with and without padding, URL encoding, lower- and upper-case hex) with '*',
 * in place, same length. Returns the number of occurrences masked. Values shorter than
 * VML_VAULT_REDACT_MIN are skipped. Redact whole lines (or whole documents): a value split across
 * two calls is not seen. */
size_t vml_secrets_redact(const vml_secrets *s, char *buf, size_t len);

/* }============================================================ */

/* {============================================================ process-wide redaction */

/* Every secret this process has loaded (vml_vault_load, vml_vault_load_all,
 * vml_secrets_from_environ) is remembered, wiped only at exit, so anything the process emits
 * (logs it captured, tool results, error messages) can be masked without asking for the key
 * again. vml_vault_redact masks buf in place with all of them and returns the count; when the
 * vault file changed since its last call it first loads the whole vault into the set, if the key
 * is available without asking (key file or VIBEML_PASSPHRASE), so a long-running server also
 * masks secrets that were added after it started.
 * vml_vault_redact_prime loads the whole vault into that set when the key is available without
 * asking (key file or VIBEML_PASSPHRASE); it returns 0 also when there is nothing to load. */
size_t vml_vault_redact(char *buf, size_t len);
/* The same without looking at the vault file: only the secrets this process already loaded.
 * Never slow (no key derivation), so it is safe inside a sandboxed plugin's vibeml.log. */
size_t vml_vault_redact_known(char *buf, size_t len);
int vml_vault_redact_prime(vml_err *err);

/* }============================================================ */

/* {============================================================ Lua */

/* Lua scripts hold a set as a "vibeml.SecretEnv" userdata (vibeml.vault.env_for(names), also
 * require("vibeml.vault").env_for): the values stay in C. A spawner's Lua binding (core/proc.c)
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
