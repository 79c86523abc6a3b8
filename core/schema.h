/* SPDX-License-Identifier: MIT
 *
 * schema — JSON Schema (2020-12) validation of MCP tool arguments and results, in C, before any
 * handler runs.
 *
 * The supported subset is what tool inputSchemas and outputSchemas use:
 *   type (a name or an array of names; "integer" accepts 3 and 3.0), enum, const,
 *   properties, required, additionalProperties (false or a schema), minProperties,
 *   maxProperties, items (one schema), minItems, maxItems, uniqueItems,
 *   minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers), multipleOf,
 *   minLength, maxLength (in Unicode code points), pattern, anyOf, default (filled in, see
 *   VML_SCHEMA_FILL_DEFAULTS).
 * Annotations are accepted and ignored: $schema, $id, title, description, examples, format,
 * deprecated, readOnly, writeOnly, $comment. Any other keyword makes vml_schema_check() fail, so a
 * tool never silently relies on a keyword that is not enforced.
 *
 * `pattern` is a POSIX extended regular expression (regcomp REG_EXTENDED), unanchored like
 * JSON Schema's ECMA-262 patterns; write ^...$ to anchor. ECMA-only syntax (\d, \w, lookahead,
 * non-greedy) is refused by vml_schema_check() with the reason, never misread.
 *
 * Messages name the path of the bad value and what is allowed, e.g.
 *   "arguments.gpus[2].count: 0 is below the minimum 1"
 *   "arguments: unknown field 'gpu_typ' (allowed: gpu_type, count)".
 *
 * Uses: err, jansson, POSIX regex.
 */
#ifndef VML_SCHEMA_H
#define VML_SCHEMA_H

#include <jansson.h>

#include "err.h"

/* Flags for vml_schema_validate. */
#define VML_SCHEMA_FILL_DEFAULTS 1 /* add absent properties that have a `default` to objects */
#define VML_SCHEMA_HINTS                                                                           \
    2                          /* end a message with "; <description>" of the innermost            \
                                  schema on the failing path that has one (plugin kinds) */
#define VML_SCHEMA_LUA_INDEX 4 /* number array items from 1 in messages, as Lua does */

/* Checks that schema is an object that uses only supported keywords with well-formed values and
 * compilable patterns. Returns 0 or VML_EINVAL with the path in the schema ("properties.x.
 * minimum: must be a number"). */
int vml_schema_check(const json_t *schema, vml_err *err);

/* A schema compiled for repeated validation (tools compile theirs once per tool-set change).
 * It keeps a reference to the schema's JSON, which must not be modified while it lives. */
typedef struct vml_schema vml_schema;

/* Compiles schema (best checked with vml_schema_check first: unusable keyword values are
 * reported when a value reaches them). Returns 0 or VML_ENOMEM/VML_EINVAL. */
int vml_schema_compile(const json_t *schema, vml_schema **out, vml_err *err);
void vml_schema_free(vml_schema *c);

/* Validates value against the compiled schema; root names the value in messages
 * ("arguments"). With VML_SCHEMA_FILL_DEFAULTS, value (an object tree) gets the defaults of
 * absent properties, copied. Returns 0 or VML_EINVAL with the first problem found. */
int vml_schema_run(const vml_schema *c, json_t *value, const char *root, int flags, vml_err *err);

/* Compiles, runs and frees: for a schema used once. */
int vml_schema_validate(const json_t *schema, json_t *value, const char *root, int flags,
                        vml_err *err);

#endif
