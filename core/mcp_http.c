/* SPDX-License-Identifier: MIT
 * mcp_http — Streamable HTTP transport (see mcp_http.h).
 *
 * Ownership: sessions and streams belong to the server struct on vml_mcp_http_serve's stack;
 * a stream holds its httpd request until it ends it; lines from vml_mcp are freed here. */
#include "mcp_http.h"

#include <arpa/inet.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/stat.h>

#include "embed.h"
#include "httpd.h"
#include "loop.h"
#include "paths.h"

typedef struct stream {
    struct stream *next;
    vml_httpd_req *r;
    json_t *ids;    /* request ids still to be answered on this stream */
    json_t *tokens; /* progress tokens its requests gave */
    int batch;      /* a batch: its one answer line (an array) ends the stream */
    int dead;       /* the client went away: writes are skipped */
} stream;

typedef struct server server;

typedef struct session {
    struct session *next;
    server *srv;
    char id[33];
    vml_mcp *m;
    stream *streams; /* open POST streams, newest first */
    stream *get;     /* the standalone GET stream, or NULL */
    uint64_t last_used;
    int ending;
    /* While a POST is being handled: the answers vml_mcp gives at once that no stream waits
     * for (an envelope error, id null) belong to that POST. */
    stream *capture; /* its stream, or NULL */
    char *captured;  /* a POST without a stream (notifications): the error line, owned */
    size_t captured_len;
    int capturing;
} session;

struct server {
    vml_mcp_opts base;
    vml_httpd *httpd;
    vml_mcp *primary; /* runs the services; belongs to no session */
    session *sessions;
    size_t n_sessions;
    char *token;
    char addr[64];
    uv_signal_t sigterm, sigint;
    uv_timer_t sweep;
    int stop;
};

static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
                                       NULL};

/* {===================================================================== streams */

static void stream_free(stream *st)
{
    json_decref(st->ids);
    json_decref(st->tokens);
    free(st);
}

static void stream_send(stream *st, const char *line, size_t len)
{
    static const char head[] = "event: message\ndata: ";
    if (st->dead)
        return;
    if (vml_httpd_stream_write(st->r, head, sizeof head - 1) < 0 ||
        vml_httpd_stream_write(st->r, line, len) < 0 || vml_httpd_stream_write(st->r, "\n", 1) < 0)
        st->dead = 1;
}

/* Ends a POST stream and unlinks it from its session. */
static void stream_close(session *s, stream *st)
{
    stream **pp;
    for (pp = &s->streams; *pp; pp = &(*pp)->next)
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    vml_httpd_stream_end(st->r);
    stream_free(st);
}

static void get_close(session *s)
{
    if (s->get) {
        vml_httpd_stream_end(s->get->r);
        stream_free(s->get);
        s->get = NULL;
    }
}

static int take_id(json_t *ids, json_t *id)
{
    size_t i;
    json_t *v;
    json_array_foreach (ids, i, v) {
        if (json_equal(v, id)) {
            json_array_remove(ids, i);
            return 1;
        }
    }
    return 0;
}

static int has_value(json_t *arr, json_t *v)
{
    size_t i;
    json_t *x;
    json_array_foreach (arr, i, x) {
        if (json_equal(x, v))
            return 1;
    }
    return 0;
}

/* }===================================================================== */

/* {===================================================================== routing */

/* The batch stream of s that waits for any of the ids in arr (a batch's answers), else, when
 * no POST is being handled, the oldest open batch stream. */
static stream *batch_stream(session *s, json_t *arr)
{
    stream *st, *oldest = NULL;
    size_t i;
    json_t *e;
    for (st = s->streams; st; st = st->next) {
        if (!st->batch)
            continue;
        oldest = st;
        json_array_foreach (arr, i, e) {
            json_t *id = json_object_get(e, "id");
            if (id && !json_is_null(id) && has_value(st->ids, id))
                return st;
        }
    }
    return s->capturing ? NULL : oldest;
}

/* vml_mcp's write callback: takes ownership of line. */
static int session_write(void *ud, char *line, size_t len)
{
    session *s = ud;
    json_t *msg = NULL, *id, *method;
    stream *st, *target = NULL;

    if (s->ending)
        goto out;
    if (vml_mcp_parse(line, len, &msg, NULL, NULL) < 0)
        goto out;
    if (json_is_array(msg)) {
        /* a batch's answers, all in one line: they end the batch's stream */
        st = batch_stream(s, msg);
        if (!st && s->capturing)
            st = s->capture; /* the answer to the POST being handled */
        if (!st && s->capturing && !s->captured) {
            s->captured = line;
            s->captured_len = len;
            line = NULL;
        } else if (st) {
            stream_send(st, line, len);
            stream_close(s, st);
            if (s->capture == st)
                s->capture = NULL;
        }
        goto out;
    }
    if (!json_is_object(msg))
        goto out;
    id = json_object_get(msg, "id");
    method = json_object_get(msg, "method");
    if (id && !method && (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
        /* a response: the stream that carries its request */
        if (!json_is_null(id))
            for (st = s->streams; st; st = st->next)
                if (take_id(st->ids, id)) {
                    stream_send(st, line, len);
                    if (json_array_size(st->ids) == 0)
                        stream_close(s, st);
                    goto out;
                }
        /* an answer nobody waits for, given while a POST is handled: that POST's envelope was
         * refused (id null, or an id the transport did not take for a request) */
        if (s->capture) {
            stream_send(s->capture, line, len);
            if (json_is_null(id) || json_array_size(s->capture->ids) == 0) {
                stream_close(s, s->capture);
                s->capture = NULL;
            }
        } else if (s->capturing && !s->captured) {
            s->captured = line;
            s->captured_len = len;
            line = NULL;
        }
        goto out; /* else nobody waits for it (its stream ended) */
    }
    if (json_is_string(method) &&
        strcmp(json_string_value(method), "notifications/progress") == 0) {
        json_t *token = json_object_get(json_object_get(msg, "params"), "progressToken");
        for (st = s->streams; st && !target; st = st->next)
            if (token && has_value(st->tokens, token))
                target = st;
    }
    if (!target)
        target = s->streams ? s->streams : s->get;
    if (target)
        stream_send(target, line, len);
out:
    json_decref(msg);
    free(line);
    return 0;
}

static int discard_write(void *ud, char *line, size_t len)
{
    (void)ud;
    (void)len;
    free(line);
    return 0;
}

/* }===================================================================== */

/* {===================================================================== sessions */

static void session_end(server *srv, session *s)
{
    session **pp;
    for (pp = &srv->sessions; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            srv->n_sessions--;
            break;
        }
    s->ending = 1;
    vml_mcp_free(s->m);
    free(s->captured);
    while (s->streams)
        stream_close(s, s->streams);
    get_close(s);
    free(s);
}

static session *session_find(server *srv, const char *id)
{
    session *s;
    if (!id)
        return NULL;
    for (s = srv->sessions; s; s = s->next)
        if (strcmp(s->id, id) == 0)
            return s;
    return NULL;
}

/* Makes room for one more session: ends the one idle longest among those with no request open
 * or running, preferring one without a GET stream (a client holding only a GET stream is told
 * by its end, and initializes again). Returns 0, or -1 when every session is busy. */
static int session_make_room(server *srv)
{
    session *s, *victim = NULL;
    if (srv->n_sessions < VML_MCP_HTTP_MAX_SESSIONS)
        return 0;
    for (s = srv->sessions; s; s = s->next) {
        if (s->streams || vml_mcp_inflight(s->m) > 0)
            continue;
        if (!victim || (!s->get && victim->get) ||
            (!s->get == !victim->get && s->last_used < victim->last_used))
            victim = s;
    }
    if (!victim)
        return -1;
    session_end(srv, victim);
    return 0;
}

static session *session_new(server *srv, vml_err *err)
{
    session *s;
    unsigned char raw[16];
    vml_mcp_opts opts = srv->base;
    size_t i;
    if (session_make_room(srv) < 0) {
        vml_err_set(err, VML_EBUSY,
                    "too many sessions (%d), all of them busy: try again when "
                    "one ends",
                    VML_MCP_HTTP_MAX_SESSIONS);
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        vml_err_set(err, VML_ENOMEM, "out of memory");
        return NULL;
    }
    randombytes_buf(raw, sizeof raw);
    for (i = 0; i < sizeof raw; i++)
        snprintf(s->id + 2 * i, 3, "%02x", raw[i]);
    s->srv = srv;
    opts.write = session_write;
    opts.write_ud = s;
    opts.wake = NULL;
    opts.no_services = 1;
    if (vml_mcp_new(&opts, &s->m, err) < 0) {
        free(s);
        return NULL;
    }
    s->last_used = uv_now(vml_loop());
    s->next = srv->sessions;
    srv->sessions = s;
    srv->n_sessions++;
    return s;
}

/* }===================================================================== */

/* {===================================================================== requests */

static void respond_error(vml_httpd_req *r, int status, int code, const char *msg)
{
    json_t *j = json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "error", "code", code,
                          "message", msg);
    char *text = json_dumps(j, JSON_COMPACT);
    vml_httpd_respond(r, status, "application/json", text ? text : "{}", text ? strlen(text) : 2,
                      NULL);
    free(text);
    json_decref(j);
}

/* Host names we serve under: loopback names, plus the bound address when it is not a
 * wildcard. host is the Host header or an Origin's host, without its port. */
static int host_ok(server *srv, const char *host, size_t n)
{
    static const char *const names[] = {"localhost", "127.0.0.1", "[::1]", "::1", NULL};
    int i;
    for (i = 0; names[i]; i++)
        if (strlen(names[i]) == n && strncasecmp(host, names[i], n) == 0)
            return 1;
    if (strcmp(srv->addr, "0.0.0.0") != 0 && strcmp(srv->addr, "::") != 0 &&
        strlen(srv->addr) == n && strncasecmp(host, srv->addr, n) == 0)
        return 1;
    return 0;
}

/* "name:port" or "[v6]:port" -> the length of the host part. */
static size_t host_len(const char *h)
{
    const char *end;
    if (h[0] == '[') {
        end = strchr(h, ']');
        return end ? (size_t)(end - h + 1) : strlen(h);
    }
    end = strchr(h, ':');
    return end ? (size_t)(end - h) : strlen(h);
}

static int origin_ok(server *srv, const char *origin)
{
    const char *p = strstr(origin, "://");
    if (!p)
        return 0;
    p += 3;
    return host_ok(srv, p, host_len(p));
}

/* 1 when the negotiated version allows JSON-RPC batches (2025-03-26 only). */
static int is_batch_version(const char *v)
{
    return v && strcmp(v, "2025-03-26") == 0;
}

/* Counts the requests in msg (an object or a batch) and collects their ids and tokens. */
static size_t collect(json_t *msg, json_t *ids, json_t *tokens, int *is_init)
{
    size_t i, n = 0;
    json_t *m;
    if (json_is_array(msg)) {
        json_array_foreach (msg, i, m)
            n += collect(m, ids, tokens, is_init);
        return n;
    }
    /* a request: a string method and an id that is a string or an integer (as vml_mcp checks;
     * 1.5, true, {} or an integer past 64 bits is answered with an id-null error instead) */
    if (!json_is_object(msg) || !json_is_string(json_object_get(msg, "method")) ||
        !(json_is_string(json_object_get(msg, "id")) ||
          json_is_integer(json_object_get(msg, "id"))))
        return 0;
    json_array_append(ids, json_object_get(msg, "id"));
    {
        json_t *tok = json_object_get(json_object_get(json_object_get(msg, "params"), "_meta"),
                                      "progressToken");
        if (tok)
            json_array_append(tokens, tok);
    }
    if (strcmp(json_string_value(json_object_get(msg, "method")), "initialize") == 0)
        *is_init = 1;
    return 1;
}

static void handle_post(server *srv, vml_httpd_req *r, session *s)
{
    size_t len;
    const char *body = vml_httpd_req_body(r, &len);
    const char *accept = vml_httpd_req_header(r, "Accept");
    json_t *msg = NULL;
    json_t *ids = json_array(), *tokens = json_array();
    int is_init = 0;
    size_t nreq;
    vml_err err;

    /* the same reader as the server behind it, so both agree on what is JSON */
    if (vml_mcp_parse(body, len, &msg, NULL, &err) < 0) {
        if (err.code == VML_ELIMIT) /* valid JSON, but not a request this server can take */
            respond_error(r, 400, -32600, vml_err_msg(&err));
        else
            respond_error(r, 400, -32700, "Parse error: the body is not JSON");
        goto out;
    }
    nreq = collect(msg, ids, tokens, &is_init);
    if (is_init) {
        if (json_is_array(msg)) {
            respond_error(r, 400, -32600, "initialize cannot be part of a batch");
            goto out;
        }
        s = session_new(srv, &err);
        if (!s) {
            respond_error(r, err.code == VML_EBUSY ? 503 : 500, -32603, vml_err_msg(&err));
            goto out;
        }
    } else if (!s) {
        const char *sid = vml_httpd_req_header(r, "Mcp-Session-Id");
        if (!sid)
            respond_error(r, 400, -32600,
                          "Bad Request: Mcp-Session-Id header is required; "
                          "send initialize first");
        else
            respond_error(r, 404, -32001, "Session not found: initialize again");
        goto out;
    }
    s->last_used = uv_now(vml_loop());
    if (json_is_array(msg) && !is_batch_version(vml_mcp_version(s->m))) {
        /* refused here: vml_mcp answers a batch it refuses with one id-null error, which no
         * stream waiting for the batch's ids would ever take */
        char text[200];
        snprintf(text, sizeof text,
                 "Invalid Request: batches are not allowed in protocol %s "
                 "(JSON-RPC batching exists only in 2025-03-26); send one "
                 "message per POST",
                 vml_mcp_version(s->m));
        respond_error(r, 400, -32600, text);
        goto out;
    }
    if (nreq == 0) {
        /* notifications and responses get 202; a message vml_mcp refuses (an id that is not a
         * string or an integer, a bad envelope) gets its error, at once, as a 400 */
        s->capturing = 1;
        vml_mcp_handle(s->m, body, len);
        s->capturing = 0;
        if (s->captured) {
            size_t n = s->captured_len;
            while (n && s->captured[n - 1] == '\n')
                n--;
            vml_httpd_respond(r, 400, "application/json", s->captured, n, NULL);
            free(s->captured);
            s->captured = NULL;
        } else {
            vml_httpd_respond(r, 202, NULL, NULL, 0, NULL);
        }
        goto out;
    }
    if (accept && !strstr(accept, "text/event-stream") && !strstr(accept, "*/*")) {
        respond_error(r, 406, -32600, "Not Acceptable: the client must accept text/event-stream");
        goto out;
    }
    {
        const char *hs[] = {"Cache-Control", "no-cache", "Mcp-Session-Id", s->id, NULL};
        stream *st = calloc(1, sizeof *st);
        if (!st) {
            respond_error(r, 500, -32603, "out of memory");
            goto out;
        }
        vml_httpd_stream_begin(r, 200, "text/event-stream", hs);
        st->r = r;
        st->ids = ids;
        st->tokens = tokens;
        st->batch = json_is_array(msg);
        ids = tokens = NULL;
        st->next = s->streams;
        s->streams = st;
        /* answers may come back at once (ping) or much later (a tool call); session_write routes
         * them and ends the stream after its last response */
        s->capturing = 1;
        s->capture = st;
        vml_mcp_handle(s->m, body, len);
        s->capturing = 0;
        s->capture = NULL;
    }
out:
    json_decref(msg);
    json_decref(ids);
    json_decref(tokens);
}

/* {===================================================================== job pages */

/* GET /jobs/<id>: the job dashboard (lua/vibeml/ui/job_dashboard.html, the same file clients
 * that render MCP Apps get as ui://vibeml/job-dashboard). The page has no host to give it data:
 * it speaks MCP to /mcp on this origin, so Host, Origin and the token are checked for it as for
 * any client. Here only the id is checked: its grammar, and that the job has a folder (every job
 * gets state/jobs/<id> when it is created, lua/vibeml/jobs/db.lua). */

#define DASHBOARD_FILE "lua/vibeml/ui/job_dashboard.html"

/* 1 when id looks like a job id: letters, digits, '-', '_', 1-64 characters (never '.' or '/',
 * so it cannot leave the jobs folder). */
static int job_id_ok(const char *id)
{
    size_t n = strlen(id), i;
    if (n == 0 || n > 64)
        return 0;
    for (i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static void page_respond(vml_httpd_req *r, int status, const char *body, size_t len)
{
    /* the page loads nothing from anywhere; it may only talk to this origin (/mcp) */
    static const char *const hs[] = {
        "Content-Security-Policy",
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'",
        "X-Content-Type-Options",
        "nosniff",
        "Cache-Control",
        "no-store",
        "Referrer-Policy",
        "no-referrer",
        NULL};
    vml_httpd_respond(r, status, "text/html; charset=utf-8", body, len, hs);
}

static void page_error(vml_httpd_req *r, int status, const char *title, const char *what)
{
    char body[1024];
    int n = snprintf(body, sizeof body,
                     "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s"
                     "</title></head><body style=\"font-family:system-ui,sans-serif;margin:2em\">"
                     "<h1>%s</h1><p>%s</p></body></html>\n",
                     title, title, what);
    page_respond(r, status, body, n > 0 && (size_t)n < sizeof body ? (size_t)n : strlen(body));
}

static void handle_job_page(vml_httpd_req *r, const char *id)
{
    const vml_embed_file *f;
    char rel[128], dir[4096];
    struct stat sb;
    vml_err err;

    if (strcmp(vml_httpd_req_method(r), "GET") != 0) {
        static const char *const allow[] = {"Allow", "GET", NULL};
        vml_httpd_respond(r, 405, "text/plain", "method not allowed: the job page is GET only\n",
                          46, allow);
        return;
    }
    if (!job_id_ok(id)) {
        page_error(r, 404, "No such job",
                   "A job id is letters, digits, '-' and '_' (as list_jobs or "
                   "<code>vibeml jobs list</code> show them), for example /jobs/j261204-abc234.");
        return;
    }
    snprintf(rel, sizeof rel, "jobs/%s", id);
    if (vml_paths_join(VML_PATH_STATE, rel, dir, sizeof dir, 0, &err) < 0 || stat(dir, &sb) != 0 ||
        !S_ISDIR(sb.st_mode)) {
        page_error(r, 404, "No such job",
                   "This server has no job with that id. List the jobs with list_jobs or "
                   "<code>vibeml jobs list</code>, then open /jobs/&lt;id&gt;.");
        return;
    }
    f = vml_embed_find(DASHBOARD_FILE);
    if (!f) {
        page_error(r, 500, "Dashboard missing", "This build has no " DASHBOARD_FILE ".");
        return;
    }
    page_respond(r, 200, f->data, f->len);
}

/* }===================================================================== */

/* vml_httpd_check: runs on a connection thread before any body byte is read, so a request
 * from a web page (DNS rebinding) or without the token costs no body. Reads only srv->addr and
 * srv->token, which do not change while the server runs. */
static int check_headers(const vml_httpd_req *r, void *ud, const char **body,
                         const char *const **headers)
{
    server *srv = ud;
    const char *host = vml_httpd_req_header(r, "Host");
    const char *origin = vml_httpd_req_header(r, "Origin");
    if (!host || !host_ok(srv, host, host_len(host)) || (origin && !origin_ok(srv, origin))) {
        *body = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":"
                "\"Forbidden: Host or Origin is not a local address (DNS rebinding "
                "protection)\"}}";
        return 403;
    }
    if (srv->token) {
        const char *auth = vml_httpd_req_header(r, "Authorization");
        size_t tl = strlen(srv->token);
        if (!auth || strncmp(auth, "Bearer ", 7) != 0 || strlen(auth + 7) != tl ||
            sodium_memcmp(auth + 7, srv->token, tl) != 0) {
            static const char *const hs[] = {"WWW-Authenticate", "Bearer", NULL};
            *body = "{\"error\":\"unauthorized: send Authorization: Bearer <token from "
                    "--token-file>\"}";
            *headers = hs;
            return 401;
        }
    }
    return 0;
}

static void on_request(vml_httpd_req *r, void *ud)
{
    server *srv = ud;
    const char *method = vml_httpd_req_method(r);
    const char *pv = vml_httpd_req_header(r, "MCP-Protocol-Version");
    const char *sid = vml_httpd_req_header(r, "Mcp-Session-Id");
    const char *path = vml_httpd_req_path(r);
    session *s;
    int i;

    /* Host, Origin and the token were checked on the headers (check_headers) */
    if (strncmp(path, "/jobs/", 6) == 0) {
        handle_job_page(r, path + 6);
        return;
    }
    if (strcmp(path, "/mcp") != 0) {
        respond_error(r, 404, -32600,
                      "Not Found: the MCP endpoint is /mcp (job pages: /jobs/<id>)");
        return;
    }
    if (pv) {
        for (i = 0; versions[i] && strcmp(versions[i], pv) != 0; i++)
            ;
        if (!versions[i]) {
            respond_error(r, 400, -32600,
                          "Bad Request: unsupported MCP-Protocol-Version "
                          "(supported: 2025-11-25, 2025-06-18, 2025-03-26, "
                          "2024-11-05)");
            return;
        }
    }
    s = session_find(srv, sid);
    if (strcmp(method, "POST") == 0) {
        if (sid && !s) {
            respond_error(r, 404, -32001, "Session not found: initialize again");
            return;
        }
        handle_post(srv, r, s);
    } else if (strcmp(method, "GET") == 0) {
        const char *accept = vml_httpd_req_header(r, "Accept");
        static const char *const allow[] = {"Allow", "GET, POST, DELETE", NULL};
        if (!accept || !strstr(accept, "text/event-stream")) {
            vml_httpd_respond(r, 405, "text/plain", "GET needs Accept: text/event-stream\n", 36,
                              allow);
            return;
        }
        if (!s) {
            respond_error(r, sid ? 404 : 400, sid ? -32001 : -32600,
                          sid ? "Session not found" : "Mcp-Session-Id header is required");
            return;
        }
        get_close(s);
        s->get = calloc(1, sizeof *s->get);
        if (!s->get) {
            respond_error(r, 500, -32603, "out of memory");
            return;
        }
        s->get->r = r;
        {
            const char *hs[] = {"Cache-Control", "no-cache", "Mcp-Session-Id", s->id, NULL};
            vml_httpd_stream_begin(r, 200, "text/event-stream", hs);
        }
        s->last_used = uv_now(vml_loop());
    } else if (strcmp(method, "DELETE") == 0) {
        if (!s) {
            respond_error(r, sid ? 404 : 400, sid ? -32001 : -32600,
                          sid ? "Session not found" : "Mcp-Session-Id header is required");
            return;
        }
        session_end(srv, s);
        vml_httpd_respond(r, 200, NULL, NULL, 0, NULL);
    } else {
        static const char *const allow[] = {"Allow", "GET, POST, DELETE", NULL};
        vml_httpd_respond(r, 405, "text/plain", "method not allowed\n", 19, allow);
    }
}

/* }===================================================================== */

/* Every 15 s: a comment line on each GET stream (finds clients that went away) and the end of
 * sessions idle past VML_MCP_HTTP_IDLE_S with nothing open. */
static void on_sweep(uv_timer_t *t)
{
    server *srv = t->data;
    session *s = srv->sessions, *next;
    uint64_t now = uv_now(vml_loop());
    for (; s; s = next) {
        next = s->next;
        if (s->get && vml_httpd_stream_write(s->get->r, ":\n\n", 3) < 0)
            get_close(s);
        if (!s->get && !s->streams && now - s->last_used > (uint64_t)VML_MCP_HTTP_IDLE_S * 1000 &&
            vml_mcp_inflight(s->m) == 0)
            session_end(srv, s);
    }
}

static void on_signal(uv_signal_t *h, int sig)
{
    server *srv = h->data;
    (void)sig;
    srv->stop = 1;
}

static void noop_close(uv_handle_t *h)
{
    (void)h;
}

/* 1 when addr is a loopback address (127.0.0.0/8, ::1), the only ones where the Host check
 * alone keeps other machines out. */
static int is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

int vml_mcp_http_serve(const vml_mcp_opts *opts, const char *addr, int port, const char *token)
{
    server srv;
    vml_err err;
    vml_mcp_opts popts;
    uv_loop_t *loop = vml_loop();
    int code = 0;

    /* Off loopback, the Host check is no protection (any client can send "Host: localhost"):
     * refuse before anything listens. */
    if (!is_loopback(addr) && !(token && *token)) {
        fprintf(stderr,
                "vibeml serve: --http %s is reachable from other machines, and without a token "
                "anyone who can reach it could launch paid jobs. Add --token-file FILE (a file "
                "holding a random token of at least 16 characters, mode 0600; clients send "
                "`Authorization: Bearer <token>`), or bind to 127.0.0.1\n",
                addr);
        return 1;
    }
    memset(&srv, 0, sizeof srv);
    srv.base = *opts;
    snprintf(srv.addr, sizeof srv.addr, "%s", addr);
    if (token && *token && !(srv.token = strdup(token))) {
        fprintf(stderr, "vibeml serve: out of memory\n");
        return 1;
    }
    popts = *opts;
    popts.write = discard_write;
    popts.write_ud = NULL;
    popts.no_services = 0;
    if (vml_mcp_new(&popts, &srv.primary, &err) < 0 || vml_mcp_start(srv.primary, &err) < 0) {
        fprintf(stderr, "vibeml serve: %s\n", vml_err_msg(&err));
        vml_mcp_free(srv.primary);
        free(srv.token);
        return 1;
    }
    {
        /* VIBEML_HTTP_TIMEOUT_S: the idle timeout of a connection (tests make it short) */
        vml_httpd_limits lim;
        const char *t = getenv("VIBEML_HTTP_TIMEOUT_S");
        memset(&lim, 0, sizeof lim);
        if (t && atoi(t) > 0)
            lim.idle_timeout_s = (unsigned)atoi(t);
        if (vml_httpd_start(addr, port, on_request, check_headers, &srv, &lim, &srv.httpd, &err) <
            0) {
            fprintf(stderr, "vibeml serve: %s\n", vml_err_msg(&err));
            vml_mcp_free(srv.primary);
            free(srv.token);
            return 1;
        }
    }
    fprintf(stderr, "vibeml serve: listening on http://%s%s%s:%d/mcp%s\n",
            strchr(addr, ':') ? "[" : "", addr, strchr(addr, ':') ? "]" : "",
            vml_httpd_port(srv.httpd), srv.token ? " (bearer token required)" : "");
    uv_signal_init(loop, &srv.sigterm);
    uv_signal_init(loop, &srv.sigint);
    srv.sigterm.data = srv.sigint.data = &srv;
    uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
    uv_signal_start(&srv.sigint, on_signal, SIGINT);
    uv_timer_init(loop, &srv.sweep);
    srv.sweep.data = &srv;
    uv_timer_start(&srv.sweep, on_sweep, 15000, 15000);
    while (!srv.stop)
        uv_run(loop, UV_RUN_ONCE);
    while (srv.sessions)
        session_end(&srv, srv.sessions);
    vml_httpd_stop(srv.httpd);
    vml_mcp_free(srv.primary);
    uv_timer_stop(&srv.sweep);
    uv_close((uv_handle_t *)&srv.sweep, noop_close);
    uv_close((uv_handle_t *)&srv.sigterm, noop_close);
    uv_close((uv_handle_t *)&srv.sigint, noop_close);
    uv_run(loop, UV_RUN_NOWAIT);
    free(srv.token);
    return code;
}
