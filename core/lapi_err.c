/* SPDX-License-Identifier: MIT
 *
 * lapi_err — vibeml.E (both profiles): the error-code names of core/err.h's VML_ERRNO_MAP, so
 * Lua code compares `code == vibeml.E.ENOENT` instead of spelling "VML_ENOENT".
 *   vibeml.E.<NAME>  -> "VML_<NAME>" for every NAME in VML_ERRNO_MAP
 *   vibeml.E.NOPE    raises "vibeml.E has no code 'NOPE' (known: EINVAL, ENOMEM, ...)": a typo
 *                    is an error at once, not a nil that never equals any code
 *   vibeml.E.X = v   raises (the table is frozen); pairs(vibeml.E) lists the codes.
 * Generated from the X-macro list, so a code added to err.h appears here with no other edit.
 *
 * Uses: err, script, Lua 5.4.
 */
#include <lauxlib.h>

#include "lapi.h"

/* upvalue 1: the real table {NAME = "VML_NAME"} */
static int l_e_index(lua_State *L)
{
    luaL_Buffer b;
    const char *key;
    int first = 1;
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    key = luaL_tolstring(L, 2, NULL); /* pushed below the buffer, so it stays valid */
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "vibeml.E has no code '");
    luaL_addstring(&b, key);
    luaL_addstring(&b, "' (known:");
#define VML__ERR_KNOWN(name, val, msg)                                                             \
    luaL_addstring(&b, first ? " " : ", ");                                                        \
    luaL_addstring(&b, #name);                                                                     \
    first = 0;
    VML_ERRNO_MAP(VML__ERR_KNOWN)
#undef VML__ERR_KNOWN
    luaL_addstring(&b, ")");
    luaL_pushresult(&b);
    return lua_error(L);
}

static int l_e_newindex(lua_State *L)
{
    return luaL_error(L, "vibeml.E is read-only (its codes come from core/err.h)");
}

static int l_e_next(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1)))
        return 2;
    lua_pushnil(L);
    return 1;
}

static int l_e_pairs(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, l_e_next, 1);
    lua_pushnil(L);
    lua_pushnil(L);
    return 3;
}

static int open_err(lua_State *L)
{
    static const char *const names[] = {
#define VML__ERR_NAME(name, val, msg) #name,
        VML_ERRNO_MAP(VML__ERR_NAME)
#undef VML__ERR_NAME
    };
    size_t i;
    /* A userdata, not a table, as vml_lua_freeze does: rawset() cannot write into it and
     * setmetatable() cannot strip its metatable. */
    lua_newuserdatauv(L, 0, 0);                                   /* [proxy] */
    lua_createtable(L, 0, 5);                                     /* [proxy, mt] */
    lua_createtable(L, 0, (int)(sizeof names / sizeof names[0])); /* [proxy, mt, real] */
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        lua_pushfstring(L, "VML_%s", names[i]);
        lua_setfield(L, -2, names[i]);
    }
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, l_e_index, 1);
    lua_setfield(L, -3, "__index");
    lua_pushcclosure(L, l_e_pairs, 1); /* takes real */
    lua_setfield(L, -2, "__pairs");
    lua_pushcfunction(L, l_e_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "read-only");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2); /* [proxy] */
    return 1;
}

const vml_lapi vml_lapi_err = {"E", open_err, VML_PROFILE_ALL};
