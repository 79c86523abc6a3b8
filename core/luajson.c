/* SPDX-License-Identifier: MIT
 *
 * luajson — Lua <-> JSON (see luajson.h).
 *
 * Uses: err, jansson, Lua 5.4.
 */
#include "luajson.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char null_token = 0;
static const char k_array_mt = 0, k_object_mt = 0;

void vml_luajson_push_null(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&null_token);
}

int vml_luajson_isnull(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == &null_token;
}

static void push_marker(lua_State *L, char kind)
{
    const void *key = kind == 'a' ? &k_array_mt : &k_object_mt;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 1);
        lua_pushstring(L, kind == 'a' ? "array" : "object");
        lua_setfield(L, -2, "__jsontype");
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, key);
    }
}

void vml_luajson_mark(lua_State *L, int idx, char kind)
{
    idx = lua_absindex(L, idx);
    push_marker(L, kind);
    lua_setmetatable(L, idx);
}

/* 'a', 'o' or 0 for the table at idx according to its metatable's __jsontype. */
static char marker_of(lua_State *L, int idx)
{
    char kind = 0;
    if (lua_getmetatable(L, idx)) {
        if (lua_getfield(L, -1, "__jsontype") == LUA_TSTRING) {
            const char *t = lua_tostring(L, -1);
            kind = strcmp(t, "array") == 0 ? 'a' : strcmp(t, "object") == 0 ? 'o' : 0;
        }
        lua_pop(L, 2);
    }
    return kind;
}

static int push_rec(lua_State *L, const json_t *j, int depth, vml_err *err)
{
    if (depth > VML_LUAJSON_MAX_DEPTH)
        return vml_err_set(err, VML_EJSON, "JSON nested deeper than %d levels",
                           VML_LUAJSON_MAX_DEPTH);
    if (!lua_checkstack(L, 4))
        return vml_err_set(err, VML_ENOMEM, "Lua stack exhausted converting JSON");
    switch (json_typeof(j)) {
    case JSON_NULL:
        vml_luajson_push_null(L);
        return 0;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        return 0;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        return 0;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(j));
        return 0;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(j));
        return 0;
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(j), json_string_length(j));
        return 0;
    case JSON_ARRAY: {
        size_t i, n = json_array_size(j);
        lua_createtable(L, (int)n, 0);
        for (i = 0; i < n; i++) {
            int rc = push_rec(L, json_array_get(j, i), depth + 1, err);
            if (rc < 0) {
                lua_pop(L, 1);
                return rc;
            }
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        vml_luajson_mark(L, -1, 'a');
        return 0;
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        lua_createtable(L, 0, (int)json_object_size(j));
        json_object_foreach ((json_t *)j, k, v) {
            int rc;
            lua_pushstring(L, k);
            rc = push_rec(L, v, depth + 1, err);
            if (rc < 0) {
                lua_pop(L, 2);
                return rc;
            }
            lua_rawset(L, -3);
        }
        vml_luajson_mark(L, -1, 'o');
        return 0;
    }
    }
    return vml_err_set(err, VML_EJSON, "unknown JSON type");
}

int vml_luajson_push(lua_State *L, const json_t *j, vml_err *err)
{
    return push_rec(L, j, 0, err);
}

/* path: "$", "$.a", "$.a[3]" — built as we descend, for error messages */
static void path_add(char *path, size_t n, size_t at, const char *key, long long index)
{
    char tmp[24], *q = tmp + sizeof tmp;
    size_t len;
    if (at + 1 >= n)
        return;
    if (key) { /* runs for every value converted: no printf */
        len = strlen(key);
        if (len > n - at - 2)
            len = n - at - 2;
        path[at] = '.';
        memcpy(path + at + 1, key, len);
        path[at + 1 + len] = '\0';
        return;
    }
    *--q = ']';
    do {
        *--q = (char)('0' + index % 10);
        index /= 10;
    } while (index > 0);
    *--q = '[';
    len = (size_t)(tmp + sizeof tmp - q);
    if (len > n - at - 1)
        len = n - at - 1;
    memcpy(path + at, q, len);
    path[at + len] = '\0';
}

static int to_json_rec(lua_State *L, int idx, json_t **out, int depth, char *path, size_t pn,
                       vml_err *err);

static int table_to_json(lua_State *L, int idx, json_t **out, int depth, char *path, size_t pn,
                         vml_err *err)
{
    char kind = marker_of(L, idx);
    size_t at = strlen(path);
    lua_Integer n = 0, count = 0, maxk = 0;
    int has_other = 0, rc = 0;
    json_t *res = NULL;

    /* classify the keys */
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1) {
            lua_Integer k = lua_tointeger(L, -2);
            if (k > maxk)
                maxk = k;
            n++;
        } else if (lua_type(L, -2) == LUA_TSTRING) {
            has_other = 1;
        } else {
            const char *tn = luaL_typename(L, -2);
            lua_pop(L, 2);
            return vml_err_set(err, VML_EJSON,
                               "%s: table keys must be strings (or 1..n for an "
                               "array), found a %s key",
                               path, tn);
        }
        lua_pop(L, 1);
    }
    if (kind == 0)
        kind = (count > 0 && !has_other) ? 'a' : 'o';
    if (kind == 'a') {
        lua_Integer i;
        if (has_other)
            return vml_err_set(err, VML_EJSON, "%s: an array cannot have string keys", path);
        if (maxk != n)
            return vml_err_set(err, VML_EJSON,
                               "%s: sparse array (keys must be 1..n without "
                               "holes; use vibeml.null for a JSON null)",
                               path);
        res = json_array();
        if (!res)
            return vml_err_set(err, VML_ENOMEM, "out of memory");
        for (i = 1; i <= n; i++) {
            json_t *v = NULL;
            lua_rawgeti(L, idx, i);
            path_add(path, pn, at, NULL, (long long)(i - 1));
            rc = to_json_rec(L, lua_gettop(L), &v, depth + 1, path, pn, err);
            path[at] = '\0';
            lua_pop(L, 1);
            if (rc < 0)
                goto fail;
            json_array_append_new(res, v);
        }
    } else {
        if (n > 0)
            return vml_err_set(err, VML_EJSON, "%s: a table mixes array items and string keys",
                               path);
        res = json_object();
        if (!res)
            return vml_err_set(err, VML_ENOMEM, "out of memory");
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            size_t klen;
            const char *k = lua_tolstring(L, -2, &klen);
            json_t *v = NULL;
            path_add(path, pn, at, k, 0);
            rc = to_json_rec(L, lua_gettop(L), &v, depth + 1, path, pn, err);
            path[at] = '\0';
            lua_pop(L, 1);
            if (rc < 0) {
                lua_pop(L, 1);
                goto fail;
            }
            if (strlen(k) != klen || json_object_setn_new(res, k, klen, v) < 0) {
                lua_pop(L, 1);
                rc = vml_err_set(err, VML_EJSON, "%s: key is not valid UTF-8 text", path);
                goto fail;
            }
        }
    }
    *out = res;
    return 0;
fail:
    json_decref(res);
    return rc;
}

static int to_json_rec(lua_State *L, int idx, json_t **out, int depth, char *path, size_t pn,
                       vml_err *err)
{
    json_t *v = NULL;
    if (depth > VML_LUAJSON_MAX_DEPTH)
        return vml_err_set(err, VML_EJSON, "%s: nested deeper than %d levels (a cycle?)", path,
                           VML_LUAJSON_MAX_DEPTH);
    if (!lua_checkstack(L, 6))
        return vml_err_set(err, VML_ENOMEM, "Lua stack exhausted converting to JSON");
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        v = json_null();
        break;
    case LUA_TBOOLEAN:
        v = json_boolean(lua_toboolean(L, idx));
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            v = json_integer((json_int_t)lua_tointeger(L, idx));
        } else {
            double d = lua_tonumber(L, idx);
            if (isnan(d) || isinf(d))
                return vml_err_set(err, VML_EJSON, "%s: %s cannot be written as JSON", path,
                                   isnan(d) ? "NaN" : "an infinite number");
            v = json_real(d);
        }
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        v = json_stringn(s, len);
        if (!v)
            return vml_err_set(err, VML_EJSON, "%s: string is not valid UTF-8", path);
        break;
    }
    case LUA_TTABLE:
        return table_to_json(L, idx, out, depth, path, pn, err);
    case LUA_TLIGHTUSERDATA:
        if (vml_luajson_isnull(L, idx)) {
            v = json_null();
            break;
        }
        /* fall through */
    default:
        return vml_err_set(err, VML_EJSON, "%s: a %s cannot be written as JSON", path,
                           luaL_typename(L, idx));
    }
    if (!v)
        return vml_err_set(err, VML_ENOMEM, "out of memory");
    *out = v;
    return 0;
}

int vml_luajson_to_json(lua_State *L, int idx, json_t **out, vml_err *err)
{
    char path[512] = "$";
    *out = NULL;
    return to_json_rec(L, lua_absindex(L, idx), out, 0, path, sizeof path, err);
}

int vml_luajson_encode(lua_State *L, int idx, size_t flags, char **out, vml_err *err)
{
    json_t *j = NULL;
    int rc = vml_luajson_to_json(L, idx, &j, err);
    if (rc < 0)
        return rc;
    *out = json_dumps(j, flags | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    json_decref(j);
    if (!*out)
        return vml_err_set(err, VML_ENOMEM, "out of memory encoding JSON");
    return 0;
}

static int l_json_guard_gc(lua_State *L)
{
    json_t **slot = lua_touserdata(L, 1);
    if (slot && *slot) {
        json_decref(*slot);
        *slot = NULL;
    }
    return 0;
}

int vml_luajson_decode(lua_State *L, const char *text, size_t len, vml_err *err)
{
    json_error_t je;
    json_t **slot;
    int rc;
    /* guard first, resource second: a push below may raise (out of memory) and the guard's
     * __gc then releases the document (docs/binding.md, Ownership) */
    slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    if (luaL_newmetatable(L, "vibeml.JsonGuard")) {
        lua_pushcfunction(L, l_json_guard_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    *slot = json_loadb(text, len, JSON_DECODE_ANY, &je);
    if (!*slot) {
        lua_pop(L, 1);
        return vml_err_set(err, VML_EJSON, "invalid JSON at line %d, column %d: %s", je.line,
                           je.column, je.text);
    }
    rc = vml_luajson_push(L, *slot, err);
    json_decref(*slot);
    *slot = NULL;
    if (rc < 0) {
        lua_pop(L, 1);
        return rc;
    }
    lua_remove(L, -2); /* the guard */
    return 0;
}
