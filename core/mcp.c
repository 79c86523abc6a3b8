/* SPDX-License-Identifier: MIT
 * mcp — the MCP server's lifecycle (see mcp.h; its other files are listed in mcp_int.h):
 * creating and freeing a server, its Lua side (vibeml.mcp.server with the tools, resources,
 * prompts and services), initialize with version negotiation, logging/setLevel.
 *
 * The Lua side starts at initialize (or the first request needing it, or vml_mcp_start): the
 * initialize result carries the model's instructions, which are Lua's
 * (lua/vibeml/mcp/instructions.lua).
 *
 * Ownership: the server owns its Lua state, the requests and services, the tool cache and the
 * client's capabilities; vml_mcp_free releases all of it.
 * Uses: mcp_int, embed, loop, script, err, jansson, Lua.
 */
#include "mcp_int.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef VML_HAVE_MALLOC_TRIM
#include <malloc.h> /* malloc_trim */
#endif

#include "embed.h"

static const char *const k_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
                                         NULL};
static const char *const k_levels[] = {"debug",    "info",  "notice",    "warning", "error",
                                       "critical", "alert", "emergency", NULL};

/* {===================================================================== session state */

int vml__mcp_ver_at_least(const vml_mcp *m, const char *v)
{
    /* the list is newest first; dates compare as strings */
    return m->version >= 0 && strcmp(k_versions[m->version], v) >= 0;
}

const char *vml_mcp_version(const vml_mcp *m)
{
    return m->version >= 0 ? k_versions[m->version] : NULL;
}

int vml__mcp_level(const char *name)
{
    int i;
    for (i = 0; k_levels[i]; i++)
        if (strcmp(k_levels[i], name) == 0)
            return i;
    if (strcmp(name, "warn") == 0)
        return 3;
    return -1;
}

const char *vml__mcp_level_name(int level)
{
    return k_levels[level];
}

void vml__mcp_set_level(vml_mcp *m, vml_mcp_batch *b, json_t *id, json_t *params)
{
    json_t *lv = json_object_get(params, "level");
    int li = vml__mcp_c_string(lv) ? vml__mcp_level(json_string_value(lv)) : -1;
    if (li < 0 || strcmp(json_string_value(lv), "warn") == 0) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_PARAMS,
                             "params.level: must be one of debug, info, notice, warning, error, "
                             "critical, alert, emergency");
        return;
    }
    m->log_level = li;
    vml__mcp_reply(m, b, id, json_object(), NULL);
}

/* }===================================================================== */

/* {===================================================================== the Lua side */

void vml__mcp_push_server_fn(vml_mcp *m, const char *name)
{
    lua_State *L = m->s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->lua_server);
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
}

/* Pushes the names of the embedded modules under prefix ("lua/vibeml/tools/" gives
 * {"vibeml.tools.check_setup", ...}); files starting with '_' are helpers, not modules. */
static void push_module_list(lua_State *L, const char *prefix)
{
    const vml_embed_file *f;
    size_t plen = strlen(prefix);
    int n = 0;
    lua_newtable(L);
    for (f = vml_embed_files; f->path; f++) {
        const char *rest = f->path + plen;
        size_t rl;
        char mod[256], *p;
        if (strncmp(f->path, prefix, plen) != 0 || strchr(rest, '/'))
            continue;
        rl = strlen(rest);
        if (rl < 5 || strcmp(rest + rl - 4, ".lua") != 0 || rest[0] == '_')
            continue;
        snprintf(mod, sizeof mod, "%.*s%.*s", (int)(plen - 4), prefix + 4, (int)(rl - 4), rest);
        for (p = mod; *p; p++)
            if (*p == '/')
                *p = '.';
        lua_pushstring(L, mod);
        lua_rawseti(L, -2, ++n);
    }
}

static void service_done(vml_task *t, int rc, const vml_err *err, void *ud)
{
    vml_mcp_service *sv = ud;
    (void)t;
    sv->task = NULL;
    if (rc < 0 && rc != VML_ECANCELED)
        vml__mcp_log("error", "service %s stopped: %s", sv->name, vml_err_msg(err));
}

static int start_services(vml_mcp *m, vml_err *err)
{
    lua_State *L = m->s->L;
    int n, i, rc;
    vml__mcp_push_server_fn(m, "services");
    if ((rc = vml_script_pcall(m->s, 0, 1, err)) < 0)
        return rc;
    n = (int)luaL_len(L, -1);
    for (i = 1; i <= n; i++) {
        vml_mcp_service *sv = calloc(1, sizeof *sv);
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
            vml__mcp_log("error", "service %s: %s", sv->name, vml_err_msg(err));
    }
    lua_pop(L, 1);
    return 0;
}

/* Starts the Lua side: the state, vibeml.mcp.server with the tools, resources, prompts and
 * services. */
static int lua_start(vml_mcp *m, vml_err *err)
{
    const vml_mcp_opts *opts = &m->o;
    lua_State *L;
    size_t i;
    int rc;

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
    vml__mcp_push_server_fn(m, "init");
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
    vml__mcp_push_hooks(L, m);
    if ((rc = vml_script_pcall(m->s, 2, 0, err)) < 0)
        return rc;
    if ((rc = start_services(m, err)) < 0)
        return rc;
    /* loading left garbage behind (module chunks, plugin validation): collect it and hand the
     * freed pages back, so an idle server stays small */
    lua_gc(L, LUA_GCCOLLECT);
#ifdef VML_HAVE_MALLOC_TRIM
    malloc_trim(0);
#endif
    vml_embed_release(); /* the embedded sources just read: their pages go back too */
    return 0;
}

int vml__mcp_ensure_lua(vml_mcp *m)
{
    if (m->lua_started == 0) {
        m->lua_started = 1; /* before starting: services may call back into the server */
        if (lua_start(m, &m->lua_err) < 0) {
            m->lua_started = -1;
            vml__mcp_log("error", "the Lua side did not start: %s", vml_err_msg(&m->lua_err));
        }
    }
    return m->lua_started > 0 ? 0 : -1;
}

int vml_mcp_start(vml_mcp *m, vml_err *err)
{
    if (vml__mcp_ensure_lua(m) < 0)
        return vml_err_set(err, m->lua_err.code ? m->lua_err.code : VML_ELUA, "%s",
                           vml_err_msg(&m->lua_err));
    return 0;
}

/* }===================================================================== */

/* {===================================================================== initialize */

/* The model's instructions (vibeml.mcp.server.instructions), or NULL when the Lua side did not
 * start (the requests after initialize then say why). New reference. */
static json_t *instructions(vml_mcp *m)
{
    json_t *j = NULL;
    size_t n;
    const char *s;
    if (vml__mcp_ensure_lua(m) < 0)
        return NULL;
    vml__mcp_push_server_fn(m, "instructions");
    s = lua_tolstring(m->s->L, -1, &n);
    if (s)
        j = vml__mcp_text(s, n);
    lua_pop(m->s->L, 1);
    return j;
}

void vml__mcp_initialize(vml_mcp *m, vml_mcp_batch *b, json_t *id, json_t *params)
{
    json_t *pv = json_object_get(params, "protocolVersion");
    json_t *caps = json_object_get(params, "capabilities");
    json_t *info = json_object_get(params, "clientInfo");
    json_t *result, *scaps, *sinfo, *text;
    int i, chosen = 0;
    if (m->initialized) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INVALID_REQUEST,
                             "already initialized (protocol %s); start a new session to "
                             "initialize again",
                             k_versions[m->version]);
        return;
    }
    if (!json_is_string(pv)) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_PARAMS,
                             "params.protocolVersion: required, a string such as \"2025-11-25\"");
        return;
    }
    if (!json_is_object(caps)) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_PARAMS,
                             "params.capabilities: required, an object (may be empty)");
        return;
    }
    if (!json_is_object(info) || !json_is_string(json_object_get(info, "name")) ||
        !json_is_string(json_object_get(info, "version"))) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_PARAMS,
                             "params.clientInfo: required, an object with string fields name "
                             "and version");
        return;
    }
    for (i = 0; vml__mcp_c_string(pv) && k_versions[i]; i++)
        if (strcmp(k_versions[i], json_string_value(pv)) == 0) {
            chosen = i;
            break;
        }
    m->version = chosen; /* an unknown version gets our latest (the client may then disconnect) */
    m->client_caps = json_incref(caps);
    m->client_info = json_incref(info);
    scaps = json_pack("{s:{}, s:{s:b}, s:{s:b, s:b}, s:{s:b}}", "logging", "prompts", "listChanged",
                      1, "resources", "subscribe", 1, "listChanged", 1, "tools", "listChanged", 1);
    if (vml__mcp_ver_at_least(m, "2025-03-26"))
        json_object_set_new(scaps, "completions", json_object());
    sinfo = json_pack("{s:s, s:s}", "name", "vibeml", "version", VML_VERSION);
    if (vml__mcp_ver_at_least(m, "2025-06-18"))
        json_object_set_new(sinfo, "title", json_string("VibeML"));
    if (vml__mcp_ver_at_least(m, "2025-11-25"))
        json_object_set_new(sinfo, "description",
                            json_string("Fine-tune LLMs on cloud GPUs within budget"));
    result = json_pack("{s:s, s:o, s:o}", "protocolVersion", k_versions[chosen], "capabilities",
                       scaps, "serverInfo", sinfo);
    if ((text = instructions(m)))
        json_object_set_new(result, "instructions", text);
    m->initialized = 1;
    vml__mcp_reply(m, b, id, result, NULL);
}

/* }===================================================================== */

/* {===================================================================== life */

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
    m->tools_dirty = 1;
    m->lua_server = LUA_NOREF;
    if (getenv("VIBEML_MCP_EAGER") && vml__mcp_ensure_lua(m) < 0) { /* start-up errors at once */
        int rc = vml_err_set(err, m->lua_err.code, "%s", m->lua_err.msg);
        vml_mcp_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void vml_mcp_cancel_all(vml_mcp *m)
{
    vml_mcp_req *r, *next;
    vml_mcp_service *sv;
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
    vml_mcp_service *sv;
    if (!m)
        return;
    vml_mcp_cancel_all(m);
    while (m->reqs) /* requests without a task (should be none) */
        vml__mcp_req_free(m->reqs);
    if (m->s && m->lua_server != LUA_NOREF)
        luaL_unref(m->s->L, LUA_REGISTRYINDEX, m->lua_server);
    vml_script_free(m->s);
    while ((sv = m->services)) {
        m->services = sv->next;
        free(sv);
    }
    json_decref(m->inflight);
    json_decref(m->pending);
    vml__mcp_tools_free(m);
    json_decref(m->client_caps);
    json_decref(m->client_info);
    free(m->buf);
    free(m);
}

/* }===================================================================== */
