/* SPDX-License-Identifier: MIT
 *
 * lapi — the one convention every C function exposed to Lua (core/lapi_*.c) follows, and the
 * helpers that apply it. docs/binding.md shows it with examples and a table per module.
 *
 *   Misuse RAISES. A wrong type, a value out of range, a missing field, a method called on a
 *   closed handle: the caller's code is wrong, so raise through vml_lapi_argerror (or the
 *   luaL_check* / luaL_argcheck family, which say the same thing): "bad argument #1 to 'request'
 *   ('url' is required: the address to fetch)". The message says what was wrong and what is
 *   allowed. A table field is reported against the argument that holds the table.
 *
 *   A runtime failure RETURNS nil, message, code. I/O, SQL, not found, refused, time-outs: the
 *   world said no, and the caller decides. code is the error's name from core/err.h's
 *   VML_ERRNO_MAP ("VML_ENOENT"); Lua compares it with vibeml.E.ENOENT (core/lapi_err.c), a
 *   frozen table where an unknown name raises. Push the three values with vml_lapi_fail (code
 *   and a format) or vml_lua_fail (a vml_err from a core call, core/script.h).
 *
 *   Running out of memory raises (luaL_error or Lua's own memory error), as Lua itself does.
 *
 * A function returns one of these shapes and nothing else, and its file's header comment says
 * which: `-> value | nil, message, code`. vml_lua_raise (an error table {code, message}) is
 * kept for the Lua half's own errors crossing C (plugin results), not for new functions.
 *
 * Uses: script (vml_lua_* helpers), err, Lua 5.4.
 */
#ifndef VML_LAPI_H
#define VML_LAPI_H

#include <lauxlib.h>
#include <lua.h>

#include "err.h"
#include "script.h"

/* Raises "bad argument #arg to 'fn' (<message>)" with a printf-style message, through
 * luaL_argerror. arg is the stack index; for a method call (db:exec) Lua reports it one lower,
 * as the user counts, and arg 1 as "calling 'exec' on bad self". Never returns; declared int so
 * a C function can `return vml_lapi_argerror(...)`. [-0, +0, v] */
int vml_lapi_argerror(lua_State *L, int arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Pushes nil, the formatted message and the name of code ("VML_ENOENT") and returns 3: the
 * runtime-failure shape. code is a negative VML_E* value. Works on any thread of a state, so
 * an await callback may push it on vml_await_thread(). [-0, +3, m] */
int vml_lapi_fail(lua_State *L, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
