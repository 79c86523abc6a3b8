/* SPDX-License-Identifier: MIT
 * mcp_tools — the tools of the MCP server (see mcp.h, mcp_int.h): the cache of rendered
 * definitions and compiled schemas, rebuilt from vibeml.mcp.server.tool_list() when the tool set
 * changed; tools/list (paginated); tools/call (arguments checked by core/schema.c, the handler
 * run as a task) and the shaping of what a handler returns into a result.
 *
 * Ownership: the server owns the cache (m->tools, m->tool_index, m->compiled), freed by
 * vml__mcp_tools_free or the next rebuild.
 * Uses: mcp_int, schema, luajson, script, err, jansson.
 */
#include "mcp_int.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "luajson.h"

/* {===================================================================== the cache */

void vml__mcp_tools_free(vml_mcp *m)
{
    size_t i;
    for (i = 0; i < m->n_compiled; i++) {
        vml_schema_free(m->compiled[i].in);
        vml_schema_free(m->compiled[i].out);
    }
    free(m->compiled);
    m->compiled = NULL;
    m->n_compiled = 0;
    json_decref(m->tools);
    json_decref(m->tool_index);
    m->tools = m->tool_index = NULL;
}

/* The compiled schemas of a tool_index entry. */
static const vml_mcp_tool *compiled_of(vml_mcp *m, const json_t *entry)
{
    json_int_t slot = json_integer_value(json_object_get(entry, "slot"));
    return slot >= 0 && (size_t)slot < m->n_compiled ? &m->compiled[slot] : NULL;
}

/* The definition a client sees for tool t, as this protocol version knows it. New reference. */
static json_t *render(vml_mcp *m, const char *name, json_t *t)
{
    json_t *def = json_pack("{s:s}", "name", name);
    json_t *desc = json_object_get(t, "description");
    json_t *out = json_object_get(t, "outputSchema"), *ann = json_object_get(t, "annotations");
    if (vml__mcp_ver_at_least(m, "2025-06-18") && json_object_get(t, "title"))
        json_object_set(def, "title", json_object_get(t, "title"));
    json_object_set_new(def, "description", desc ? json_incref(desc) : json_string(""));
    json_object_set(def, "inputSchema", json_object_get(t, "inputSchema"));
    if (vml__mcp_ver_at_least(m, "2025-06-18") && out)
        json_object_set(def, "outputSchema", out);
    if (vml__mcp_ver_at_least(m, "2025-03-26") && ann)
        json_object_set(def, "annotations", ann);
    if (json_is_object(json_object_get(t, "_meta"))) /* e.g. _meta.ui (MCP Apps) */
        json_object_set(def, "_meta", json_object_get(t, "_meta"));
    return def;
}

static int tools_refresh(vml_mcp *m, vml_err *err)
{
    lua_State *L = m->s->L;
    json_t *list = NULL, *t;
    size_t i;
    int rc;
    vml__mcp_push_server_fn(m, "tool_list");
    if ((rc = vml_script_pcall(m->s, 0, 1, err)) < 0)
        return rc;
    rc = vml_luajson_to_json(L, -1, &list, err);
    lua_pop(L, 1);
    if (rc < 0)
        return rc;
    vml__mcp_tools_free(m);
    m->tools = json_array();
    m->tool_index = json_object();
    m->compiled = calloc(json_array_size(list) + 1, sizeof *m->compiled);
    if (!m->compiled) {
        json_decref(list);
        return vml_err_set(err, VML_ENOMEM, "out of memory loading the tools");
    }
    json_array_foreach (list, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *in = json_object_get(t, "inputSchema"), *out = json_object_get(t, "outputSchema");
        json_t *def;
        vml_mcp_tool *slot;
        vml_err e;
        if (!name)
            continue;
        if (vml_schema_check(in, &e) < 0 || (out && vml_schema_check(out, &e) < 0)) {
            vml__mcp_log("error", "tool '%s' left out: %s", name, vml_err_msg(&e));
            continue;
        }
        /* compiled once per tool-set change: a call only runs them */
        slot = &m->compiled[m->n_compiled];
        if (vml_schema_compile(in, &slot->in, &e) < 0 ||
            (json_is_object(out) && vml_schema_compile(out, &slot->out, &e) < 0)) {
            vml_schema_free(slot->in);
            vml_schema_free(slot->out);
            slot->in = slot->out = NULL;
            vml__mcp_log("error", "tool '%s' left out: %s", name, vml_err_msg(&e));
            continue;
        }
        def = render(m, name, t);
        json_array_append(m->tools, def);
        json_object_set_new(m->tool_index, name,
                            json_pack("{s:o, s:O, s:I}", "def", def, "input", in, "slot",
                                      (json_int_t)m->n_compiled));
        m->n_compiled++;
    }
    json_decref(list);
    m->tools_dirty = 0;
    return 0;
}

/* }===================================================================== */

/* {===================================================================== tools/list */

static int parse_cursor(json_t *params, size_t total, size_t *off)
{
    json_t *c = json_object_get(params, "cursor");
    const char *s;
    char *end;
    unsigned long long v;
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

void vml__mcp_tools_list(vml_mcp *m, vml_mcp_batch *b, json_t *id, json_t *params)
{
    size_t off, i, n, page = m->o.page_size ? m->o.page_size : 100;
    json_t *res, *arr;
    vml_err err;
    if (m->tools_dirty && tools_refresh(m, &err) < 0) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INTERNAL, "could not list the tools: %s",
                             vml_err_msg(&err));
        return;
    }
    n = json_array_size(m->tools);
    if (parse_cursor(params, n, &off) < 0) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_PARAMS,
                             "params.cursor: not a cursor this server gave out; omit it to "
                             "start from the first page");
        return;
    }
    if (off == 0 && n <= page) {
        vml__mcp_reply(m, b, id, json_pack("{s:O}", "tools", m->tools), NULL);
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
    vml__mcp_reply(m, b, id, res, NULL);
}

/* }===================================================================== */

/* {===================================================================== tools/call */

/* [{"type":"text","text":text}] */
static json_t *text_content(const char *text, size_t n)
{
    json_t *item = json_pack("{s:s}", "type", "text");
    json_object_set_new(item, "text", vml__mcp_text(text, n));
    return json_pack("[o]", item);
}

/* A result the model reads as a failure of the tool (isError), not of the protocol. */
static json_t *error_result(const char *text)
{
    return json_pack("{s:o, s:b}", "content", text_content(text, strlen(text)), "isError", 1);
}

/* What the handler returned, on the task's stack, as a result (new reference), or NULL with
 * a -32603 reply already sent. Shapes: nil, message (isError); text; structured data [, text]
 * (data checked against the outputSchema; the text, or the data's compact JSON, renders it);
 * structured|false, {content items} (images, audio, resources). */
static json_t *shape_result(vml_mcp_req *r, lua_State *co)
{
    vml_mcp *m = r->m;
    json_t *structured = NULL, *result = NULL, *content = NULL, *entry;
    const vml_mcp_tool *ct;
    vml_err e;
    vml_err_clear(&e);
    if (lua_gettop(co) == 0 || lua_isnil(co, 1)) {
        const char *msg = lua_gettop(co) >= 2 ? lua_tostring(co, 2) : NULL;
        return error_result(msg ? msg : "the tool failed without saying why");
    }
    if (lua_type(co, 1) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(co, 1, &n);
        return json_pack("{s:o}", "content", text_content(s, n));
    }
    if (lua_gettop(co) >= 2 && lua_istable(co, 2)) {
        if (vml_luajson_to_json(co, 2, &content, &e) < 0 || !json_is_array(content)) {
            json_decref(content);
            vml__mcp_reply_error(m, r->batch, r->id, VML_MCP_E_INTERNAL,
                                 "tool '%s' returned content that is not a list of content "
                                 "items%s%s",
                                 r->tool, e.code ? ": " : "", e.code ? vml_err_msg(&e) : "");
            return NULL;
        }
        result = json_pack("{s:o}", "content", content);
        if (lua_toboolean(co, 1) && vml_luajson_to_json(co, 1, &structured, &e) == 0 &&
            json_is_object(structured) && vml__mcp_ver_at_least(m, "2025-06-18")) {
            json_object_set_new(result, "structuredContent", structured);
            structured = NULL;
        }
        json_decref(structured);
        return result;
    }
    if (vml_luajson_to_json(co, 1, &structured, &e) < 0) {
        vml__mcp_reply_error(m, r->batch, r->id, VML_MCP_E_INTERNAL,
                             "tool '%s' returned a value that is not JSON: %s", r->tool,
                             vml_err_msg(&e));
        return NULL;
    }
    if (!json_is_object(structured)) {
        json_t *w = json_object();
        json_object_set_new(w, "result", structured);
        structured = w;
    }
    entry = json_object_get(m->tool_index, r->tool);
    ct = entry ? compiled_of(m, entry) : NULL;
    if (ct && ct->out && vml_schema_run(ct->out, structured, "structuredContent", 0, &e) < 0) {
        vml__mcp_log("error", "tool '%s' broke its outputSchema: %s", r->tool, vml_err_msg(&e));
        vml__mcp_reply_error(m, r->batch, r->id, VML_MCP_E_INTERNAL,
                             "tool '%s' returned data that does not match its outputSchema: %s",
                             r->tool, vml_err_msg(&e));
        json_decref(structured);
        return NULL;
    }
    if (lua_gettop(co) >= 2 && lua_type(co, 2) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(co, 2, &n);
        content = text_content(s, n);
    } else { /* clients that only read content see the data as compact JSON */
        char *dump = json_dumps(structured, VML_MCP_WRITE_FLAGS);
        content = text_content(dump ? dump : "", dump ? strlen(dump) : 0);
        free(dump);
    }
    result = json_pack("{s:o}", "content", content);
    if (vml__mcp_ver_at_least(m, "2025-06-18"))
        json_object_set_new(result, "structuredContent", structured);
    else
        json_decref(structured);
    return result;
}

static void tool_done(vml_task *t, int rc, const vml_err *err, void *ud)
{
    vml_mcp_req *r = ud;
    json_t *result;
    r->task = NULL;
    if (r->cancelled)
        goto out;
    if (rc < 0) {
        char msg[VML_ERR_MSG_MAX];
        vml__mcp_short_message(vml_err_msg(err), msg, sizeof msg);
        vml__mcp_log("warning", "tool '%s' failed: %s", r->tool, vml_err_msg(err));
        vml__mcp_reply(r->m, r->batch, r->id, error_result(msg), NULL);
        goto out;
    }
    result = shape_result(r, vml_task_thread(t));
    if (result)
        vml__mcp_reply(r->m, r->batch, r->id, result, NULL);
out:
    vml__mcp_req_free(r);
}

void vml__mcp_tools_call(vml_mcp *m, vml_mcp_batch *b, json_t *id, json_t *params)
{
    json_t *name = json_object_get(params, "name");
    json_t *args = json_object_get(params, "arguments");
    json_t *meta = json_object_get(params, "_meta");
    json_t *entry, *copy = NULL;
    const vml_mcp_tool *ct;
    lua_State *L = m->s->L;
    vml_err err;
    vml_mcp_req *r;
    if (m->tools_dirty && tools_refresh(m, &err) < 0) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INTERNAL, "could not load the tools: %s",
                             vml_err_msg(&err));
        return;
    }
    if (!vml__mcp_c_string(name)) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_PARAMS,
                             "params.name: required, the name of a tool from tools/list (a "
                             "string without NUL characters)");
        return;
    }
    entry = json_object_get(m->tool_index, json_string_value(name));
    if (!entry) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_PARAMS,
                             "params.name: unknown tool '%.200s' (call tools/list for the "
                             "available tools)",
                             json_string_value(name));
        return;
    }
    if (args && !json_is_null(args) && !json_is_object(args)) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_PARAMS,
                             "params.arguments: must be an object of the tool's arguments");
        return;
    }
    if (!(ct = compiled_of(m, entry))) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INTERNAL, "tool '%.200s' has no compiled schema",
                             json_string_value(name));
        return;
    }
    /* the request is ours and freed after dispatch: validate (and fill defaults) in place */
    copy = args && json_is_object(args) ? json_incref(args) : json_object();
    if (vml_schema_run(ct->in, copy, "arguments", VML_SCHEMA_FILL_DEFAULTS, &err) < 0) {
        json_decref(copy);
        if (vml__mcp_ver_at_least(m, "2025-11-25")) {
            /* SEP-1303: from 2025-11-25 bad arguments are a tool execution error the model can
             * read and correct, not a protocol error */
            char text[VML_ERR_MSG_MAX + 256];
            snprintf(text, sizeof text,
                     "Invalid arguments for tool '%.100s': %s. Nothing was done. Fix the "
                     "arguments (the tool's inputSchema in tools/list says what is allowed) and "
                     "call it again.",
                     json_string_value(name), err.msg);
            vml__mcp_reply(m, b, id, error_result(text), NULL);
            return;
        }
        vml__mcp_reply(
            m, b, id, NULL,
            vml__mcp_error_obj(VML_MCP_E_PARAMS, err.msg,
                               json_pack("{s:s, s:O}", "tool", json_string_value(name),
                                         "inputSchema", json_object_get(entry, "input"))));
        return;
    }
    r = vml__mcp_req_new(m, id, b);
    if (!r) {
        json_decref(copy);
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INTERNAL, "out of memory");
        return;
    }
    r->tool = strdup(json_string_value(name));
    if (json_is_object(meta)) {
        json_t *tok = json_object_get(meta, "progressToken");
        if (json_is_string(tok) || json_is_integer(tok))
            r->progress_token = json_incref(tok);
    }
    /* server.call(name, args, serial) as a task */
    vml__mcp_push_server_fn(m, "call");
    lua_pushstring(L, r->tool);
    if (vml_luajson_push(L, copy, &err) < 0) {
        json_decref(copy);
        lua_pop(L, 2);
        vml__mcp_reply_error(m, b, id, VML_MCP_E_PARAMS, "arguments: %s", vml_err_msg(&err));
        vml__mcp_req_free(r);
        return;
    }
    json_decref(copy);
    lua_pushinteger(L, r->serial);
    if (vml_task_spawn(m->s, 3, tool_done, r, &r->task, &err) < 0) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INTERNAL, "could not start the tool: %s",
                             vml_err_msg(&err));
        vml__mcp_req_free(r);
    }
}

/* }===================================================================== */
