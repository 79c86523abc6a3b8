/* SPDX-License-Identifier: MIT
 *
 * lapi_embedded — read the files compiled into the binary (SCRIPT profile):
 *   vibeml.embedded.read(path) -> string | nil      e.g. "plugins/catalog/gpu_offers.csv"
 *   vibeml.embedded.list(prefix) -> { paths, sorted }   e.g. list("plugins/gpus/")
 * Data files shipped with VibeML (the price snapshot, GPU maps, training scripts) are read
 * through this, so an installed binary needs no data folder next to it.
 *
 * Uses: embed, script.
 */
#include <lauxlib.h>
#include <string.h>

#include "embed.h"
#include "script.h"

static int l_embedded_read(lua_State *L)
{
    const vml_embed_file *f = vml_embed_find(vml_lua_checkcstr(L, 1));
    if (!f) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, f->data, f->len);
    return 1;
}

static int l_embedded_list(lua_State *L)
{
    size_t plen;
    const char *prefix = luaL_optlstring(L, 1, "", &plen);
    const vml_embed_file *f;
    lua_Integer n = 0;
    lua_newtable(L);
    for (f = vml_embed_files; f->path; f++) {
        if (strncmp(f->path, prefix, plen) != 0)
            continue;
        lua_pushstring(L, f->path);
        lua_rawseti(L, -2, ++n);
    }
    return 1; /* the generator sorts the table, so the list is sorted */
}

static const luaL_Reg embedded_funcs[] = {
    {"read", l_embedded_read},
    {"list", l_embedded_list},
    {NULL, NULL},
};

static int open_embedded(lua_State *L)
{
    luaL_newlib(L, embedded_funcs);
    return 1;
}

const vml_lapi vml_lapi_embedded = {"embedded", open_embedded, VML_PROFILE_SCRIPT};
