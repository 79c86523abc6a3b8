/* SPDX-License-Identifier: MIT
 *
 * jtext — a growable byte buffer, a compact writer for jansson values and a strict reader that
 * builds them. Being retired: the MCP server reads and writes JSON text with jansson now
 * (core/mcp_rpc.c; bench/mcp_stdio/README.md has the figures behind that), and the one user
 * left is core/plugin.c (descriptor text: vml_jtext_init/value/take and vml_jtext_parse).
 * Delete this file and tests/unit/test_jtext.c once plugin.c uses json_dumps/json_loadb.
 *
 * Writer: compact, keys in insertion order, strings as given (UTF-8 kept raw; '"', '\\' and
 * control characters escaped), integers exact, reals in the shortest form that reads back to the
 * same double (always with a '.' or an exponent, so they stay reals).
 * Reader (RFC 8259): UTF-8 validated (no overlongs, no surrogates), escapes with surrogate
 * pairs, \u0000 allowed inside strings, duplicate keys refused, integers that fit in 64 bits
 * stay integers, nesting limited to VML_JTEXT_MAX_DEPTH, nothing but whitespace after the value.
 *
 * Ownership: a vml_jtext owns its bytes until vml_jtext_take hands them over.
 * Uses: err, jansson.
 */
#ifndef VML_JTEXT_H
#define VML_JTEXT_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

#define VML_JTEXT_MAX_DEPTH 2048

typedef struct vml_jtext {
    char *p;
    size_t len, cap;
    int oom; /* sticky: an allocation failed, the text is incomplete */
} vml_jtext;

void vml_jtext_init(vml_jtext *b);
void vml_jtext_free(vml_jtext *b);
/* Hands the NUL-terminated bytes to the caller (free()); NULL (and b freed) if an allocation
 * failed on the way. b is empty afterwards. */
char *vml_jtext_take(vml_jtext *b, size_t *len);

void vml_jtext_add(vml_jtext *b, const void *data, size_t n);
#define vml_jtext_lit(b, s) vml_jtext_add((b), "" s, sizeof(s) - 1)
/* s[0..n) as a quoted JSON string. */
void vml_jtext_str(vml_jtext *b, const char *s, size_t n);
/* v as compact JSON (any type; NULL writes null). */
void vml_jtext_value(vml_jtext *b, const json_t *v);

/* Parses text[0..len) into *out (a new reference). On failure returns VML_EJSON with a message
 * naming the problem, and *pos is the byte offset where it was found. */
int vml_jtext_parse(const char *text, size_t len, json_t **out, size_t *pos, vml_err *err);

#endif
