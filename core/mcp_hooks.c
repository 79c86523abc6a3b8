/* SPDX-License-Identifier: MIT
 * mcp_hooks — the C functions vibeml.mcp.server calls, handed to server.init(opts, hooks) as a
 * table bound to one server (each server has its own Lua state). Not a vibeml.<m> module (so
 * not a core/lapi_*.c file, which CMake registers as one): only the server's own Lua half may
 * send progress, log lines, notifications and requests to its client.
 *
 *   progress(serial, done, total|nil, message|nil) -> sent?
 *   log(level, data, logger|nil) -> sent?
 *   notify(method, params|nil) -> sent?             (method: notifications/...)
 *   tools_changed()                                  (the tool cache is rebuilt on next use)
 *   supports(capability) -> bool
 *   cancelled(serial) -> bool                        (true also once the request has ended)
 *   elicit(serial, message, requested_schema) -> result | nil, message, code
 *   sample(serial, params) -> result | nil, message, code
 *
 * Argument errors raise (argerror below); runtime failures (the request has ended, the client
 * cannot or did not answer) return nil, message, code. elicit and sample suspend the calling
 * task until the client answers (vml__mcp_handle_response) or the task is cancelled.
 *
 * Ownership: an outgoing request record belongs to m->pending until answered or cancelled.
 * Uses: mcp_int, luajson, redact, loop, script, err, jansson, Lua.
 */
#include "mcp_int.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lapi.h"
#include "luajson.h"
#include "redact.h"

typedef struct outreq {
    vml_await await;
    vml_mcp *m;
    char key[48];
} outreq;

static vml_mcp *hook_server(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* nil, message, code: a runtime failure [-0, +3, m] */
static int fail(lua_State *L, int code, const char *msg)
{
    vml_err err;
    vml_err_set(&err, code, "%s", msg);
    return vml_lua_fail(L, &err);
}

/* The request a hook names, or NULL (it has ended). */
static vml_mcp_req *hook_req(lua_State *L, vml_mcp *m)
{
    return vml__mcp_req_by_serial(m, (long)luaL_checkinteger(L, 1));
}

static int h_progress(lua_State *L)
{
    vml_mcp *m = hook_server(L);
    vml_mcp_req *r = hook_req(L, m);
    double done = luaL_checknumber(L, 2);
    json_t *p;
    if (!r || r->cancelled || !r->progress_token || (r->has_progress && done <= r->last_progress)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    r->has_progress = 1;
    r->last_progress = done;
    p = json_object();
    json_object_set(p, "progressToken", r->progress_token);
    json_object_set_new(p, "progress", json_real(done));
    if (lua_isnumber(L, 3))
        json_object_set_new(p, "total", json_real(lua_tonumber(L, 3)));
    if (lua_isstring(L, 4) && vml__mcp_ver_at_least(m, "2025-03-26")) {
        size_t n;
        const char *msg = lua_tolstring(L, 4, &n);
        json_object_set_new(p, "message", vml__mcp_text(msg, n));
    }
    vml__mcp_notify(m, "notifications/progress", p);
    lua_pushboolean(L, 1);
    return 1;
}

static int h_log(lua_State *L)
{
    vml_mcp *m = hook_server(L);
    const char *level = vml_lua_checkcstr(L, 1);
    const char *logger = vml_lua_optcstr(L, 3, "vibeml");
    int li = vml__mcp_level(level);
    json_t *data = NULL, *p;
    vml_err err;
    if (li < 0)
        return vml_lapi_argerror(
            L, 1,
            "log level '%s' is not one of debug, info, notice, warning, error, "
            "critical, alert, emergency",
            level);
    if (vml_luajson_to_json(L, 2, &data, &err) < 0) { /* not JSON: its text is logged */
        size_t n;
        const char *s = luaL_tolstring(L, 2, &n);
        data = vml__mcp_text(s, n);
        lua_pop(L, 1);
    }
    if (li >= 1 && json_is_string(data)) {
        char *copy = strdup(json_string_value(data));
        if (copy) {
            vml_redact(copy, strlen(copy)); /* never a secret value on stderr (redact.h) */
            fprintf(stderr, "vibeml[%s] %s: %s\n", logger, vml__mcp_level_name(li), copy);
            free(copy);
        }
    }
    if (!m->initialized || li < m->log_level) {
        json_decref(data);
        lua_pushboolean(L, 0);
        return 1;
    }
    p = json_pack("{s:s, s:s, s:o}", "level", vml__mcp_level_name(li), "logger", logger, "data",
                  data);
    vml__mcp_notify(m, "notifications/message", p);
    lua_pushboolean(L, 1);
    return 1;
}

static int h_notify(lua_State *L)
{
    vml_mcp *m = hook_server(L);
    const char *method = vml_lua_checkcstr(L, 1);
    json_t *params = NULL;
    vml_err err;
    if (strncmp(method, "notifications/", 14) != 0)
        return vml_lapi_argerror(
            L, 1, "'%s' is not a notification (only notifications/... can be sent)", method);
    if (!lua_isnoneornil(L, 2) && vml_luajson_to_json(L, 2, &params, &err) < 0)
        return vml_lapi_argerror(L, 2, "params must be a JSON-like table: %s", vml_err_msg(&err));
    if (!m->initialized) {
        json_decref(params);
        lua_pushboolean(L, 0);
        return 1;
    }
    vml__mcp_notify(m, method, params);
    lua_pushboolean(L, 1);
    return 1;
}

static int h_tools_changed(lua_State *L)
{
    vml_mcp *m = hook_server(L);
    m->tools_dirty = 1;
    if (m->initialized && !m->shutting_down)
        vml__mcp_notify(m, "notifications/tools/list_changed", NULL);
    return 0;
}

/* cap is a top-level capability ("elicitation") or "extensions/<id>", an extension the client
 * declared under capabilities.extensions (SEP-1724; "io.modelcontextprotocol/ui" is MCP Apps). */
static int client_supports(vml_mcp *m, const char *cap)
{
    json_t *c = m->client_caps ? json_object_get(m->client_caps, cap) : NULL;
    if (m->client_caps && strncmp(cap, "extensions/", 11) == 0)
        c = json_object_get(json_object_get(m->client_caps, "extensions"), cap + 11);
    if (!c || json_is_null(c))
        return 0;
    if (strcmp(cap, "elicitation") == 0 && !vml__mcp_ver_at_least(m, "2025-06-18"))
        return 0;
    if (strcmp(cap, "elicitation") == 0 && vml__mcp_ver_at_least(m, "2025-11-25") &&
        json_is_object(c) && json_object_size(c) > 0 && !json_object_get(c, "form"))
        return 0; /* url-only clients cannot answer a form */
    return 1;
}

static int h_supports(lua_State *L)
{
    lua_pushboolean(L, client_supports(hook_server(L), vml_lua_checkcstr(L, 1)));
    return 1;
}

static int h_cancelled(lua_State *L)
{
    vml_mcp_req *r = hook_req(L, hook_server(L));
    lua_pushboolean(L, !r || r->cancelled);
    return 1;
}

/* {===================================================================== requests to the client */

static void outreq_cancel(vml_await *a)
{
    outreq *o = a->data;
    vml_mcp *m = o->m;
    json_object_del(m->pending, o->key);
    if (!m->shutting_down)
        vml__mcp_notify(m, "notifications/cancelled",
                        json_pack("{s:s, s:s}", "requestId", o->key, "reason",
                                  "the tool call that asked was cancelled"));
    free(o);
}

/* Sends a request to the client and suspends the calling task until its answer. Takes
 * ownership of params. */
static int await_client(lua_State *L, vml_mcp *m, const char *method, json_t *params)
{
    outreq *o = calloc(1, sizeof *o);
    json_t *msg;
    if (!o) {
        json_decref(params);
        return luaL_error(L, "out of memory");
    }
    o->m = m;
    o->await.data = o;
    snprintf(o->key, sizeof o->key, "vml-%ld", ++m->next_out);
    msg = json_pack("{s:s, s:s, s:s, s:o}", "jsonrpc", "2.0", "id", o->key, "method", method,
                    "params", params);
    json_object_set_new(m->pending, o->key, vml__mcp_ptr_json(o));
    vml__mcp_send(m, msg);
    return vml_await_yield(L, &o->await, outreq_cancel);
}

/* What elicit and sample check before asking: the request is running, the client can answer,
 * and the caller is the handler's own flow (a task that can wait). 0 to go on, or the number
 * of failure values pushed. */
static int can_ask(lua_State *L, vml_mcp *m, const char *what, const char *cap)
{
    char msg[128];
    if (!hook_req(L, m)) {
        snprintf(msg, sizeof msg, "ctx:%s: the request this context belongs to has ended", what);
        return fail(L, VML_ESTATE, msg);
    }
    if (!client_supports(m, cap)) {
        snprintf(msg, sizeof msg, "client does not support %s", cap);
        return fail(L, VML_EUNSUPPORTED, msg);
    }
    if (!lua_isyieldable(L))
        return luaL_error(L, "ctx:%s must be called from the tool handler's own flow", what);
    return 0;
}

static int h_elicit(lua_State *L)
{
    vml_mcp *m = hook_server(L);
    const char *message = vml_lua_checkcstr(L, 2);
    json_t *schema = NULL, *params;
    vml_err err;
    int n;
    if (vml_luajson_to_json(L, 3, &schema, &err) < 0 || !json_is_object(schema)) {
        json_decref(schema);
        return vml_lapi_argerror(L, 3, "requested_schema must be a table (an object schema)");
    }
    if ((n = can_ask(L, m, "elicit", "elicitation")) != 0) {
        json_decref(schema);
        return n;
    }
    if (!json_object_get(schema, "type"))
        json_object_set_new(schema, "type", json_string("object"));
    if (!json_object_get(schema, "properties"))
        json_object_set_new(schema, "properties", json_object());
    params = json_pack("{s:s, s:o}", "message", message, "requestedSchema", schema);
    if (vml__mcp_ver_at_least(m, "2025-11-25"))
        json_object_set_new(params, "mode", json_string("form"));
    return await_client(L, m, "elicitation/create", params);
}

static int h_sample(lua_State *L)
{
    vml_mcp *m = hook_server(L);
    json_t *params = NULL;
    vml_err err;
    int n;
    if (vml_luajson_to_json(L, 2, &params, &err) < 0 || !json_is_object(params)) {
        json_decref(params);
        return vml_lapi_argerror(L, 2, "params must be a table ({messages=, maxTokens=})");
    }
    if ((n = can_ask(L, m, "sample", "sampling")) != 0) {
        json_decref(params);
        return n;
    }
    return await_client(L, m, "sampling/createMessage", params);
}

void vml__mcp_handle_response(vml_mcp *m, json_t *msg)
{
    json_t *id = json_object_get(msg, "id");
    json_t *result = json_object_get(msg, "result"), *error = json_object_get(msg, "error");
    json_t *emsg = json_object_get(error, "message");
    outreq *o;
    lua_State *co;
    vml_err err;
    if (!vml__mcp_c_string(id) ||
        !(o = vml__mcp_json_ptr(json_object_get(m->pending, json_string_value(id))))) {
        vml__mcp_log("debug", "a response to no request of ours was ignored");
        return;
    }
    json_object_del(m->pending, o->key);
    if (!o->await.task) { /* the task is gone already */
        free(o);
        return;
    }
    co = vml_await_thread(&o->await);
    if (result && vml_luajson_push(co, result, &err) == 0) {
        vml_await_resume(&o->await, 1);
        free(o);
        return;
    }
    if (error && json_is_string(emsg))
        vml_err_set(&err, VML_EPROTO, "the client answered with an error: %s",
                    json_string_value(emsg));
    else
        vml_err_set(&err, VML_EPROTO, "the client sent an invalid answer");
    vml_await_resume(&o->await, vml_lua_fail(co, &err));
    free(o);
}

/* }===================================================================== */

void vml__mcp_push_hooks(lua_State *L, vml_mcp *m)
{
    static const luaL_Reg hooks[] = {{"progress", h_progress},
                                     {"log", h_log},
                                     {"notify", h_notify},
                                     {"tools_changed", h_tools_changed},
                                     {"supports", h_supports},
                                     {"cancelled", h_cancelled},
                                     {"elicit", h_elicit},
                                     {"sample", h_sample},
                                     {NULL, NULL}};
    lua_createtable(L, 0, 8);
    lua_pushlightuserdata(L, m);
    luaL_setfuncs(L, hooks, 1);
}
