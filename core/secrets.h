/* SPDX-License-Identifier: MIT
 *
 * secrets — a set of decrypted secrets in sodium_malloc memory: the "NAME=value" entries a
 * spawner hands to a child process, and the masking of their values in text.
 *
 * A value is masked together with its encodings (standard and URL-safe base64 at every
 * alignment, with and without padding, JSON string escaping, URL encoding, lower- and upper-case
 * hex), each replaced by '*' in place, same length. Values shorter than VML_SECRET_REDACT_MIN
 * are not masked (a 2-byte value would mask half a log).
 *
 * Every value added to any set in this process is also kept in one process-wide set, wiped only
 * at exit, so that anything the process emits later can be masked without the key
 * (vml_secrets_redact_seen). Modules that mask output call core/redact.h, not this file.
 *
 * Sets come from the vault (core/vault.h: vml_vault_load) or from this process's environment
 * (vml_secrets_from_environ). Plaintexts never become Lua strings, argv entries, log lines or
 * files; see core/vault.h.
 *
 * Uses: err, libsodium, pthread.
 */
#ifndef VML_SECRETS_H
#define VML_SECRETS_H

#include <stddef.h>

#include "err.h"

/* Names are environment-variable names: [A-Za-z_][A-Za-z0-9_]{0,127}. */
#define VML_SECRET_NAME_MAX 128
#define VML_SECRET_REDACT_MIN 4

typedef struct vml_secrets vml_secrets;

/* 1 if name is a valid secret name (an environment-variable name), else 0. */
int vml_secrets_name_ok(const char *name);
/* Sets err to VML_EINVAL saying why name is not a secret name and what is allowed; returns it. */
int vml_secrets_name_error(vml_err *err, const char *name);

/* An empty set (the caller's: vml_secrets_free), or NULL when out of memory. */
vml_secrets *vml_secrets_new(void);
/* Adds name=value (value: vlen bytes, borrowed; copied into sodium memory) and the value's
 * masking forms. Also adds the value to the process-wide set. Returns 0 or VML_ENOMEM. */
int vml_secrets_add(vml_secrets *s, const char *name, const char *value, size_t vlen, vml_err *err);
/* A set built from this process's own environment (the named variables that are set): for a
 * supervisor process that received secrets in its environment and must mask its child's output.
 * *out is the caller's. VML_EINVAL for a name that is not a secret name. */
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
 *     vml_secrets_env_apply(secrets, add, &envb);
 *     uv_spawn(...);                 -- env array points at the entries
 *     vml_secrets_free(secrets);     -- after the spawn call
 * For SkyPilot: put "NAME=value" into the `sky` process's environment and pass `--secret NAME`
 * (the name only) on its command line, never `--env`. */
int vml_secrets_env_apply(const vml_secrets *s, int (*put)(void *ud, const char *entry), void *ud);

/* Masks every occurrence in buf of each value of s and of its encodings, in place. Returns the
 * number of occurrences masked. Mask whole lines (or whole documents): a value split across two
 * calls is not seen. */
size_t vml_secrets_redact(const vml_secrets *s, char *buf, size_t len);
/* The same with every value this process has added to any set (thread-safe). */
size_t vml_secrets_redact_seen(char *buf, size_t len);

#endif
