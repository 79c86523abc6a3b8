/* SPDX-License-Identifier: MIT
 *
 * redact — masks secret values in what this process emits: log lines, captured output of child
 * processes, MCP messages, tool results, error messages. Every module that writes such text
 * calls vml_redact (or vml_redact_known) on it first.
 *
 * What is masked: every secret this process has loaded (from the vault or its environment, see
 * core/secrets.h), with its encodings, replaced by '*' in place, same length. A long-running
 * server also masks secrets that were added to the vault after it started: when the vault file
 * changed, vml_redact first loads the whole vault, if the key is available without asking (key
 * file or VIBEML_PASSPHRASE).
 *
 * Uses: secrets, vault.
 */
#ifndef VML_REDACT_H
#define VML_REDACT_H

#include <stddef.h>

#include "err.h"

/* Masks buf (len bytes) in place; returns the number of occurrences masked. Looks at the vault
 * file at most every few milliseconds (see redact.c). Thread-safe. */
size_t vml_redact(char *buf, size_t len);
/* The same without looking at the vault file: only the secrets this process already loaded.
 * Never slow (no key derivation), so it is safe inside a sandboxed plugin's vibeml.log. */
size_t vml_redact_known(char *buf, size_t len);
/* Loads the whole vault into the masked set when the key is available without asking; returns
 * 0 also when there is nothing to load, or the vault's error. */
int vml_redact_prime(vml_err *err);

#endif
