/* SPDX-License-Identifier: MIT
 *
 * lapi_http — HTTP for scripts and the Lua half of VibeML (SCRIPT profile only; plugins get no
 * network). The calling task waits on the event loop; other tasks go on meanwhile.
 *   vibeml.http.request{ method = "GET", url = "https://...", headers = {Name = "value", ...},
 *                        body = "...", timeout = 30, max_bytes = 64 MiB, max_redirects = 5,
 *                        output_file = "/path" }
 *     -> { status = 200, headers = {["content-type"] = "...", ...}, body = "...", url = final }
 *     | nil, message, code        (time-out: VML_ETIMEOUT, too large: VML_ELIMIT, else VML_EHTTP)
 *   Any HTTP status is a reply (check status); only a failed exchange returns nil. With
 *   output_file the body is written there (removed again on failure) and `body` is absent.
 *
 * Misuse (a missing url, a field of the wrong type) raises "bad argument #1 to 'request' (...)".
 *
 * Uses: http, loop, lapi, err.
 */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "loop.h"
#include "lapi.h"

#define MAX_HEADERS 64

typedef struct lreq {
    vml_await await;
    vml_http_op *op;
    lua_State *L; /* the task's state, for building results in protected mode */
} lreq;

typedef struct built {
    const vml_http_resp *resp;
    int has_file;
} built;

/* [-0, +1, m] builds the result table from a reply (run under pcall). */
static int push_result(lua_State *L)
{
    const built *b = lua_touserdata(L, 1);
    const vml_http_resp *r = b->resp;
    size_t i;
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, r->status);
    lua_setfield(L, -2, "status");
    lua_createtable(L, 0, (int)r->nheaders);
    for (i = 0; i < r->nheaders; i++) {
        /* repeated headers are joined with ", " as HTTP allows */
        if (lua_getfield(L, -1, r->headers[i].name) == LUA_TSTRING) {
            lua_pushliteral(L, ", ");
            lua_pushstring(L, r->headers[i].value);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushstring(L, r->headers[i].value);
        }
        lua_setfield(L, -2, r->headers[i].name);
    }
    lua_setfield(L, -2, "headers");
    if (!b->has_file) {
        lua_pushlstring(L, r->body ? r->body : "", r->body_len);
        lua_setfield(L, -2, "body");
    }
    lua_pushinteger(L, (lua_Integer)r->body_len);
    lua_setfield(L, -2, "size");
    if (r->effective_url) {
        lua_pushstring(L, r->effective_url);
        lua_setfield(L, -2, "url");
    }
    return 1;
}

static void on_done(vml_http_op *op, int rc, const vml_err *err, const vml_http_resp *resp,
                    void *ud)
{
    lreq *q = ud;
    lua_State *T;
    vml_script *s;
    (void)op;
    q->op = NULL;
    if (!q->await.task) { /* the task went away */
        free(q);
        return;
    }
    T = vml_await_thread(&q->await);
    s = vml_script_from(T);
    if (rc < 0) {
        vml_lua_fail(T, err);
    } else {
        built b = {resp, resp->body == NULL};
        vml_err e;
        /* build on the main thread under pcall: an allocation failure must not escape */
        lua_pushcfunction(s->L, push_result);
        lua_pushlightuserdata(s->L, &b);
        if (vml_script_pcall(s, 1, 1, &e) == 0) {
            lua_xmove(s->L, T, 1);
            rc = 1;
        } else {
            vml_lua_fail(T, &e);
        }
    }
    vml_await_resume(&q->await, rc == 1 ? 1 : 3);
    free(q);
}

static void on_cancel(vml_await *a)
{
    lreq *q = a->data;
    vml_http_cancel(q->op);
    free(q);
}

static const char *opt_string(lua_State *L, const char *key, size_t *len)
{
    const char *v = NULL;
    int t = lua_getfield(L, 1, key);
    if (t != LUA_TNIL) {
        if (t != LUA_TSTRING)
            vml_lapi_argerror(L, 1, "'%s' must be a string, not a %s", key, luaL_typename(L, -1));
        v = lua_tolstring(L, -1, len);
        if (!len && !vml_lua_tocstr(L, -1)) /* used as a C string: a NUL would cut it */
            vml_lapi_argerror(L, 1, "'%s' must not contain a NUL byte", key);
    }
    lua_pop(L, 1); /* the string stays alive: the argument table holds it */
    return v;
}

static lua_Number opt_number(lua_State *L, const char *key, lua_Number dflt, lua_Number lo,
                             lua_Number hi)
{
    lua_Number v = dflt;
    int t = lua_getfield(L, 1, key);
    if (t != LUA_TNIL) {
        if (t != LUA_TNUMBER)
            vml_lapi_argerror(L, 1, "'%s' must be a number, not a %s", key, luaL_typename(L, -1));
        v = lua_tonumber(L, -1);
        if (!(v >= lo && v <= hi))
            vml_lapi_argerror(L, 1, "'%s' must be between %g and %g", key, lo, hi);
    }
    lua_pop(L, 1);
    return v;
}

static int l_http_request(lua_State *L)
{
    vml_http_req req;
    const char *hdrs[MAX_HEADERS + 1];
    int nh = 0, hidx;
    lreq *q;
    vml_err err;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    memset(&req, 0, sizeof req);
    req.url = opt_string(L, "url", NULL);
    if (!req.url)
        return vml_lapi_argerror(L, 1, "'url' is required: the http:// or https:// address");
    req.method = opt_string(L, "method", NULL);
    req.body = opt_string(L, "body", &req.body_len);
    req.output_file = opt_string(L, "output_file", NULL);
    req.timeout = opt_number(L, "timeout", VML_HTTP_DEFAULT_TIMEOUT, 0.001, 86400);
    req.max_bytes = (size_t)opt_number(L, "max_bytes", VML_HTTP_DEFAULT_MAX_BYTES, 1, 1e12);
    req.max_redirects = (int)opt_number(L, "max_redirects", VML_HTTP_DEFAULT_MAX_REDIRECTS, 0, 20);
    /* headers: {Name = "value"} → "Name: value" strings anchored on the stack at hidx.. */
    lua_getfield(L, 1, "headers");
    hidx = lua_gettop(L) + 1;
    if (!lua_isnil(L, -1)) {
        if (!lua_istable(L, -1))
            return vml_lapi_argerror(L, 1, "'headers' must be a table of name = value");
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            const char *k, *v;
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                return vml_lapi_argerror(L, 1, "'headers' must map names to strings");
            if (nh >= MAX_HEADERS)
                return vml_lapi_argerror(L, 1, "'headers' holds more than %d headers", MAX_HEADERS);
            k = lua_tostring(L, -2);
            v = lua_tostring(L, -1);
            if (!k[0] || strpbrk(k, ":\r\n \t") || strpbrk(v, "\r\n") || !vml_lua_tocstr(L, -2) ||
                !vml_lua_tocstr(L, -1))
                return vml_lapi_argerror(L, 1,
                                         "header '%s': a name without ':', spaces or line "
                                         "breaks, a value without line breaks",
                                         k);
            luaL_checkstack(L, 4, "too many headers");
            lua_pushfstring(L, "%s: %s", k, v); /* [.., key, value, line] */
            lua_replace(L, -2);                 /* [.., key, line] */
            lua_insert(L, -2);                  /* [.., line, key]: lines pile up from hidx */
            nh++;
        }
        for (int i = 0; i < nh; i++)
            hdrs[i] = lua_tostring(L, hidx + i);
    }
    hdrs[nh] = NULL;
    req.headers = hdrs;

    q = calloc(1, sizeof *q);
    if (!q)
        return luaL_error(L, "out of memory");
    q->await.data = q;
    vml_err_clear(&err);
    if (vml_http_start(&req, on_done, q, &q->op, &err) < 0) {
        free(q);
        return vml_lua_fail(L, &err);
    }
    return vml_await_yield(L, &q->await, on_cancel);
}

static const luaL_Reg http_funcs[] = {
    {"request", l_http_request},
    {NULL, NULL},
};

static int open_http(lua_State *L)
{
    luaL_newlib(L, http_funcs);
    return 1;
}

const vml_lapi vml_lapi_http = {"http", open_http, VML_PROFILE_SCRIPT};
