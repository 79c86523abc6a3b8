/* SPDX-License-Identifier: MIT
 *
 * lapi_base — fields merged into `vibeml` itself, both profiles:
 *   vibeml.null                the JSON null
 *   vibeml.array(t), vibeml.object(t)   mark t's JSON shape; return t (a new table when nil)
 *   vibeml.version             "0.1.0"
 *   vibeml.time()              wall-clock seconds (float, UTC epoch)
 *   vibeml.monotonic()         monotonic seconds (float), for durations
 *   vibeml.log(level, fmt, ...) a line on stderr: "vibeml[<state name>] level: message"
 *   vibeml.isnull(v)           v == vibeml.null
 *   vibeml.hash(text [, bytes]) BLAKE2b of text as lower-case hex (bytes 16..64, default 32):
 *                              stable names and fingerprints, not secrets
 *   vibeml.mac(key, data [, name]) HMAC-SHA256 of data as lower-case hex; key is text, or a
 *                              SecretEnv (vibeml.vault.env_for) whose secret `name` (default
 *                              its first) is the key, so a vault key never becomes a Lua string
 *
 * Uses: conv, lapi, libuv.
 */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sodium.h>
#include <uv.h>

#include "luajson.h"
#include "lapi.h"
#include "script.h"
#include "redact.h"
#include "vault.h"

static int mark(lua_State *L, char kind)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    vml_luajson_mark(L, 1, kind);
    return 1;
}

static int l_array(lua_State *L)
{
    return mark(L, 'a');
}

static int l_object(lua_State *L)
{
    return mark(L, 'o');
}

static int l_isnull(lua_State *L)
{
    lua_pushboolean(L, vml_luajson_isnull(L, 1));
    return 1;
}

static int l_time(lua_State *L)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    lua_pushnumber(L, (lua_Number)tv.tv_sec + (lua_Number)tv.tv_usec / 1e6);
    return 1;
}

static int l_monotonic(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)uv_hrtime() / 1e9);
    return 1;
}

static int l_hash(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_optinteger(L, 2, 32);
    unsigned char out[crypto_generichash_BYTES_MAX];
    char hex[2 * crypto_generichash_BYTES_MAX + 1];

    luaL_argcheck(L, n >= crypto_generichash_BYTES_MIN && n <= crypto_generichash_BYTES_MAX, 2,
                  "hash length must be 16..64 bytes");
    crypto_generichash(out, (size_t)n, (const unsigned char *)text, len, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, out, (size_t)n);
    lua_pushstring(L, hex);
    return 1;
}

static int l_mac(lua_State *L)
{
    size_t klen = 0, dlen, i, n;
    const unsigned char *key = NULL;
    const char *data = luaL_checklstring(L, 2, &dlen);
    unsigned char out[crypto_auth_hmacsha256_BYTES];
    char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
    crypto_auth_hmacsha256_state st;

    if (lua_type(L, 1) == LUA_TSTRING) {
        key = (const unsigned char *)lua_tolstring(L, 1, &klen);
    } else {
        const vml_secrets *s = vml_vault_lua_tosecrets(L, 1);
        const char *want = luaL_optstring(L, 3, NULL);
        if (!s)
            return luaL_argerror(L, 1, "a key text or an open SecretEnv");
        n = vml_secrets_count(s);
        for (i = 0; i < n && !key; i++) {
            const char *entry, *eq;
            if (want && strcmp(vml_secrets_name(s, i), want) != 0)
                continue;
            entry = vml_secrets_env_entry(s, i); /* "NAME=value", borrowed */
            eq = strchr(entry, '=');
            if (eq) {
                key = (const unsigned char *)eq + 1;
                klen = strlen(eq + 1);
            }
        }
        if (!key)
            return want ? vml_lapi_argerror(L, 3, "the SecretEnv holds no secret named '%s'", want)
                        : vml_lapi_argerror(L, 1, "the SecretEnv holds no secret");
    }
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, dlen);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
    sodium_bin2hex(hex, sizeof hex, out, sizeof out);
    lua_pushstring(L, hex);
    return 1;
}

static int l_log(lua_State *L)
{
    static const char *const levels[] = {"debug", "info", "notice", "warning", "error", NULL};
    vml_script *s = vml_script_from(L);
    int lvl = luaL_checkoption(L, 1, "info", levels);
    int n = lua_gettop(L);
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "format");
    lua_remove(L, -2);
    lua_rotate(L, 2, 1); /* [level, format, fmt, args...] */
    lua_call(L, n - 1, 1);
    {
        /* log lines may quote a child's output: mask secret values first (redact.h) */
        size_t len;
        const char *text = lua_tolstring(L, -1, &len);
        char *copy = malloc(len + 1);
        if (copy) {
            memcpy(copy, text, len + 1);
            vml_redact_known(copy, len);
            fprintf(stderr, "vibeml[%s] %s: %s\n", s->name, levels[lvl], copy);
            free(copy);
        }
    }
    return 0;
}

static const luaL_Reg base_funcs[] = {
    {"array", l_array},         {"object", l_object}, {"isnull", l_isnull}, {"time", l_time},
    {"monotonic", l_monotonic}, {"log", l_log},       {"null", NULL},       {"version", NULL},
    {"hash", l_hash},           {"mac", l_mac},       {NULL, NULL},
};

static int open_base(lua_State *L)
{
    luaL_newlib(L, base_funcs);
    vml_luajson_push_null(L);
    lua_setfield(L, -2, "null");
    lua_pushstring(L, VML_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}

const vml_lapi vml_lapi_base = {NULL, open_base, VML_PROFILE_ALL};
