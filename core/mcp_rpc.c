/* SPDX-License-Identifier: MIT
 * mcp_rpc — the JSON-RPC 2.0 side of the MCP server (see mcp.h, mcp_int.h): line framing, JSON
 * text in and out (jansson), the envelope checks, dispatch, replies, requests in flight,
 * batches, cancellation and the methods vibeml.mcp.server handles in Lua.
 *
 * Ownership: requests are freed when their task ends (vml__mcp_req_free); a batch frees itself
 * once its last request answered. Every byte for the client passes the secret redactor in
 * send_line.
 * Uses: mcp_int, luajson, redact, loop, script, err, jansson.
 */
#include "mcp_int.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "luajson.h"
#include "redact.h"

/* How every line in is read (the HTTP transport reads bodies with vml_mcp_parse too): strict
 * JSON, duplicate keys refused, \u0000 allowed inside strings (checked where C uses one as a C
 * string), any value at the top so that `5` is an invalid request rather than a parse error. */
#define READ_FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY)

struct vml_mcp_batch {
    json_t *replies; /* the replies gathered so far, owned */
    int pending;     /* requests of the batch still running */
};

/* {===================================================================== JSON text */

int vml_mcp_parse(const char *text, size_t len, json_t **out, size_t *pos, vml_err *err)
{
    json_error_t je;
    const char *nul = len ? memchr(text, '\0', len) : NULL; /* an empty HTTP body: NULL */
    *out = NULL;
    if (nul) { /* jansson would stop reading there and accept what came before */
        if (pos)
            *pos = (size_t)(nul - text);
        return vml_err_set(err, VML_EJSON,
                           "a raw NUL byte (write it as \\u0000 inside a "
                           "string)");
    }
    *out = json_loadb(text, len, READ_FLAGS, &je);
    if (*out)
        return 0;
    if (pos)
        *pos = je.position > 0 ? (size_t)je.position : 0;
    if (strstr(je.text, "too big integer") || strstr(je.text, "real number overflow"))
        return vml_err_set(err, VML_ELIMIT,
                           "a number in the message is too large (integers must "
                           "fit in 64 bits, reals in a double): %s",
                           je.text);
    return vml_err_set(err, VML_EJSON, "%s", je.text);
}

/* v as one compact line ending in '\n', malloc'd; NULL when out of memory. */
static char *dump_line(const json_t *v, size_t *len)
{
    char *text = json_dumps(v, VML_MCP_WRITE_FLAGS), *line;
    size_t n;
    if (!text)
        return NULL;
    n = strlen(text);
    line = realloc(text, n + 2);
    if (!line) {
        free(text);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
    return line;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates), 0 if the
 * bytes there are not one. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0], cp;
    size_t len, i;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

json_t *vml__mcp_text(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    char *buf;
    size_t i = 0, o = 0;
    if (j)
        return j;
    buf = malloc(n * 3 + 1);
    if (!buf)
        return NULL;
    while (i < n) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k) {
            memcpy(buf + o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(buf + o, "\xEF\xBF\xBD", 3); /* U+FFFD */
            o += 3;
            i++;
        }
    }
    j = json_stringn(buf, o);
    free(buf);
    return j;
}

/* }===================================================================== */

/* {===================================================================== sending */

void vml__mcp_log(const char *level, const char *fmt, ...)
{
    va_list ap;
    char line[4096];
    int n;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    vml_redact(line, strlen(line)); /* never a secret value on stderr (redact.h) */
    fprintf(stderr, "vibeml serve %s: %s\n", level, line);
}

int vml__mcp_c_string(const json_t *v)
{
    /* C would cut the string at a NUL: "tools/list\u0000x" would run tools/list */
    return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

/* Writes msg (borrowed) to the client as one line. */
static void send_line(vml_mcp *m, const json_t *msg)
{
    size_t n;
    char *line = dump_line(msg, &n);
    if (!line) {
        vml__mcp_log("error", "out of memory writing a message; it was dropped");
        return;
    }
    vml_redact(line, n - 1); /* no secret value leaves through MCP (redact.h) */
    if (m->o.write(m->o.write_ud, line, n) < 0)
        vml__mcp_log("warning", "the client's output is closed; a message was dropped");
}

void vml__mcp_send(vml_mcp *m, json_t *msg)
{
    if (!msg)
        return;
    send_line(m, msg);
    json_decref(msg);
}

json_t *vml__mcp_error_obj(int code, const char *msg, json_t *data)
{
    json_t *e = json_object();
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "message", vml__mcp_text(msg ? msg : "", msg ? strlen(msg) : 0));
    if (data)
        json_object_set_new(e, "data", data);
    return e;
}

void vml__mcp_reply(vml_mcp *m, vml_mcp_batch *b, json_t *id, json_t *result, json_t *error)
{
    json_t *msg = json_object();
    json_object_set_new(msg, "jsonrpc", json_string("2.0"));
    json_object_set(msg, "id", id ? id : json_null());
    if (error) {
        json_object_set_new(msg, "error", error);
        json_decref(result);
    } else {
        json_object_set_new(msg, "result", result ? result : json_object());
    }
    if (b) {
        json_array_append_new(b->replies, msg);
        return;
    }
    vml__mcp_send(m, msg);
}

void vml__mcp_reply_error(vml_mcp *m, vml_mcp_batch *b, json_t *id, int code, const char *fmt, ...)
{
    char buf[VML_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    vml__mcp_reply(m, b, id, NULL, vml__mcp_error_obj(code, buf, NULL));
}

void vml__mcp_notify(vml_mcp *m, const char *method, json_t *params)
{
    json_t *msg = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
    if (params)
        json_object_set_new(msg, "params", params);
    vml__mcp_send(m, msg);
}

void vml__mcp_short_message(const char *msg, char *buf, size_t n)
{
    const char *tb = strstr(msg, "\nstack traceback:");
    size_t len = tb ? (size_t)(tb - msg) : strlen(msg);
    snprintf(buf, n, "%.*s", (int)len, msg);
}

/* }===================================================================== */

/* {===================================================================== requests in flight */

json_t *vml__mcp_ptr_json(void *p)
{
    return json_integer((json_int_t)(uintptr_t)p);
}

void *vml__mcp_json_ptr(const json_t *j)
{
    return j ? (void *)(uintptr_t)json_integer_value(j) : NULL;
}

/* The key of a request id in m->inflight: "i<integer>" or "s<string>" (so 1 and "1" differ);
 * jansson keys are C strings, so a string with NULs is kept apart in its JSON form. malloc'd. */
static char *id_key(const json_t *id)
{
    char *key;
    if (json_is_integer(id)) {
        key = malloc(24);
        if (key)
            snprintf(key, 24, "i%" JSON_INTEGER_FORMAT, json_integer_value(id));
        return key;
    }
    if (vml__mcp_c_string(id)) {
        size_t n = json_string_length(id);
        key = malloc(n + 2);
        if (key) {
            key[0] = 's';
            memcpy(key + 1, json_string_value(id), n + 1);
        }
        return key;
    }
    return json_dumps(id, VML_MCP_WRITE_FLAGS);
}

vml_mcp_req *vml__mcp_req_new(vml_mcp *m, json_t *id, vml_mcp_batch *b)
{
    vml_mcp_req *r = calloc(1, sizeof *r);
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
    json_object_set_new(m->inflight, r->key, vml__mcp_ptr_json(r));
    r->next = m->reqs;
    if (m->reqs)
        m->reqs->prev = r;
    m->reqs = r;
    m->n_reqs++;
    if (b)
        b->pending++;
    return r;
}

static void batch_done(vml_mcp *m, vml_mcp_batch *b)
{
    if (--b->pending > 0)
        return;
    if (json_array_size(b->replies) > 0)
        send_line(m, b->replies);
    json_decref(b->replies);
    free(b);
}

void vml__mcp_req_free(vml_mcp_req *r)
{
    vml_mcp *m = r->m;
    vml_mcp_batch *b = r->batch;
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

vml_mcp_req *vml__mcp_req_by_serial(vml_mcp *m, long serial)
{
    vml_mcp_req *r;
    for (r = m->reqs; r; r = r->next)
        if (r->serial == serial)
            return r;
    return NULL;
}

size_t vml_mcp_inflight(const vml_mcp *m)
{
    return m->n_reqs;
}

int vml_mcp_busy(const vml_mcp *m)
{
    return m->n_reqs >= VML_MCP_MAX_INFLIGHT;
}

static void do_cancelled(vml_mcp *m, json_t *params)
{
    json_t *rid = json_object_get(params, "requestId");
    char *key;
    vml_mcp_req *r;
    if (!json_is_string(rid) && !json_is_integer(rid))
        return;
    key = id_key(rid);
    r = key ? vml__mcp_json_ptr(json_object_get(m->inflight, key)) : NULL;
    free(key);
    if (!r || r->cancelled)
        return; /* unknown or finished: ignored, as the spec says */
    r->cancelled = 1;
    if (r->task)
        vml_task_cancel(r->task, VML_ECANCELED);
}

/* }===================================================================== */

/* {===================================================================== methods handled in Lua */

/* server.dispatch(method, params, serial, version) ended: its result table is the reply. */
static void lua_done(vml_task *t, int rc, const vml_err *err, void *ud)
{
    vml_mcp_req *r = ud;
    vml_mcp *m = r->m;
    lua_State *co = vml_task_thread(t);
    json_t *result = NULL;
    vml_err e;
    r->task = NULL;
    if (r->cancelled)
        goto out;
    if (rc < 0) {
        int code = VML_MCP_E_INTERNAL;
        char msg[VML_ERR_MSG_MAX];
        if (lua_gettop(co) > 0 && lua_istable(co, -1)) {
            const char *c;
            lua_getfield(co, -1, "code");
            c = lua_tostring(co, -1);
            if (c && strcmp(c, "VML_ENOENT") == 0)
                code = strncmp(r->method, "resources/", 10) == 0 ? VML_MCP_E_RESOURCE_NOT_FOUND
                                                                 : VML_MCP_E_PARAMS;
            else if (c && (strcmp(c, "VML_EINVAL") == 0 || strcmp(c, "VML_EUSAGE") == 0))
                code = VML_MCP_E_PARAMS;
            lua_pop(co, 1);
        }
        vml__mcp_short_message(vml_err_msg(err), msg, sizeof msg);
        if (code == VML_MCP_E_INTERNAL)
            vml__mcp_log("error", "%s failed: %s", r->method, vml_err_msg(err));
        vml__mcp_reply(m, r->batch, r->id, NULL, vml__mcp_error_obj(code, msg, NULL));
        goto out;
    }
    if (lua_gettop(co) < 1 || vml_luajson_to_json(co, 1, &result, &e) < 0 ||
        !json_is_object(result)) {
        json_decref(result);
        vml__mcp_reply_error(m, r->batch, r->id, VML_MCP_E_INTERNAL, "%s produced no valid result",
                             r->method);
        goto out;
    }
    vml__mcp_reply(m, r->batch, r->id, result, NULL);
out:
    vml__mcp_req_free(r);
}

static void do_lua(vml_mcp *m, vml_mcp_batch *b, json_t *id, const char *method, json_t *params)
{
    lua_State *L = m->s->L;
    vml_err err;
    vml_mcp_req *r = vml__mcp_req_new(m, id, b);
    if (!r) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INTERNAL, "out of memory");
        return;
    }
    r->method = strdup(method);
    vml__mcp_push_server_fn(m, "dispatch");
    lua_pushstring(L, method);
    if (vml_luajson_push(L, params, &err) < 0) {
        lua_pop(L, 2);
        vml__mcp_reply_error(m, b, id, VML_MCP_E_PARAMS, "params: %s", vml_err_msg(&err));
        vml__mcp_req_free(r);
        return;
    }
    lua_pushinteger(L, r->serial);
    lua_pushstring(L, vml_mcp_version(m));
    if (vml_task_spawn(m->s, 4, lua_done, r, &r->task, &err) < 0) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INTERNAL, "%s: %s", method, vml_err_msg(&err));
        vml__mcp_req_free(r);
    }
}

/* }===================================================================== */

/* {===================================================================== envelope and dispatch */

static int known_method(const char *method)
{
    static const char *const methods[] = {"initialize",          "ping",
                                          "logging/setLevel",    "tools/list",
                                          "tools/call",          "resources/list",
                                          "resources/read",      "resources/templates/list",
                                          "resources/subscribe", "resources/unsubscribe",
                                          "prompts/list",        "prompts/get",
                                          "completion/complete", NULL};
    const char *const *p;
    for (p = methods; *p; p++)
        if (strcmp(*p, method) == 0)
            return 1;
    return 0;
}

static void handle_request(vml_mcp *m, vml_mcp_batch *b, json_t *id, const char *method,
                           json_t *params)
{
    json_t *empty = NULL;
    if (!params) {
        empty = json_object();
        params = empty;
    }
    if (strcmp(method, "ping") == 0) {
        vml__mcp_reply(m, b, id, json_object(), NULL);
        goto out;
    }
    if (strcmp(method, "initialize") == 0) {
        if (b) {
            vml__mcp_reply_error(m, b, id, VML_MCP_E_INVALID_REQUEST,
                                 "initialize must not be part of a batch");
            goto out;
        }
        vml__mcp_initialize(m, b, id, params);
        goto out;
    }
    if (!known_method(method)) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_METHOD,
                             "method '%.200s' not found (this server speaks MCP: tools/*, "
                             "resources/*, prompts/..., completion/complete, logging/setLevel, "
                             "ping)",
                             method);
        goto out;
    }
    if (!m->initialized) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INVALID_REQUEST,
                             "the session is not initialized: send initialize first");
        goto out;
    }
    if (m->shutting_down) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INTERNAL, "the server is shutting down");
        goto out;
    }
    if (vml__mcp_ensure_lua(m) < 0) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INTERNAL,
                             "the server could not start its tools: %s", vml_err_msg(&m->lua_err));
        goto out;
    }
    if (strcmp(method, "logging/setLevel") == 0)
        vml__mcp_set_level(m, b, id, params);
    else if (strcmp(method, "tools/list") == 0)
        vml__mcp_tools_list(m, b, id, params);
    else if (strcmp(method, "tools/call") == 0)
        vml__mcp_tools_call(m, b, id, params);
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
static void handle_object(vml_mcp *m, vml_mcp_batch *b, json_t *msg)
{
    json_t *jv, *id, *method, *params;
    if (!json_is_object(msg)) {
        vml__mcp_reply_error(m, b, NULL, VML_MCP_E_INVALID_REQUEST,
                             "a message must be a JSON object with jsonrpc \"2.0\"");
        return;
    }
    id = json_object_get(msg, "id");
    method = json_object_get(msg, "method");
    params = json_object_get(msg, "params");
    if (id && !json_is_string(id) && !json_is_integer(id)) {
        vml__mcp_reply_error(m, b, NULL, VML_MCP_E_INVALID_REQUEST,
                             "id: must be a string or an integer (got %s)",
                             json_is_null(id)     ? "null"
                             : json_is_real(id)   ? "a fractional number"
                             : json_is_object(id) ? "an object"
                             : json_is_array(id)  ? "an array"
                                                  : "a boolean");
        return;
    }
    jv = json_object_get(msg, "jsonrpc");
    if (!json_is_string(jv) || strcmp(json_string_value(jv), "2.0") != 0) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INVALID_REQUEST,
                             "jsonrpc: must be the string \"2.0\"");
        return;
    }
    if (!method) {
        if (id && (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
            vml__mcp_handle_response(m, msg);
            return;
        }
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INVALID_REQUEST,
                             "method: required (a request needs a method; a response needs "
                             "result or error)");
        return;
    }
    if (!vml__mcp_c_string(method)) {
        vml__mcp_reply_error(m, b, id, VML_MCP_E_INVALID_REQUEST,
                             "method: must be a string without NUL characters");
        return;
    }
    if (params && !json_is_object(params)) {
        if (id)
            vml__mcp_reply_error(
                m, b, id, json_is_array(params) ? VML_MCP_E_PARAMS : VML_MCP_E_INVALID_REQUEST,
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
            vml__mcp_reply_error(m, b, id, VML_MCP_E_INVALID_REQUEST,
                                 "id: a request with this id is still running; ids must be "
                                 "unique");
            return;
        }
    }
    handle_request(m, b, id, json_string_value(method), params);
}

static void handle_batch(vml_mcp *m, json_t *msg)
{
    vml_mcp_batch *b;
    json_t *e;
    size_t i;
    const char *v = vml_mcp_version(m);
    if (!vml__mcp_ver_at_least(m, "2025-03-26") || vml__mcp_ver_at_least(m, "2025-06-18")) {
        vml__mcp_reply_error(m, NULL, NULL, VML_MCP_E_INVALID_REQUEST,
                             "batches are not allowed %s%s (JSON-RPC batching exists only in "
                             "protocol 2025-03-26); send one message per line",
                             v ? "in protocol " : "before initialize", v ? v : "");
        return;
    }
    if (json_array_size(msg) == 0) {
        vml__mcp_reply_error(m, NULL, NULL, VML_MCP_E_INVALID_REQUEST,
                             "an empty batch is not a request");
        return;
    }
    b = calloc(1, sizeof *b);
    if (!b || !(b->replies = json_array())) {
        free(b);
        return;
    }
    b->pending = 1; /* held until every element was dispatched */
    json_array_foreach (msg, i, e)
        handle_object(m, b, e);
    batch_done(m, b);
}

void vml_mcp_handle(vml_mcp *m, const char *text, size_t len)
{
    json_t *msg;
    size_t i, pos = 0;
    vml_err perr;
    int rc;
    while (len && (text[len - 1] == '\r' || text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    for (i = 0; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
        ;
    if (i == len)
        return; /* blank line */
    rc = vml_mcp_parse(text, len, &msg, &pos, &perr);
    if (rc == VML_ELIMIT) { /* valid JSON, but not a request this server can take */
        vml__mcp_reply_error(m, NULL, NULL, VML_MCP_E_INVALID_REQUEST, "%s", perr.msg);
        return;
    }
    if (rc < 0) {
        vml__mcp_reply(m, NULL, NULL, NULL,
                       vml__mcp_error_obj(VML_MCP_E_PARSE,
                                          "parse error: the line is not valid JSON (UTF-8)",
                                          json_pack("{s:s, s:I}", "detail", perr.msg, "position",
                                                    (json_int_t)pos)));
        return;
    }
    if (json_is_array(msg))
        handle_batch(m, msg);
    else
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
    vml__mcp_reply_error(m, NULL, NULL, VML_MCP_E_INVALID_REQUEST,
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
