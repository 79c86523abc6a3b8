/* SPDX-License-Identifier: MIT
 *
 * lapi_eprint — merged into `vibeml` (SCRIPT profile):
 *   vibeml.eprint(...)   like print, but to stderr (command-line errors and hints; there is no
 *                        io library in the sandbox)
 *
 * Uses: script.
 */
#include <lauxlib.h>
#include <stdio.h>

#include "script.h"

static int l_eprint(lua_State *L)
{
    int n = lua_gettop(L), i;
    for (i = 1; i <= n; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        if (i > 1)
            fputc('\t', stderr);
        fwrite(s, 1, len, stderr);
        lua_pop(L, 1);
    }
    fputc('\n', stderr);
    fflush(stderr);
    return 0;
}

static const luaL_Reg eprint_funcs[] = {
    {"eprint", l_eprint},
    {NULL, NULL},
};

static int open_eprint(lua_State *L)
{
    luaL_newlib(L, eprint_funcs);
    return 1;
}

const vml_lapi vml_lapi_eprint = {NULL, open_eprint, VML_PROFILE_SCRIPT};
