/* SPDX-License-Identifier: MIT
 *
 * bounded — the library functions whose C loops the count hook never reaches, made to charge
 * the state's instruction budget, and the finalizers that would run with hooks off, refused.
 * Installed in PLUGIN-profile states (script.c), where the code is not trusted.
 *
 * Lua's count hook runs between VM instructions only. A C function that loops for long (the
 * pattern matcher backtracking over `("a"):rep(3000)` with "a*a*a*a*a*a*a*b", table.move over
 * 2^62 empty slots, string.rep of an empty string 2^62 times) never returns to the VM, so time
 * and instruction limits never trip; and Lua 5.4 runs `__gc` finalizers with hooks disabled.
 * This module replaces, in the state's own library tables:
 *
 *   string.find, match, gmatch, gsub  a backtracking matcher for Lua patterns (the manual's
 *                                     §6.4.1 syntax, same results and error messages) that
 *                                     charges one instruction per step; a pattern bomb stops
 *                                     with the usual "instruction budget exhausted" or "time
 *                                     limit" error. Plain find uses memmem (linear).
 *   string.rep                        the empty result without looping when nothing repeats.
 *   table.insert, remove, move, sort  charge the elements they will shift, move or compare.
 *   setmetatable                      refuses a metatable with a `__gc` field.
 *
 * Anything else that escapes is caught by the plugin watchdog (plugin.c) as a last resort.
 *
 * Uses: script (vml_script_charge), Lua 5.4.
 */
#ifndef VML_BOUNDED_H
#define VML_BOUNDED_H

#include <lua.h>

/* Replaces the functions above in the state's string, table and base libraries [-0, +0, m]. */
void vml_bounded_install(lua_State *L);

#endif
