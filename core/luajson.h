/* SPDX-License-Identifier: MIT
 *
 * luajson — the only converter between Lua values and JSON values (jansson), and JSON text for
 * Lua (vibeml.json). The MCP server, the store, the ledger and the plugin loader convert through
 * it, so one set of rules holds everywhere.
 *
 * Rules: `vibeml.null` is JSON null; a table with keys 1..n is an array, other tables objects
 * with string keys; vibeml.array{}/vibeml.object{} force the shape (an empty table without a
 * marker is an object); Lua integers stay JSON integers; NaN, Inf, non-string keys, sparse or
 * mixed tables, functions and other userdata are refused with the path of the bad value
 * ("$.resources.gpus[2]"); nesting is limited to VML_LUAJSON_MAX_DEPTH.
 *
 * Uses: err, jansson, Lua 5.4.
 */
#ifndef VML_LUAJSON_H
#define VML_LUAJSON_H

#include <jansson.h>
#include <lua.h>

#include "err.h"

#define VML_LUAJSON_MAX_DEPTH 64

/* The JSON null of Lua code (a light userdata; same in every state). */
void vml_luajson_push_null(lua_State *L);
int vml_luajson_isnull(lua_State *L, int idx);

/* Pushes j as a Lua value [-0, +1, m]. Objects/arrays get the marker metatables, so they encode
 * back to the same shape. Returns 0, or VML_EJSON (nothing pushed) when too deep. May raise a
 * memory error: a caller holding j must guard it (see vml_luajson_decode). */
int vml_luajson_push(lua_State *L, const json_t *j, vml_err *err);

/* Converts the value at idx into *out (a new reference). Never raises. */
int vml_luajson_to_json(lua_State *L, int idx, json_t **out, vml_err *err);

/* Marks the table at idx as an array (kind 'a') or object (kind 'o'). [-0, +0, m] */
void vml_luajson_mark(lua_State *L, int idx, char kind);

/* Encodes/decodes text. encode: *out is malloc'd (free()); flags as json_dumps (0 = compact,
 * raw UTF-8). decode pushes the value. */
int vml_luajson_encode(lua_State *L, int idx, size_t flags, char **out, vml_err *err);
int vml_luajson_decode(lua_State *L, const char *text, size_t len, vml_err *err);

#endif
