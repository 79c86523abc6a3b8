/* SPDX-License-Identifier: MIT
 *
 * lapi_json — vibeml.json.encode/decode (both profiles), through luajson.
 *   vibeml.json.encode(value [, {indent = N, sort_keys = bool}]) -> string   (raises on values
 *     JSON cannot hold: misuse)
 *   vibeml.json.decode(text) -> value | nil, message, code
 *
 * Uses: luajson, lapi.
 */
#include <lauxlib.h>
#include <stdlib.h>

#include "luajson.h"
#include "lapi.h"

static int l_json_encode(lua_State *L)
{
    size_t flags = JSON_COMPACT;
    char **text;
    vml_err err;
    luaL_checkany(L, 1);
    if (lua_istable(L, 2)) {
        lua_Integer indent;
        lua_getfield(L, 2, "indent");
        indent = luaL_optinteger(L, -1, 0);
        lua_getfield(L, 2, "sort_keys");
        if (indent > 0 && indent <= 31)
            flags = JSON_INDENT(indent);
        if (lua_toboolean(L, -1))
            flags |= JSON_SORT_KEYS;
        lua_pop(L, 2);
    }
    lua_settop(L, 1);
    text = vml_lua_guard(L); /* [value, guard]: frees the text even if the push below raises */
    if (vml_luajson_encode(L, 1, flags, text, &err) < 0)
        return vml_lapi_argerror(L, 1, "%s", vml_err_msg(&err));
    lua_pushstring(L, *text);
    vml_lua_guard_free(text);
    return 1;
}

static int l_json_decode(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    vml_err err;
    if (vml_luajson_decode(L, text, len, &err) < 0)
        return vml_lua_fail(L, &err);
    return 1;
}

static const luaL_Reg json_funcs[] = {
    {"encode", l_json_encode},
    {"decode", l_json_decode},
    {NULL, NULL},
};

static int open_json(lua_State *L)
{
    luaL_newlib(L, json_funcs);
    return 1;
}

const vml_lapi vml_lapi_json = {"json", open_json, VML_PROFILE_ALL};
