/* SPDX-License-Identifier: MIT
 * mcp — MCP server: JSON-RPC discipline, lifecycle, dispatch (see mcp.h).
 *
 * Ownership: the server owns its Lua state, the request records (freed when their task ends),
 * the outgoing-request records (freed when answered or cancelled) and the tool cache. Every
 * json_t built here is either sent (send_* steal it) or decref'd at the `out:` label. */
#include "mcp.h"
#include "vault.h"

#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "embed.h"
#include "jtext.h"
#include "loop.h"
#include "schema.h"
#include "script.h"

#define E_PARSE -32700
#define E_INVALID_REQUEST -32600
#define E_METHOD -32601
#define E_PARAMS -32602
#define E_INTERNAL -32603
#define E_RESOURCE_NOT_FOUND -32002


/* A JSON string that C may use as a C string: no NUL inside (C would cut it there, so
 * "tools/list\u0000x" would run tools/list). */
static int c_string(const json_t *v)
{
    return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

static const char *const k_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
                                         NULL};
static const char *const k_levels[] = {"debug",    "info",  "notice", "warning", "error",
                                       "critical", "alert", "emergency", NULL};

static const char k_instructions[] =
    "VibeML plans, launches, watches, prices and stops LLM fine-tuning jobs on cloud GPUs "
    "(through SkyPilot) or on this machine, within the user's budget.\n"
    "How to use it well:\n"
    "1. Call check_setup first: it says which backends, secrets and plugins are ready and how "
    "to fix what is missing.\n"
    "2. Before launching anything, plan it (plan_training) and show the person the plan: GPU, "
    "expected duration and the cost range. Launch only after they agree.\n"
    "3. Launching returns a job id at once; poll get_job_status (and get_job_logs) instead of "
    "waiting, and report progress and cost so far.\n"
    "4. Never ask the user to paste a secret (API key, token) into the chat. Tell them to run "
    "`vibeml secrets set NAME` in a terminal; tools only ever report secret names.\n"
    "5. Spending beyond the budget needs the person's own confirmation; do not try to work "
    "around a budget refusal.";

typedef struct batch batch;

typedef struct req {
    struct req *prev, *next;
    vml_mcp *m;
    long serial;          /* the handle Lua code uses (ctx) */
    json_t *id;           /* owned */
    char *key;            /* owned: compact JSON of id, key of m->inflight */
    json_t *progress_token; /* owned or NULL */
    double last_progress;
    int has_progress;
    vml_task *task;       /* while running */
    int cancelled;
    int is_tool;
    char *tool;           /* owned: tool name (tools/call) */
    char *method;         /* owned: method (Lua-dispatched) */
    batch *batch;         /* borrowed; the batch collects the reply */
} req;

struct batch {
    vml_jtext out;   /* "[reply,reply..." gathered so far, owned */
    size_t n;        /* replies in out */
    int pending;     /* requests of the batch still running */
};

typedef struct outreq {
    vml_await await;
    vml_mcp *m;
    char key[48];
} outreq;

typedef struct service {
    struct service *next;
    vml_task *task;
    char name[96];
} service;

struct vml_mcp {
    vml_mcp_opts o;
    vml_script *s;
    int lua_server;         /* registry ref of the vibeml.mcp.server table */
    /* line framing */
    char *buf;
    size_t len, cap;
    int discarding;
    /* session */
    int initialized;        /* initialize answered */
    int ready;              /* notifications/initialized received */
    int version;            /* index into k_versions, -1 before initialize */
    json_t *client_caps;    /* owned */
    json_t *client_info;    /* owned */
    int log_level;          /* index into k_levels */
    /* requests */
    req *reqs;              /* in-flight, doubly linked */
    size_t n_reqs;
    long next_serial;
    json_t *inflight;       /* key -> integer (req pointer) */
    json_t *pending;        /* outgoing request id -> integer (outreq pointer) */
    long next_out;
    service *services;
    /* tools */
    int tools_dirty;
    json_t *tools;          /* array of rendered tool definitions (for this version) */
    json_t *tool_index;     /* name -> {"def":..., "input":schema, "output":schema|null,
                               "slot": index into compiled} */
    struct compiled_tool {
        vml_schema *in, *out; /* owned; out NULL without an outputSchema */
    } *compiled;
    size_t n_compiled;
    char *tools_text;       /* the whole first-page tools/list result, serialized once */
    size_t tools_len;
    int shutting_down;
    int lua_started;        /* 0 not yet, 1 running, -1 failed (lua_err says why) */
    vml_err lua_err;
    uv_timer_t *warm;       /* starts the Lua side right after the initialize reply */
};

static int ensure_lua(vml_mcp *m);
int vml_mcp_start(vml_mcp *m, vml_err *err)
{
    if (ensure_lua(m) < 0)
        return vml_err_set(err, m->lua_err.code ? m->lua_err.code : VML_ELUA, "%s",
                           vml_err_msg(&m->lua_err));
    return 0;
}

static void warm_fired(uv_timer_t *t);

/* {===================================================================== small helpers */

static int ver_at_least(const vml_mcp *m, const char *v)
{
    /* the list is newest first; dates compare as strings */
    return m->version >= 0 && strcmp(k_versions[m->version], v) >= 0;
}

const char *vml_mcp_version(const vml_mcp *m)
{
    return m->version >= 0 ? k_versions[m->version] : NULL;
}

size_t vml_mcp_inflight(const vml_mcp *m)
{
    return m->n_reqs;
}

int vml_mcp_busy(const vml_mcp *m)
{
    return m->n_reqs >= VML_MCP_MAX_INFLIGHT;
}

static void log_stderr(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void log_stderr(const char *level, const char *fmt, ...)
{
    va_list ap;
    char line[4096];
    int n;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    vml_vault_redact(line, strlen(line)); /* never a secret value on stderr (vault.h) */
    fprintf(stderr, "vibeml serve %s: %s\n", level, line);
}

/* Sends one finished message (t is emptied): to the client as one line, or into the batch's
 * reply array. Every byte for the client passes the secret redactor here. */
static void send_text(vml_mcp *m, batch *b, vml_jtext *t)
{
    char *line;
    size_t n;
    if (b && !t->oom) {
        vml_jtext_add(&b->out, b->n++ ? "," : "[", 1);
        vml_jtext_add(&b->out, t->p, t->len);
        vml_jtext_free(t);
        return;
    }
    vml_jtext_lit(t, "\n");
    line = vml_jtext_take(t, &n);
    if (!line) {
        log_stderr("error", "out of memory writing a message; it was dropped");
        return;
    }
    vml_vault_redact(line, n - 1); /* no secret value leaves through MCP (vault.h) */
    if (m->o.write(m->o.write_ud, line, n) < 0)
        log_stderr("warning", "the client's output is closed; a message was dropped");
}

/* Writes msg (stolen) as one line. */
static void write_msg(vml_mcp *m, json_t *msg)
{
    vml_jtext t;
    if (!msg)
        return;
    vml_jtext_init(&t);
    vml_jtext_value(&t, msg);
    json_decref(msg);
    send_text(m, NULL, &t);
}

/* Starts a reply's text: {"jsonrpc":"2.0","id":ID, (id borrowed, NULL = null) */
static void reply_begin(vml_jtext *t, const json_t *id)
{
    vml_jtext_init(t);
    vml_jtext_lit(t, "{\"jsonrpc\":\"2.0\",\"id\":");
    vml_jtext_value(t, id);
}

static json_t *error_obj(int code, const char *msg, json_t *data)
{
    json_t *e = json_pack("{s:i, s:s}", "code", code, "message", msg ? msg : "");
    if (e && data)
        json_object_set_new(e, "data", data);
    else if (data)
        json_decref(data);
    return e;
}

/* Sends (or adds to the batch) a reply. result or error stolen; id borrowed (NULL = null). */
static void reply(vml_mcp *m, batch *b, json_t *id, json_t *result, json_t *error)
{
    vml_jtext t;
    reply_begin(&t, id);
    if (error) {
        vml_jtext_lit(&t, ",\"error\":");
        vml_jtext_value(&t, error);
    } else if (result) {
        vml_jtext_lit(&t, ",\"result\":");
        vml_jtext_value(&t, result);
    } else {
        vml_jtext_lit(&t, ",\"result\":{}");
    }
    vml_jtext_lit(&t, "}");
    json_decref(result);
    json_decref(error);
    send_text(m, b, &t);
}

static void reply_error(vml_mcp *m, batch *b, json_t *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void reply_error(vml_mcp *m, batch *b, json_t *id, int code, const char *fmt, ...)
{
    char buf[VML_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    reply(m, b, id, NULL, error_obj(code, buf, NULL));
}

static void notify(vml_mcp *m, const char *method, json_t *params)
{
    json_t *msg = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
    if (params)
        json_object_set_new(msg, "params", params);
    write_msg(m, msg);
}

/* The key of a request id in m->inflight: "i<integer>" or "s<string>" (so 1 and "1" differ).
 * malloc'd. */
static char *id_key(const json_t *id)
{
    vml_jtext t;
    vml_jtext_init(&t);
    if (json_is_integer(id)) {
        vml_jtext_lit(&t, "i");
        vml_jtext_value(&t, id);
    } else if (json_is_string(id) && !memchr(json_string_value(id), '\0', json_string_length(id))) {
        vml_jtext_lit(&t, "s");
        vml_jtext_add(&t, json_string_value(id), json_string_length(id));
    } else { /* jansson keys are C strings: a string with NULs is kept apart in its JSON form */
        vml_jtext_value(&t, id);
    }
    return vml_jtext_take(&t, NULL);
}

static json_t *ptr_json(void *p)
{
    return json_integer((json_int_t)(uintptr_t)p);
}

static void *json_ptr(const json_t *j)
{
    return j ? (void *)(uintptr_t)json_integer_value(j) : NULL;
}

/* }===================================================================== */

/* {===================================================================== requests in flight */

static req *req_new(vml_mcp *m, json_t *id, batch *b)
{
    req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->m = m;
    r->serial = ++m->next_serial;
    r->id = json_incref(id);
    r->key = id_key(id);
    r->batch = b;
    if (!r->key) {
        json_decref(r->id);
        free(r);
        return NULL;
    }
    json_object_set_new(m->inflight, r->key, ptr_json(r));
    r->next = m->reqs;
    if (m->reqs)
        m->reqs->prev = r;
    m->reqs = r;
    m->n_reqs++;
    if (b)
        b->pending++;
    return r;
}

static void batch_done(vml_mcp *m, batch *b)
{
    if (--b->pending > 0)
        return;
    if (b->n > 0) {
        vml_jtext_lit(&b->out, "]");
        send_text(m, NULL, &b->out);
    }
    vml_jtext_free(&b->out);
    free(b);
}

static void req_free(req *r)
{
    vml_mcp *m = r->m;
    batch *b = r->batch;
    if (r->prev)
        r->prev->next = r->next;
    else
        m->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    m->n_reqs--;
    json_object_del(m->inflight, r->key);
    free(r->key);
    json_decref(r->id);
    json_decref(r->progress_token);
    free(r->tool);
    free(r->method);
    free(r);
    if (b)
        batch_done(m, b);
    if (m->o.wake && !m->shutting_down)
        m->o.wake(m->o.write_ud);
}

static req *req_by_serial(vml_mcp *m, long serial)
{
    req *r;
    for (r = m->reqs; r; r = r->next)
        if (r->serial == serial)
            return r;
    return NULL;
}

/* }===================================================================== */

/* {===================================================================== hooks for Lua */

static vml_mcp *hook_server(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* hooks.progress(serial, done, total|nil, message|nil) -> sent? */
static int h_progress(lua_State *L)
{
    vml_mcp *m = hook_server(L);
    req *r = req_by_serial(m, (long)luaL_checkinteger(L, 1));
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
    if (lua_isstring(L, 4) && ver_at_least(m, "2025-03-26")) {
        size_t n;
        const char *msg = lua_tolstring(L, 4, &n);
        json_object_set_new(p, "message", json_stringn(msg, n));
    }
    notify(m, "notifications/progress", p);
    lua_pushboolean(L, 1);
    return 1;
}

static int level_index(const char *name)
{
    int i;
    for (i = 0; k_levels[i]; i++)
        if (strcmp(k_levels[i], name) == 0)
            return i;
    if (strcmp(name, "warn") == 0)
        return 3;
    return -1;
}

/* hooks.log(level, data, logger|nil) -> sent? */
static int h_log(lua_State *L)
{
    vml_mcp *m = hook_server(L);
    const char *level = vml_lua_checkcstr(L, 1);
    const char *logger = vml_lua_optcstr(L, 3, "vibeml");
    int li = level_index(level);
    json_t *data = NULL, *p;
    vml_err err;
    if (li < 0)
        return luaL_error(L, "log level '%s' is not one of debug, info, notice, warning, error, "
                             "critical, alert, emergency", level);
    if (vml_conv_to_json(L, 2, &data, &err) < 0) {
        luaL_tolstring(L, 2, NULL);
        data = json_string(lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
        lua_pop(L, 1);
    }
    if (li >= 1 && json_is_string(data)) {
        char *copy = strdup(json_string_value(data));
        if (copy) {
            vml_vault_redact(copy, strlen(copy)); /* never a secret value on stderr (vault.h) */
            fprintf(stderr, "vibeml[%s] %s: %s\n", logger, k_levels[li], copy);
            free(copy);
        }
    }
    if (!m->initialized || li < m->log_level) {
        json_decref(data);
        lua_pushboolean(L, 0);
        return 1;
    }
    p = json_pack("{s:s, s:s, s:o}", "level", k_levels[li], "logger", logger, "data", data);
    notify(m, "notifications/message", p);
    lua_pushboolean(L, 1);
    return 1;
}

/* hooks.notify(method, params|nil): a server notification from Lua (list changes, updates). */
static int h_notify(lua_State *L)
{
    vml_mcp *m = hook_server(L);
    const char *method = vml_lua_checkcstr(L, 1);
    json_t *params = NULL;
    vml_err err;
    luaL_argcheck(L, strncmp(method, "notifications/", 14) == 0, 1,
                  "only notifications/* can be sent");
    if (!lua_isnoneornil(L, 2) && vml_conv_to_json(L, 2, &params, &err) < 0)
        return vml_lua_raise(L, &err);
    if (!m->initialized) {
        json_decref(params);
        lua_pushboolean(L, 0);
        return 1;
    }
    notify(m, method, params);
    lua_pushboolean(L, 1);
    return 1;
}

/* hooks.tools_changed(): the registry changed; the cache is rebuilt on next use. */
static int h_tools_changed(lua_State *L)
{
    vml_mcp *m = hook_server(L);
    m->tools_dirty = 1;
    if (m->initialized && !m->shutting_down)
        notify(m, "notifications/tools/list_changed", NULL);
    return 0;
}

static int client_supports(vml_mcp *m, const char *cap)
{
    json_t *c = m->client_caps ? json_object_get(m->client_caps, cap) : NULL;
    if (!c || json_is_null(c))
        return 0;
    if (strcmp(cap, "elicitation") == 0 && !ver_at_least(m, "2025-06-18"))
        return 0;
    if (strcmp(cap, "elicitation") == 0 && ver_at_least(m, "2025-11-25") && json_is_object(c) &&
        json_object_size(c) > 0 && !json_object_get(c, "form"))
        return 0; /* url-only clients cannot answer a form */
    return 1;
}

/* hooks.supports(capability) -> bool */
static int h_supports(lua_State *L)
{
    lua_pushboolean(L, client_supports(hook_server(L), vml_lua_checkcstr(L, 1)));
    return 1;
}

/* hooks.cancelled(serial) -> bool (true also once the request has ended) */
static int h_cancelled(lua_State *L)
{
    req *r = req_by_serial(hook_server(L), (long)luaL_checkinteger(L, 1));
    lua_pushboolean(L, !r || r->cancelled);
    return 1;
}

static void outreq_cancel(vml_await *a)
{
    outreq *o = a->data;
    vml_mcp *m = o->m;
    json_object_del(m->pending, o->key);
    if (!m->shutting_down)
        notify(m, "notifications/cancelled",
               json_pack("{s:s, s:s}", "requestId", o->key, "reason",
                         "the tool call that asked was cancelled"));
    free(o);
}

/* Sends a request to the client and suspends the calling task until its answer (see
 * handle_response). Takes ownership of params. */
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
    json_object_set_new(m->pending, o->key, ptr_json(o));
    write_msg(m, msg);
    return vml_await_yield(L, &o->await, outreq_cancel);
}

/* hooks.elicit(serial, message, requested_schema) -> result table | nil, message */
static int h_elicit(lua_State *L)
{
    vml_mcp *m = hook_server(L);
    req *r = req_by_serial(m, (long)luaL_checkinteger(L, 1));
    const char *message = vml_lua_checkcstr(L, 2);
    json_t *schema = NULL, *params;
    vml_err err;
    if (!r)
        return luaL_error(L, "ctx:elicit: the request this context belongs to has ended");
    if (!client_supports(m, "elicitation")) {
        luaL_pushfail(L);
        lua_pushliteral(L, "client does not support elicitation");
        return 2;
    }
    if (!lua_isyieldable(L))
        return luaL_error(L, "ctx:elicit must be called from the tool handler's own flow");
    if (vml_conv_to_json(L, 3, &schema, &err) < 0)
        return vml_lua_raise(L, &err);
    if (!json_is_object(schema)) {
        json_decref(schema);
        return luaL_error(L, "ctx:elicit: requested_schema must be a table (an object schema)");
    }
    if (!json_object_get(schema, "type"))
        json_object_set_new(schema, "type", json_string("object"));
    if (!json_object_get(schema, "properties"))
        json_object_set_new(schema, "properties", json_object());
    params = json_pack("{s:s, s:o}", "message", message, "requestedSchema", schema);
    if (ver_at_least(m, "2025-11-25"))
        json_object_set_new(params, "mode", json_string("form"));
    return await_client(L, m, "elicitation/create", params);
}

/* hooks.sample(serial, params) -> result table | nil, message: sampling/createMessage. */
static int h_sample(lua_State *L)
{
    vml_mcp *m = hook_server(L);
    req *r = req_by_serial(m, (long)luaL_checkinteger(L, 1));
    json_t *params = NULL;
    vml_err err;
    if (!r)
        return luaL_error(L, "ctx:sample: the request this context belongs to has ended");
    if (!client_supports(m, "sampling")) {
        luaL_pushfail(L);
        lua_pushliteral(L, "client does not support sampling");
        return 2;
    }
    if (!lua_isyieldable(L))
        return luaL_error(L, "ctx:sample must be called from the tool handler's own flow");
    if (vml_conv_to_json(L, 2, &params, &err) < 0)
        return vml_lua_raise(L, &err);
    if (!json_is_object(params)) {
        json_decref(params);
        return luaL_error(L, "ctx:sample: params must be a table ({messages=, maxTokens=})");
    }
    return await_client(L, m, "sampling/createMessage", params);
}

/* A response to one of our requests arrived. */
static void handle_response(vml_mcp *m, json_t *msg)
{
    json_t *id = json_object_get(msg, "id");
    json_t *result = json_object_get(msg, "result"), *error = json_object_get(msg, "error");
    outreq *o;
    lua_State *co;
    vml_err err;
    if (!c_string(id) || !(o = json_ptr(json_object_get(m->pending, json_string_value(id))))) {
        log_stderr("debug", "a response to no request of ours was ignored");
        return;
    }
    json_object_del(m->pending, o->key);
    if (!o->await.task) { /* the task is gone already */
        free(o);
        return;
    }
    co = vml_await_thread(&o->await);
    if (result && vml_conv_push(co, result, &err) == 0) {
        vml_await_resume(&o->await, 1);
        free(o);
        return;
    }
    luaL_pushfail(co);
    if (error && json_is_string(json_object_get(error, "message")))
        lua_pushfstring(co, "the client answered with an error: %s",
                        json_string_value(json_object_get(error, "message")));
    else
        lua_pushliteral(co, "the client sent an invalid answer");
    vml_await_resume(&o->await, 2);
    free(o);
}

/* }===================================================================== */

/* {===================================================================== Lua side */

/* Pushes vibeml.mcp.server's field name (a function). */
static void push_server_fn(vml_mcp *m, const char *name)
{
    lua_State *L = m->s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->lua_server);
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
}

static void push_module_list(lua_State *L, const char *prefix)
{
    const vml_embed_file *f;
    size_t plen = strlen(prefix);
    int n = 0;
    lua_newtable(L);
    for (f = vml_embed_files; f->path; f++) {
        const char *rest = f->path + plen;
        size_t rl;
        char mod[256];
        if (strncmp(f->path, prefix, plen) != 0 || strchr(rest, '/'))
            continue;
        rl = strlen(rest);
        if (rl < 5 || strcmp(rest + rl - 4, ".lua") != 0 || rest[0] == '_')
            continue;
        snprintf(mod, sizeof mod, "%.*s%.*s", (int)(plen - 4), prefix + 4, (int)(rl - 4), rest);
        {
            char *p;
            for (p = mod; *p; p++)
                if (*p == '/')
                    *p = '.';
        }
        lua_pushstring(L, mod);
        lua_rawseti(L, -2, ++n);
    }
}

/* Rebuilds the tool cache from the Lua registry. */
static void compiled_free(vml_mcp *m)
{
    size_t i;
    for (i = 0; i < m->n_compiled; i++) {
        vml_schema_free(m->compiled[i].in);
        vml_schema_free(m->compiled[i].out);
    }
    free(m->compiled);
    m->compiled = NULL;
    m->n_compiled = 0;
}

/* The compiled schemas of a tool_index entry. */
static const struct compiled_tool *compiled_of(vml_mcp *m, const json_t *entry)
{
    json_int_t slot = json_integer_value(json_object_get(entry, "slot"));
    return slot >= 0 && (size_t)slot < m->n_compiled ? &m->compiled[slot] : NULL;
}

static int tools_refresh(vml_mcp *m, vml_err *err)
{
    lua_State *L = m->s->L;
    json_t *list = NULL, *t;
    size_t i;
    int rc;
    push_server_fn(m, "tool_list");
    if ((rc = vml_script_pcall(m->s, 0, 1, err)) < 0)
        return rc;
    rc = vml_conv_to_json(L, -1, &list, err);
    lua_pop(L, 1);
    if (rc < 0)
        return rc;
    json_decref(m->tools);
    json_decref(m->tool_index);
    free(m->tools_text);
    m->tools_text = NULL;
    compiled_free(m);
    m->tools = json_array();
    m->tool_index = json_object();
    m->compiled = calloc(json_array_size(list) + 1, sizeof *m->compiled);
    if (!m->compiled) {
        json_decref(list);
        return vml_err_set(err, VML_ENOMEM, "out of memory loading the tools");
    }
    json_array_foreach(list, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *in = json_object_get(t, "inputSchema"), *out = json_object_get(t, "outputSchema");
        json_t *def, *ann = json_object_get(t, "annotations");
        struct compiled_tool *slot;
        vml_err e;
        if (!name)
            continue;
        if (vml_schema_check(in, &e) < 0 || (out && vml_schema_check(out, &e) < 0)) {
            log_stderr("error", "tool '%s' left out: %s", name, vml_err_msg(&e));
            continue;
        }
        slot = &m->compiled[m->n_compiled];
        if (vml_schema_compile(in, &slot->in, &e) < 0 ||
            (json_is_object(out) && vml_schema_compile(out, &slot->out, &e) < 0)) {
            vml_schema_free(slot->in);
            vml_schema_free(slot->out);
            slot->in = slot->out = NULL;
            log_stderr("error", "tool '%s' left out: %s", name, vml_err_msg(&e));
            continue;
        }
        def = json_pack("{s:s}", "name", name);
        if (ver_at_least(m, "2025-06-18") && json_object_get(t, "title"))
            json_object_set(def, "title", json_object_get(t, "title"));
        if (json_object_get(t, "description"))
            json_object_set(def, "description", json_object_get(t, "description"));
        else
            json_object_set_new(def, "description", json_string(""));
        json_object_set(def, "inputSchema", in);
        if (ver_at_least(m, "2025-06-18") && out)
            json_object_set(def, "outputSchema", out);
        if (ver_at_least(m, "2025-03-26") && ann)
            json_object_set(def, "annotations", ann);
        json_array_append(m->tools, def);
        json_object_set_new(m->tool_index, name,
                            json_pack("{s:o, s:O, s:O, s:I}", "def", def, "input", in, "output",
                                      out ? out : json_null(), "slot",
                                      (json_int_t)m->n_compiled));
        m->n_compiled++;
    }
    json_decref(list);
    m->tools_dirty = 0;
    return 0;
}

/* }===================================================================== */

/* {===================================================================== method handlers */

/* -32602 with a message, for a request that is not in flight yet. */
#define BAD_PARAMS(...) reply_error(m, b, id, E_PARAMS, __VA_ARGS__)

static void do_initialize(vml_mcp *m, batch *b, json_t *id, json_t *params)
{
    json_t *pv = json_object_get(params, "protocolVersion");
    json_t *caps = json_object_get(params, "capabilities");
    json_t *info = json_object_get(params, "clientInfo");
    json_t *result, *scaps, *sinfo;
    int i, chosen = 0;
    if (m->initialized) {
        reply_error(m, b, id, E_INVALID_REQUEST,
                    "already initialized (protocol %s); start a new session to initialize again",
                    k_versions[m->version]);
        return;
    }
    if (!json_is_string(pv)) {
        BAD_PARAMS("params.protocolVersion: required, a string such as \"2025-11-25\"");
        return;
    }
    if (!json_is_object(caps)) {
        BAD_PARAMS("params.capabilities: required, an object (may be empty)");
        return;
    }
    if (!json_is_object(info) || !json_is_string(json_object_get(info, "name")) ||
        !json_is_string(json_object_get(info, "version"))) {
        BAD_PARAMS("params.clientInfo: required, an object with string fields name and version");
        return;
    }
    for (i = 0; c_string(pv) && k_versions[i]; i++)
        if (strcmp(k_versions[i], json_string_value(pv)) == 0) {
            chosen = i;
            break;
        }
    m->version = chosen; /* an unknown version gets our latest (the client may then disconnect) */
    m->client_caps = json_incref(caps);
    m->client_info = json_incref(info);
    scaps = json_pack("{s:{}, s:{s:b}, s:{s:b, s:b}, s:{s:b}}", "logging", "prompts",
                      "listChanged", 1, "resources", "subscribe", 1, "listChanged", 1, "tools",
                      "listChanged", 1);
    if (ver_at_least(m, "2025-03-26"))
        json_object_set_new(scaps, "completions", json_object());
    sinfo = json_pack("{s:s, s:s}", "name", "vibeml", "version", VML_VERSION);
    if (ver_at_least(m, "2025-06-18"))
        json_object_set_new(sinfo, "title", json_string("VibeML"));
    if (ver_at_least(m, "2025-11-25"))
        json_object_set_new(sinfo, "description",
                            json_string("Fine-tune LLMs on cloud GPUs within budget"));
    result = json_pack("{s:s, s:o, s:o, s:s}", "protocolVersion", k_versions[chosen],
                       "capabilities", scaps, "serverInfo", sinfo, "instructions",
                       k_instructions);
    m->initialized = 1;
    reply(m, b, id, result, NULL);
    /* the reply is out: load the Lua side on the next loop turn */
    if (m->lua_started == 0 && !m->warm && (m->warm = malloc(sizeof *m->warm))) {
        uv_timer_init(vml_loop(), m->warm);
        m->warm->data = m;
        uv_timer_start(m->warm, warm_fired, 0, 0);
    }
}

static void do_set_level(vml_mcp *m, batch *b, json_t *id, json_t *params)
{
    json_t *lv = json_object_get(params, "level");
    int li = c_string(lv) ? level_index(json_string_value(lv)) : -1;
    if (li < 0 || strcmp(json_string_value(lv), "warn") == 0) {
        BAD_PARAMS("params.level: must be one of debug, info, notice, warning, error, critical, "
                   "alert, emergency");
        return;
    }
    m->log_level = li;
    reply(m, b, id, json_object(), NULL);
}

static int parse_cursor(vml_mcp *m, json_t *params, size_t total, size_t *off)
{
    json_t *c = json_object_get(params, "cursor");
    const char *s;
    char *end;
    unsigned long long v;
    (void)m;
    *off = 0;
    if (!c || json_is_null(c))
        return 0;
    if (!json_is_string(c))
        return -1;
    s = json_string_value(c);
    if (strncmp(s, "o:", 2) != 0 || !s[2])
        return -1;
    v = strtoull(s + 2, &end, 10);
    if (*end || v > total)
        return -1;
    *off = (size_t)v;
    return 0;
}

static void do_tools_list(vml_mcp *m, batch *b, json_t *id, json_t *params)
{
    size_t off, i, n, page = m->o.page_size ? m->o.page_size : 100;
    json_t *res, *arr;
    vml_err err;
    if (m->tools_dirty && tools_refresh(m, &err) < 0) {
        reply_error(m, b, id, E_INTERNAL, "could not list the tools: %s", vml_err_msg(&err));
        return;
    }
    n = json_array_size(m->tools);
    if (parse_cursor(m, params, n, &off) < 0) {
        BAD_PARAMS("params.cursor: not a cursor this server gave out; omit it to start from the "
                   "first page");
        return;
    }
    if (off == 0 && n <= page) {
        /* the common case, served from text serialized once per tool-set change */
        vml_jtext t;
        if (!m->tools_text) {
            vml_jtext_init(&t);
            vml_jtext_lit(&t, "{\"tools\":");
            vml_jtext_value(&t, m->tools);
            vml_jtext_lit(&t, "}");
            m->tools_text = vml_jtext_take(&t, &m->tools_len);
            if (!m->tools_text) {
                reply_error(m, b, id, E_INTERNAL, "out of memory");
                return;
            }
        }
        reply_begin(&t, id);
        vml_jtext_lit(&t, ",\"result\":");
        vml_jtext_add(&t, m->tools_text, m->tools_len);
        vml_jtext_lit(&t, "}");
        send_text(m, b, &t);
        return;
    }
    arr = json_array();
    for (i = off; i < n && i < off + page; i++)
        json_array_append(arr, json_array_get(m->tools, i));
    res = json_pack("{s:o}", "tools", arr);
    if (off + page < n) {
        char cur[32];
        snprintf(cur, sizeof cur, "o:%zu", off + page);
        json_object_set_new(res, "nextCursor", json_string(cur));
    }
    reply(m, b, id, res, NULL);
}

/* Takes the text of a failure for a result: the message without its traceback. */
static void short_message(const char *msg, char *buf, size_t n)
{
    const char *tb = strstr(msg, "\nstack traceback:");
    size_t len = tb ? (size_t)(tb - msg) : strlen(msg);
    snprintf(buf, n, "%.*s", (int)len, msg);
}

static json_t *text_content(const char *text)
{
    return json_pack("[{s:s, s:s}]", "type", "text", "text", text);
}

static void tool_done(vml_task *task, int rc, const vml_err *err, void *ud)
{
    req *r = ud;
    vml_mcp *m = r->m;
    lua_State *co = vml_task_thread(task);
    json_t *structured = NULL, *result = NULL, *entry;
    const struct compiled_tool *ct;
    vml_err e;
    r->task = NULL;
    if (r->cancelled)
        goto out;
    if (rc < 0) {
        char msg[VML_ERR_MSG_MAX];
        short_message(vml_err_msg(err), msg, sizeof msg);
        log_stderr("warning", "tool '%s' failed: %s", r->tool, vml_err_msg(err));
        result = json_pack("{s:o, s:b}", "content", text_content(msg), "isError", 1);
        goto send;
    }
    if (lua_gettop(co) == 0 || lua_isnil(co, 1)) {
        const char *msg = lua_gettop(co) >= 2 ? lua_tostring(co, 2) : NULL;
        result = json_pack("{s:o, s:b}", "content",
                           text_content(msg ? msg : "the tool failed without saying why"),
                           "isError", 1);
        goto send;
    }
    if (lua_type(co, 1) == LUA_TSTRING) {
        result = json_pack("{s:o}", "content", text_content(lua_tostring(co, 1)));
        goto send;
    }
    if (lua_gettop(co) >= 2 && lua_istable(co, 2)) {
        /* handler returned (structured|false, {content items}): images, audio, resources */
        json_t *content = NULL;
        vml_err_clear(&e);
        if (vml_conv_to_json(co, 2, &content, &e) < 0 || !json_is_array(content)) {
            json_decref(content);
            reply_error(m, r->batch, r->id, E_INTERNAL,
                        "tool '%s' returned content that is not a list of content items%s%s",
                        r->tool, e.code ? ": " : "", e.code ? vml_err_msg(&e) : "");
            goto out;
        }
        result = json_pack("{s:o}", "content", content);
        if (lua_toboolean(co, 1) && vml_conv_to_json(co, 1, &structured, &e) == 0 &&
            json_is_object(structured) && ver_at_least(m, "2025-06-18")) {
            json_object_set_new(result, "structuredContent", structured);
            structured = NULL;
        }
        goto send;
    }
    if (vml_conv_to_json(co, 1, &structured, &e) < 0) {
        reply_error(m, r->batch, r->id, E_INTERNAL,
                    "tool '%s' returned a value that is not JSON: %s", r->tool, vml_err_msg(&e));
        goto out;
    }
    if (!json_is_object(structured)) {
        json_t *w = json_object();
        json_object_set_new(w, "result", structured);
        structured = w;
    }
    entry = json_object_get(m->tool_index, r->tool);
    ct = entry ? compiled_of(m, entry) : NULL;
    if (ct && ct->out && vml_schema_run(ct->out, structured, "structuredContent", 0, &e) < 0) {
        log_stderr("error", "tool '%s' broke its outputSchema: %s", r->tool, vml_err_msg(&e));
        reply_error(m, r->batch, r->id, E_INTERNAL,
                    "tool '%s' returned data that does not match its outputSchema: %s", r->tool,
                    vml_err_msg(&e));
        goto out;
    }
    {
        /* the common reply, written straight to text: the rendering (the handler's text or the
         * compact JSON of the data) and, from 2025-06-18, the data itself */
        vml_jtext t, dump;
        reply_begin(&t, r->id);
        vml_jtext_lit(&t, ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":");
        if (lua_gettop(co) >= 2 && lua_type(co, 2) == LUA_TSTRING) {
            size_t n;
            const char *s = lua_tolstring(co, 2, &n);
            vml_jtext_str(&t, s, n);
        } else {
            vml_jtext_init(&dump);
            vml_jtext_value(&dump, structured);
            vml_jtext_str(&t, dump.p ? dump.p : "", dump.len);
            t.oom |= dump.oom;
            vml_jtext_free(&dump);
        }
        vml_jtext_lit(&t, "}]");
        if (ver_at_least(m, "2025-06-18")) {
            vml_jtext_lit(&t, ",\"structuredContent\":");
            vml_jtext_value(&t, structured);
        }
        vml_jtext_lit(&t, "}}");
        send_text(m, r->batch, &t);
        goto out;
    }
send:
    reply(m, r->batch, r->id, result, NULL);
out:
    json_decref(structured);
    req_free(r);
}

static void do_tools_call(vml_mcp *m, batch *b, json_t *id, json_t *params)
{
    json_t *name = json_object_get(params, "name");
    json_t *args = json_object_get(params, "arguments");
    json_t *meta = json_object_get(params, "_meta");
    json_t *entry, *copy = NULL;
    const struct compiled_tool *ct;
    lua_State *L = m->s->L;
    vml_err err;
    req *r;
    if (m->tools_dirty && tools_refresh(m, &err) < 0) {
        reply_error(m, b, id, E_INTERNAL, "could not load the tools: %s", vml_err_msg(&err));
        return;
    }
    if (!c_string(name)) {
        BAD_PARAMS("params.name: required, the name of a tool from tools/list (a string "
                   "without NUL characters)");
        return;
    }
    entry = json_object_get(m->tool_index, json_string_value(name));
    if (!entry) {
        BAD_PARAMS("params.name: unknown tool '%.200s' (call tools/list for the available tools)",
                   json_string_value(name));
        return;
    }
    if (args && !json_is_null(args) && !json_is_object(args)) {
        BAD_PARAMS("params.arguments: must be an object of the tool's arguments");
        return;
    }
    /* the request is ours and freed after dispatch: validate (and fill defaults) in place */
    copy = args && json_is_object(args) ? json_incref(args) : json_object();
    if (!(ct = compiled_of(m, entry))) {
        json_decref(copy);
        reply_error(m, b, id, E_INTERNAL, "tool '%.200s' has no compiled schema",
                    json_string_value(name));
        return;
    }
    if (vml_schema_run(ct->in, copy, "arguments", VML_SCHEMA_FILL_DEFAULTS, &err) < 0) {
        json_decref(copy);
        if (ver_at_least(m, "2025-11-25")) {
            /* SEP-1303: from 2025-11-25 bad arguments are a tool execution error the model can
             * read and correct, not a protocol error */
            char text[VML_ERR_MSG_MAX + 256];
            snprintf(text, sizeof text,
                     "Invalid arguments for tool '%.100s': %s. Nothing was done. Fix the "
                     "arguments (the tool's inputSchema in tools/list says what is allowed) and "
                     "call it again.",
                     json_string_value(name), err.msg);
            reply(m, b, id, json_pack("{s:o, s:b}", "content", text_content(text), "isError", 1),
                  NULL);
            return;
        }
        reply(m, b, id, NULL,
              error_obj(E_PARAMS, err.msg,
                        json_pack("{s:s, s:O}", "tool", json_string_value(name), "inputSchema",
                                  json_object_get(entry, "input"))));
        return;
    }
    r = req_new(m, id, b);
    if (!r) {
        json_decref(copy);
        reply_error(m, b, id, E_INTERNAL, "out of memory");
        return;
    }
    r->is_tool = 1;
    r->tool = strdup(json_string_value(name));
    if (json_is_object(meta)) {
        json_t *tok = json_object_get(meta, "progressToken");
        if (json_is_string(tok) || json_is_integer(tok))
            r->progress_token = json_incref(tok);
    }
    /* server.call(name, args, serial) as a task */
    push_server_fn(m, "call");
    lua_pushstring(L, r->tool);
    if (vml_conv_push(L, copy, &err) < 0) {
        json_decref(copy);
        lua_pop(L, 2);
        reply_error(m, b, id, E_PARAMS, "arguments: %s", vml_err_msg(&err));
        req_free(r);
        return;
    }
    json_decref(copy);
    lua_pushinteger(L, r->serial);
    if (vml_task_spawn(m->s, 3, tool_done, r, &r->task, &err) < 0) {
        reply_error(m, b, id, E_INTERNAL, "could not start the tool: %s", vml_err_msg(&err));
        req_free(r);
    }
}

/* Lua-dispatched methods: server.dispatch(method, params, serial) -> result table. */
static void lua_done(vml_task *t, int rc, const vml_err *err, void *ud)
{
    req *r = ud;
    vml_mcp *m = r->m;
    lua_State *co = vml_task_thread(t);
    json_t *result = NULL;
    vml_err e;
    r->task = NULL;
    if (r->cancelled)
        goto out;
    if (rc < 0) {
        int code = E_INTERNAL;
        char msg[VML_ERR_MSG_MAX];
        if (lua_gettop(co) > 0 && lua_istable(co, -1)) {
            const char *c;
            lua_getfield(co, -1, "code");
            c = lua_tostring(co, -1);
            if (c && strcmp(c, "VML_ENOENT") == 0)
                code = strncmp(r->method, "resources/", 10) == 0 ? E_RESOURCE_NOT_FOUND : E_PARAMS;
            else if (c && (strcmp(c, "VML_EINVAL") == 0 || strcmp(c, "VML_EUSAGE") == 0))
                code = E_PARAMS;
            lua_pop(co, 1);
        }
        short_message(vml_err_msg(err), msg, sizeof msg);
        if (code == E_INTERNAL)
            log_stderr("error", "%s failed: %s", r->method, vml_err_msg(err));
        reply(m, r->batch, r->id, NULL, error_obj(code, msg, NULL));
        goto out;
    }
    if (lua_gettop(co) < 1 || vml_conv_to_json(co, 1, &result, &e) < 0 || !json_is_object(result)) {
        json_decref(result);
        reply_error(m, r->batch, r->id, E_INTERNAL, "%s produced no valid result", r->method);
        goto out;
    }
    reply(m, r->batch, r->id, result, NULL);
out:
    req_free(r);
}

static void do_lua(vml_mcp *m, batch *b, json_t *id, const char *method, json_t *params)
{
    lua_State *L = m->s->L;
    vml_err err;
    req *r = req_new(m, id, b);
    if (!r) {
        reply_error(m, b, id, E_INTERNAL, "out of memory");
        return;
    }
    r->method = strdup(method);
    push_server_fn(m, "dispatch");
    lua_pushstring(L, method);
    if (vml_conv_push(L, params, &err) < 0) {
        lua_pop(L, 2);
        reply_error(m, b, id, E_PARAMS, "params: %s", vml_err_msg(&err));
        req_free(r);
        return;
    }
    lua_pushinteger(L, r->serial);
    lua_pushstring(L, k_versions[m->version]);
    if (vml_task_spawn(m->s, 4, lua_done, r, &r->task, &err) < 0) {
        reply_error(m, b, id, E_INTERNAL, "%s: %s", method, vml_err_msg(&err));
        req_free(r);
    }
}

static void do_cancelled(vml_mcp *m, json_t *params)
{
    json_t *rid = json_object_get(params, "requestId");
    char *key;
    req *r;
    if (!json_is_string(rid) && !json_is_integer(rid))
        return;
    key = id_key(rid);
    r = key ? json_ptr(json_object_get(m->inflight, key)) : NULL;
    free(key);
    if (!r || r->cancelled)
        return; /* unknown or finished: ignored, as the spec says */
    r->cancelled = 1;
    if (r->task)
        vml_task_cancel(r->task, VML_ECANCELED);
}

/* }===================================================================== */

/* {===================================================================== envelope */

static int known_method(const char *method)
{
    static const char *const methods[] = {
        "initialize",           "ping",           "logging/setLevel",    "tools/list",
        "tools/call",           "resources/list", "resources/read",      "resources/templates/list",
        "resources/subscribe",  "resources/unsubscribe", "prompts/list", "prompts/get",
        "completion/complete",  NULL};
    const char *const *p;
    for (p = methods; *p; p++)
        if (strcmp(*p, method) == 0)
            return 1;
    return 0;
}

static void handle_request(vml_mcp *m, batch *b, json_t *id, const char *method, json_t *params)
{
    json_t *empty = NULL;
    if (!params) {
        empty = json_object();
        params = empty;
    }
    if (strcmp(method, "ping") == 0) {
        reply(m, b, id, json_object(), NULL);
        goto out;
    }
    if (strcmp(method, "initialize") == 0) {
        if (b) {
            reply_error(m, b, id, E_INVALID_REQUEST, "initialize must not be part of a batch");
            goto out;
        }
        do_initialize(m, b, id, params);
        goto out;
    }
    if (!known_method(method)) {
        reply_error(m, b, id, E_METHOD,
                    "method '%.200s' not found (this server speaks MCP: tools/*, resources/*, "
                    "prompts/..., completion/complete, logging/setLevel, ping)",
                    method);
        goto out;
    }
    if (!m->initialized) {
        reply_error(m, b, id, E_INVALID_REQUEST,
                    "the session is not initialized: send initialize first");
        goto out;
    }
    if (m->shutting_down) {
        reply_error(m, b, id, E_INTERNAL, "the server is shutting down");
        goto out;
    }
    if (ensure_lua(m) < 0) {
        reply_error(m, b, id, E_INTERNAL, "the server could not start its tools: %s",
                    vml_err_msg(&m->lua_err));
        goto out;
    }
    if (strcmp(method, "logging/setLevel") == 0)
        do_set_level(m, b, id, params);
    else if (strcmp(method, "tools/list") == 0)
        do_tools_list(m, b, id, params);
    else if (strcmp(method, "tools/call") == 0)
        do_tools_call(m, b, id, params);
    else
        do_lua(m, b, id, method, params);
out:
    json_decref(empty);
}

static void handle_notification(vml_mcp *m, const char *method, json_t *params)
{
    if (strcmp(method, "notifications/initialized") == 0) {
        m->ready = 1;
    } else if (strcmp(method, "notifications/cancelled") == 0) {
        if (json_is_object(params))
            do_cancelled(m, params);
    }
    /* others (roots/list_changed, progress...) need nothing from us; never answered */
}

/* One message object (not an array). b is the batch or NULL. */
static void handle_object(vml_mcp *m, batch *b, json_t *msg)
{
    json_t *jv, *id, *method, *params;
    if (!json_is_object(msg)) {
        reply_error(m, b, NULL, E_INVALID_REQUEST,
                    "a message must be a JSON object with jsonrpc \"2.0\"");
        return;
    }
    id = json_object_get(msg, "id");
    method = json_object_get(msg, "method");
    params = json_object_get(msg, "params");
    if (id && !json_is_string(id) && !json_is_integer(id)) {
        reply_error(m, b, NULL, E_INVALID_REQUEST,
                    "id: must be a string or an integer (got %s)",
                    json_is_null(id) ? "null" : json_is_real(id) ? "a fractional number"
                    : json_is_object(id) ? "an object" : json_is_array(id) ? "an array"
                                                                            : "a boolean");
        return;
    }
    jv = json_object_get(msg, "jsonrpc");
    if (!json_is_string(jv) || strcmp(json_string_value(jv), "2.0") != 0) {
        reply_error(m, b, id, E_INVALID_REQUEST, "jsonrpc: must be the string \"2.0\"");
        return;
    }
    if (!method) {
        if (id && (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
            handle_response(m, msg);
            return;
        }
        reply_error(m, b, id, E_INVALID_REQUEST,
                    "method: required (a request needs a method; a response needs result or "
                    "error)");
        return;
    }
    if (!c_string(method)) {
        /* a NUL would cut the name in C: "tools/list\u0000x" must not run tools/list */
        reply_error(m, b, id, E_INVALID_REQUEST, "method: must be a string without NUL "
                                                 "characters");
        return;
    }
    if (params && !json_is_object(params)) {
        if (id)
            reply_error(m, b, id, json_is_array(params) ? E_PARAMS : E_INVALID_REQUEST,
                        "params: must be an object");
        return;
    }
    if (!id) {
        handle_notification(m, json_string_value(method), params);
        return;
    }
    {
        char *key = id_key(id);
        int dup = key && json_object_get(m->inflight, key) != NULL;
        free(key);
        if (dup) {
            reply_error(m, b, id, E_INVALID_REQUEST,
                        "id: a request with this id is still running; ids must be unique");
            return;
        }
    }
    handle_request(m, b, id, json_string_value(method), params);
}

void vml_mcp_handle(vml_mcp *m, const char *text, size_t len)
{
    json_t *msg;
    size_t i, pos;
    vml_err perr;
    while (len && (text[len - 1] == '\r' || text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    for (i = 0; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
        ;
    if (i == len)
        return; /* blank line */
    if (vml_jtext_parse(text, len, &msg, &pos, &perr) < 0) {
        reply(m, NULL, NULL, NULL,
              error_obj(E_PARSE, "parse error: the line is not valid JSON (UTF-8)",
                        json_pack("{s:s, s:I}", "detail", perr.msg, "position",
                                  (json_int_t)pos)));
        return;
    }
    if (json_is_array(msg)) {
        batch *b;
        json_t *e;
        if (!ver_at_least(m, "2025-03-26") || ver_at_least(m, "2025-06-18")) {
            reply_error(m, NULL, NULL, E_INVALID_REQUEST,
                        "batches are not allowed %s%s (JSON-RPC batching exists only in "
                        "protocol 2025-03-26); send one message per line",
                        m->version >= 0 ? "in protocol " : "before initialize",
                        m->version >= 0 ? k_versions[m->version] : "");
            json_decref(msg);
            return;
        }
        if (json_array_size(msg) == 0) {
            reply_error(m, NULL, NULL, E_INVALID_REQUEST, "an empty batch is not a request");
            json_decref(msg);
            return;
        }
        b = calloc(1, sizeof *b);
        if (!b) {
            json_decref(msg);
            return;
        }
        vml_jtext_init(&b->out);
        b->pending = 1; /* held until every element was dispatched */
        json_array_foreach(msg, i, e) handle_object(m, b, e);
        batch_done(m, b);
        json_decref(msg);
        return;
    }
    handle_object(m, NULL, msg);
    json_decref(msg);
}

/* }===================================================================== */

/* {===================================================================== framing */

static int buf_append(vml_mcp *m, const char *d, size_t n)
{
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        char *nb;
        while (cap < m->len + n)
            cap *= 2;
        nb = realloc(m->buf, cap);
        if (!nb)
            return -1;
        m->buf = nb;
        m->cap = cap;
    }
    memcpy(m->buf + m->len, d, n);
    m->len += n;
    return 0;
}

static void too_large(vml_mcp *m)
{
    size_t max = m->o.max_message ? m->o.max_message : VML_MCP_MAX_MESSAGE;
    reply_error(m, NULL, NULL, E_INVALID_REQUEST,
                "message too large: the limit is %zu bytes per line; it was skipped", max);
    m->discarding = 1;
    m->len = 0;
    if (m->cap > (1u << 20)) { /* give the big buffer back */
        free(m->buf);
        m->buf = NULL;
        m->cap = 0;
    }
}

void vml_mcp_feed(vml_mcp *m, const char *data, size_t len)
{
    size_t max = m->o.max_message ? m->o.max_message : VML_MCP_MAX_MESSAGE;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t seg = nl ? (size_t)(nl - data) : len;
        if (m->discarding) {
            if (!nl)
                return;
            m->discarding = 0;
        } else if (!nl) {
            if (m->len + seg > max)
                too_large(m);
            else if (buf_append(m, data, seg) < 0)
                too_large(m);
            return;
        } else if (m->len) {
            if (m->len + seg > max || buf_append(m, data, seg) < 0) {
                too_large(m);
                m->discarding = 0;
            } else {
                size_t n = m->len;
                m->len = 0;
                vml_mcp_handle(m, m->buf, n);
            }
        } else if (seg > max) {
            too_large(m);
            m->discarding = 0;
        } else {
            vml_mcp_handle(m, data, seg);
        }
        data = nl + 1;
        len -= seg + 1;
    }
}

void vml_mcp_feed_eof(vml_mcp *m)
{
    if (!m->discarding && m->len) {
        size_t n = m->len;
        m->len = 0;
        vml_mcp_handle(m, m->buf, n);
    }
    m->discarding = 0;
}

/* }===================================================================== */

/* {===================================================================== life */

static void service_done(vml_task *t, int rc, const vml_err *err, void *ud)
{
    service *sv = ud;
    (void)t;
    sv->task = NULL;
    if (rc < 0 && rc != VML_ECANCELED)
        log_stderr("error", "service %s stopped: %s", sv->name, vml_err_msg(err));
}

static int start_services(vml_mcp *m, vml_err *err)
{
    lua_State *L = m->s->L;
    int n, i, rc;
    push_server_fn(m, "services");
    if ((rc = vml_script_pcall(m->s, 0, 1, err)) < 0)
        return rc;
    n = (int)luaL_len(L, -1);
    for (i = 1; i <= n; i++) {
        service *sv = calloc(1, sizeof *sv);
        if (!sv)
            break;
        lua_geti(L, -1, i); /* {name=, start=} */
        lua_getfield(L, -1, "name");
        snprintf(sv->name, sizeof sv->name, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
        lua_pop(L, 1);
        lua_getfield(L, -1, "start");
        lua_remove(L, -2);
        sv->next = m->services;
        m->services = sv;
        if (vml_task_spawn(m->s, 0, service_done, sv, &sv->task, err) < 0)
            log_stderr("error", "service %s: %s", sv->name, vml_err_msg(err));
    }
    lua_pop(L, 1);
    return 0;
}

/* Starts the Lua side: the state, vibeml.mcp.server with the tools, resources, prompts and
 * services. Deferred until the initialize reply is out (or the first request that needs it), so
 * a client's spawn -> initialize round trip never waits on module loading. */
static int lua_start(vml_mcp *m, vml_err *err)
{
    lua_State *L;
    size_t i;
    int rc;
    static const luaL_Reg hooks[] = {
        {"progress", h_progress},   {"log", h_log},           {"notify", h_notify},
        {"tools_changed", h_tools_changed}, {"supports", h_supports}, {"cancelled", h_cancelled},
        {"elicit", h_elicit},       {"sample", h_sample},    {NULL, NULL}};
    const vml_mcp_opts *opts = &m->o;

    if ((rc = vml_script_new(VML_PROFILE_SCRIPT, NULL, &m->s, err)) < 0)
        return rc;
    m->s->out = stderr; /* print() must never reach the protocol stream */
    m->s->host = m;
    snprintf(m->s->name, sizeof m->s->name, "serve");
    L = m->s->L;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "vibeml.mcp.server");
    if ((rc = vml_script_pcall(m->s, 1, 1, err)) < 0)
        return rc;
    m->lua_server = luaL_ref(L, LUA_REGISTRYINDEX);
    /* server.init(opts, hooks) */
    push_server_fn(m, "init");
    lua_createtable(L, 0, 8);
    push_module_list(L, "lua/vibeml/tools/");
    lua_setfield(L, -2, "tools");
    push_module_list(L, "lua/vibeml/resources/");
    lua_setfield(L, -2, "resources");
    push_module_list(L, "lua/vibeml/prompts/");
    lua_setfield(L, -2, "prompts");
    push_module_list(L, "lua/vibeml/services/");
    lua_setfield(L, -2, "services");
    lua_pushboolean(L, opts->test_tools);
    lua_setfield(L, -2, "test");
    lua_pushboolean(L, opts->conformance);
    lua_setfield(L, -2, "conformance");
    lua_pushboolean(L, opts->no_services);
    lua_setfield(L, -2, "session"); /* server.services() then lists the per-session ones only */
    lua_createtable(L, (int)opts->n_plugin_dirs, 0);
    for (i = 0; i < opts->n_plugin_dirs; i++) {
        lua_pushstring(L, opts->plugin_dirs[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "plugin_dirs");
    lua_pushinteger(L, (lua_Integer)(opts->page_size ? opts->page_size : 100));
    lua_setfield(L, -2, "page_size");
    lua_newtable(L);
    lua_pushlightuserdata(L, m);
    luaL_setfuncs(L, hooks, 1);
    if ((rc = vml_script_pcall(m->s, 2, 0, err)) < 0)
        return rc;
    if ((rc = start_services(m, err)) < 0)
        return rc;
    /* loading left garbage behind (module chunks, plugin validation): collect it and hand the
     * freed pages back, so an idle server stays small */
    lua_gc(L, LUA_GCCOLLECT);
    malloc_trim(0);
    vml_embed_release(); /* the embedded sources just read: their pages go back too */
    return 0;
}

static int ensure_lua(vml_mcp *m)
{
    if (m->lua_started == 0) {
        m->lua_started = 1; /* before starting: services may call back into the server */
        if (lua_start(m, &m->lua_err) < 0) {
            m->lua_started = -1;
            log_stderr("error", "the Lua side did not start: %s", vml_err_msg(&m->lua_err));
        }
    }
    return m->lua_started > 0 ? 0 : -1;
}

static void warm_fired(uv_timer_t *t)
{
    vml_mcp *m = t->data;
    if (!m->shutting_down)
        ensure_lua(m);
}

static void warm_closed(uv_handle_t *h)
{
    free(h);
}

int vml_mcp_new(const vml_mcp_opts *opts, vml_mcp **out, vml_err *err)
{
    vml_mcp *m = calloc(1, sizeof *m);

    *out = NULL;
    if (!m)
        return vml_err_set(err, VML_ENOMEM, "out of memory");
    m->o = *opts;
    m->version = -1;
    m->log_level = 1; /* info until the client says otherwise */
    m->inflight = json_object();
    m->pending = json_object();
    m->tools = json_array();
    m->tool_index = json_object();
    m->tools_dirty = 1;
    m->lua_server = LUA_NOREF;
    if (getenv("VIBEML_MCP_EAGER") && ensure_lua(m) < 0) { /* start-up errors at once */
        int rc = vml_err_set(err, m->lua_err.code, "%s", m->lua_err.msg);
        vml_mcp_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void vml_mcp_cancel_all(vml_mcp *m)
{
    req *r, *next;
    service *sv;
    m->shutting_down = 1;
    for (r = m->reqs; r; r = next) {
        next = r->next;
        r->cancelled = 1;
        if (r->task)
            vml_task_cancel(r->task, VML_ECANCELED); /* done frees r */
    }
    for (sv = m->services; sv; sv = sv->next)
        if (sv->task)
            vml_task_cancel(sv->task, VML_ECANCELED);
}

void vml_mcp_free(vml_mcp *m)
{
    service *sv;
    if (!m)
        return;
    if (m->warm) {
        uv_timer_stop(m->warm);
        uv_close((uv_handle_t *)m->warm, warm_closed);
        m->warm = NULL;
    }
    vml_mcp_cancel_all(m);
    while (m->reqs) /* requests without a task (should be none) */
        req_free(m->reqs);
    if (m->s && m->lua_server != LUA_NOREF)
        luaL_unref(m->s->L, LUA_REGISTRYINDEX, m->lua_server);
    vml_script_free(m->s);
    while ((sv = m->services)) {
        m->services = sv->next;
        free(sv);
    }
    json_decref(m->inflight);
    json_decref(m->pending);
    json_decref(m->tools);
    compiled_free(m);
    json_decref(m->tool_index);
    free(m->tools_text);
    json_decref(m->client_caps);
    json_decref(m->client_info);
    free(m->buf);
    free(m);
}

/* }===================================================================== */
