/* SPDX-License-Identifier: MIT
 *
 * lapi_vault — the vault for the Lua half (SCRIPT profile only), as `vibeml.vault`; the public
 * face is require("vibeml.vault") (lua/vibeml/vault.lua). No function here returns a value:
 *   vibeml.vault.names() -> { "HF_TOKEN", ... }               sorted, no key needed
 *   vibeml.vault.list() -> { {name=, created=, updated=}, ... }, info{path=, key=, verified=}
 *   vibeml.vault.has(name) -> bool
 *   vibeml.vault.env_for(names [, optional]) -> SecretEnv | nil, msg, code
 *   vibeml.vault.from_environ(names) -> SecretEnv   (values from this process's environment)
 *   vibeml.vault.redact(text) -> text with every secret this process has loaded masked, count
 *   vibeml.vault.prime() -> true | nil, msg, code    (load all secrets for redaction, no prompt)
 *   vibeml.vault.valid_name(name) -> bool
 * SecretEnv: :names(), :redact(text), :close() (wipes), __close, __gc, __tostring (names only),
 * __len. Passing it to the process spawner puts "NAME=value" into the child's environment.
 *
 * Uses: vault, secrets, redact, script.
 */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"
#include "redact.h"
#include "vault.h"

#define SECRETENV "vibeml.SecretEnv"

typedef struct l_secretenv {
    vml_secrets *s; /* owned; NULL once closed */
} l_secretenv;

const vml_secrets *vml_vault_lua_tosecrets(lua_State *L, int idx)
{
    l_secretenv *u = luaL_testudata(L, idx, SECRETENV);
    return u ? u->s : NULL;
}

static l_secretenv *check_env(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, SECRETENV);
}

static int l_env_close(lua_State *L)
{
    l_secretenv *u = check_env(L, 1);
    vml_secrets_free(u->s);
    u->s = NULL;
    return 0;
}

static int l_env_names(lua_State *L)
{
    l_secretenv *u = check_env(L, 1);
    size_t i, n = vml_secrets_count(u->s);
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, vml_secrets_name(u->s, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int l_env_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)vml_secrets_count(check_env(L, 1)->s));
    return 1;
}

static int l_env_tostring(lua_State *L)
{
    l_secretenv *u = check_env(L, 1);
    size_t i, n = vml_secrets_count(u->s);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, u->s ? "SecretEnv(" : "SecretEnv(closed");
    for (i = 0; i < n; i++) {
        if (i)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, vml_secrets_name(u->s, i));
    }
    luaL_addchar(&b, ')');
    luaL_pushresult(&b);
    return 1;
}

/* Copies text into a malloc'd buffer, masks it with fn, pushes the result. */
static int push_redacted(lua_State *L, int idx, const vml_secrets *s, int global)
{
    size_t len, count;
    const char *text = luaL_checklstring(L, idx, &len);
    char **slot = vml_lua_guard(L);
    *slot = malloc(len ? len : 1);
    if (!*slot)
        return luaL_error(L, "out of memory");
    memcpy(*slot, text, len);
    count = global ? vml_redact(*slot, len) : vml_secrets_redact(s, *slot, len);
    lua_pushlstring(L, *slot, len);
    vml_lua_guard_free(slot);
    lua_pushinteger(L, (lua_Integer)count);
    return 2;
}

static int l_env_redact(lua_State *L)
{
    l_secretenv *u = check_env(L, 1);
    return push_redacted(L, 2, u->s, 0);
}

/* Collects a list of names at idx (a string or an array of strings) into a malloc'd array that
 * points into the Lua strings (alive while the table is on the stack). */
static const char **names_arg(lua_State *L, int idx, size_t *n, char ***slot)
{
    size_t i, len;
    const char **names;
    *n = 0;
    if (lua_isnoneornil(L, idx))
        return NULL;
    if (lua_type(L, idx) == LUA_TSTRING) {
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, idx);
        lua_rawseti(L, -2, 1);
        lua_replace(L, idx);
    }
    luaL_checktype(L, idx, LUA_TTABLE);
    len = (size_t)luaL_len(L, idx);
    for (i = 1; i <= len; i++) {
        if (lua_rawgeti(L, idx, (lua_Integer)i) != LUA_TSTRING || !vml_lua_tocstr(L, -1))
            luaL_argerror(L, idx, "a list of secret names (strings without NUL bytes)");
        lua_pop(L, 1);
    }
    *slot = vml_lua_guard(L);
    names = malloc((len ? len : 1) * sizeof *names);
    **slot = (char *)names;
    if (!names)
        luaL_error(L, "out of memory");
    for (i = 0; i < len; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        names[i] = lua_tostring(L, -1); /* anchored by the table */
        lua_pop(L, 1);
    }
    *n = len;
    return names;
}

static l_secretenv *new_env(lua_State *L)
{
    l_secretenv *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->s = NULL;
    luaL_setmetatable(L, SECRETENV);
    return u;
}

static int l_env_for(lua_State *L)
{
    size_t n = 0, m = 0;
    char **slot1 = NULL, **slot2 = NULL;
    const char **req, **opt;
    l_secretenv *u;
    vml_err err;
    lua_settop(L, 2);
    req = names_arg(L, 1, &n, &slot1);
    opt = names_arg(L, 2, &m, &slot2);
    u = new_env(L);
    vml_err_clear(&err);
    if (vml_vault_load(req, n, opt, m, &u->s, &err) < 0)
        return vml_lua_fail(L, &err);
    return 1;
}

static int l_from_environ(lua_State *L)
{
    size_t n = 0;
    char **slot = NULL;
    const char **names;
    l_secretenv *u;
    vml_err err;
    lua_settop(L, 1);
    names = names_arg(L, 1, &n, &slot);
    u = new_env(L);
    vml_err_clear(&err);
    if (vml_secrets_from_environ(names, n, &u->s, &err) < 0)
        return vml_lua_fail(L, &err);
    return 1;
}

/* Pushes the vault's entries: their names only (l_names) or {name=, created=, updated=} each,
 * then {path=, key=, verified=, exists=} (l_list). */
static int push_index(lua_State *L, int names_only)
{
    vml_vault_index idx;
    vml_err err;
    size_t i;
    vml_err_clear(&err);
    if (vml_vault_list(&idx, &err) < 0)
        return vml_lua_fail(L, &err);
    lua_createtable(L, (int)idx.count, 0);
    for (i = 0; i < idx.count; i++) {
        if (names_only) {
            lua_pushstring(L, idx.entries[i].name);
        } else {
            lua_createtable(L, 0, 3);
            lua_pushstring(L, idx.entries[i].name);
            lua_setfield(L, -2, "name");
            lua_pushstring(L, idx.entries[i].created);
            lua_setfield(L, -2, "created");
            lua_pushstring(L, idx.entries[i].updated);
            lua_setfield(L, -2, "updated");
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    if (names_only) {
        vml_vault_index_deinit(&idx);
        return 1;
    }
    lua_createtable(L, 0, 4);
    lua_pushstring(L, idx.path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, idx.passphrase ? "passphrase" : "keyfile");
    lua_setfield(L, -2, "key");
    lua_pushboolean(L, idx.verified);
    lua_setfield(L, -2, "verified");
    lua_pushboolean(L, idx.exists);
    lua_setfield(L, -2, "exists");
    vml_vault_index_deinit(&idx);
    return 2;
}

static int l_names(lua_State *L)
{
    return push_index(L, 1);
}

static int l_list(lua_State *L)
{
    return push_index(L, 0);
}

static int l_has(lua_State *L)
{
    const char *name = vml_lua_checkcstr(L, 1);
    vml_err err;
    int rc;
    vml_err_clear(&err);
    if (!vml_secrets_name_ok(name)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    rc = vml_vault_has(name, &err);
    if (rc < 0)
        return vml_lua_fail(L, &err);
    lua_pushboolean(L, rc);
    return 1;
}

static int l_redact(lua_State *L)
{
    return push_redacted(L, 1, NULL, 1);
}

static int l_prime(lua_State *L)
{
    vml_err err;
    vml_err_clear(&err);
    if (vml_redact_prime(&err) < 0)
        return vml_lua_fail(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_valid_name(lua_State *L)
{
    lua_pushboolean(L, lua_type(L, 1) == LUA_TSTRING && vml_lua_tocstr(L, 1) &&
                           vml_secrets_name_ok(lua_tostring(L, 1)));
    return 1;
}

static const luaL_Reg env_methods[] = {
    {"names", l_env_names},
    {"redact", l_env_redact},
    {"close", l_env_close},
    {NULL, NULL},
};

static const luaL_Reg vault_funcs[] = {
    {"names", l_names},
    {"list", l_list},
    {"has", l_has},
    {"env_for", l_env_for},
    {"from_environ", l_from_environ},
    {"redact", l_redact},
    {"prime", l_prime},
    {"valid_name", l_valid_name},
    {NULL, NULL},
};

static int open_vault(lua_State *L)
{
    if (luaL_newmetatable(L, SECRETENV)) {
        luaL_newlib(L, env_methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_env_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_env_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, l_env_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushcfunction(L, l_env_len);
        lua_setfield(L, -2, "__len");
        lua_pushliteral(L, "SecretEnv");
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    luaL_newlib(L, vault_funcs);
    return 1;
}

const vml_lapi vml_lapi_vault = {"vault", open_vault, VML_PROFILE_SCRIPT};
