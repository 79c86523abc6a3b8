/* SPDX-License-Identifier: MIT
 *
 * http — libcurl's multi interface on the libuv loop (see http.h).
 *
 * One CURLM per process. curl tells us which sockets to watch (socket callback → uv_poll per
 * socket) and when to wake it (timer callback → one uv_timer); the loop's events go back to curl
 * through curl_multi_socket_action, and finished transfers are collected with
 * curl_multi_info_read. Nothing here blocks.
 *
 * Uses: loop, err, libcurl, libuv.
 */
#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "loop.h"

struct vml_http_op {
    CURL *easy;
    struct curl_slist *hdrs;
    char *body; /* request body copy */
    char *url;
    char *outpath; /* output_file copy, or NULL */
    FILE *fp;
    size_t cap; /* allocated bytes of resp.body */
    size_t max_bytes;
    double timeout;
    int too_big;
    int write_failed;
    vml_http_resp resp;
    vml_http_resp *steal_to; /* vml_http_fetch: receives resp instead of freeing it */
    vml_http_done_fn done;
    void *ud;
    vml_http_op **out;
    char errbuf[CURL_ERROR_SIZE];
};

typedef struct sockctx {
    uv_poll_t poll;
    curl_socket_t fd;
} sockctx;

static struct {
    CURLM *multi;
    uv_timer_t timer;
    int ready;
    int active; /* transfers in progress; when 0 the timer is stopped so the loop may end */
} g;

static void transfer_gone(void)
{
    if (--g.active == 0)
        uv_timer_stop(&g.timer);
}

static void check_done(void);

/* --- curl <-> libuv glue ------------------------------------------------------------------ */

static void sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    sockctx *c = p->data;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    curl_multi_socket_action(g.multi, c->fd, flags, &running);
    check_done();
}

static void on_timer(uv_timer_t *t)
{
    int running;
    (void)t;
    curl_multi_socket_action(g.multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done();
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    sockctx *c = socketp;
    int events = 0;
    (void)easy;
    (void)userp;
    if (what == CURL_POLL_REMOVE) {
        if (c) {
            uv_poll_stop(&c->poll);
            uv_close((uv_handle_t *)&c->poll, sock_closed);
            curl_multi_assign(g.multi, s, NULL);
        }
        return 0;
    }
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return -1;
        if (uv_poll_init_socket(vml_loop(), &c->poll, s) < 0) {
            free(c);
            return -1;
        }
        c->fd = s;
        c->poll.data = c;
        curl_multi_assign(g.multi, s, c);
    }
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&c->poll, events, on_poll);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    (void)userp;
    if (timeout_ms < 0)
        uv_timer_stop(&g.timer);
    else /* 0 means "act now": on the next loop turn, never from inside curl */
        uv_timer_start(&g.timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

static int global_init(vml_err *err)
{
    if (g.ready)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return vml_err_set(err, VML_EHTTP, "libcurl failed to initialise");
    g.multi = curl_multi_init();
    if (!g.multi)
        return vml_err_set(err, VML_ENOMEM, "out of memory creating the HTTP client");
    uv_timer_init(vml_loop(), &g.timer);
    curl_multi_setopt(g.multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(g.multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    g.ready = 1;
    return 0;
}

/* --- one transfer ------------------------------------------------------------------------- */

static void resp_clear_headers(vml_http_resp *r)
{
    size_t i;
    for (i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    r->headers = NULL;
    r->nheaders = 0;
}

void vml_http_resp_free(vml_http_resp *resp)
{
    if (!resp)
        return;
    resp_clear_headers(resp);
    free(resp->body);
    free(resp->effective_url);
    memset(resp, 0, sizeof *resp);
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    vml_http_op *op = ud;
    size_t len = size * n, nl, vs, ve;
    vml_http_header *h;
    char *colon;

    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) { /* a new response (redirect, 100) */
        resp_clear_headers(&op->resp);
        return len;
    }
    colon = memchr(buf, ':', len);
    if (!colon)
        return len;
    nl = (size_t)(colon - buf);
    vs = nl + 1;
    ve = len;
    while (vs < ve && (buf[vs] == ' ' || buf[vs] == '\t'))
        vs++;
    while (ve > vs && (buf[ve - 1] == '\r' || buf[ve - 1] == '\n' || buf[ve - 1] == ' '))
        ve--;
    h = realloc(op->resp.headers, (op->resp.nheaders + 1) * sizeof *h);
    if (!h)
        return 0;
    op->resp.headers = h;
    h = &h[op->resp.nheaders];
    h->name = strndup(buf, nl);
    h->value = strndup(buf + vs, ve - vs);
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        return 0;
    }
    for (size_t i = 0; h->name[i]; i++)
        h->name[i] = (char)tolower((unsigned char)h->name[i]);
    op->resp.nheaders++;
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    vml_http_op *op = ud;
    size_t len = size * n;
    if (op->resp.body_len + len > op->max_bytes) {
        op->too_big = 1;
        return 0;
    }
    if (op->fp) {
        if (fwrite(buf, 1, len, op->fp) != len) {
            op->write_failed = errno ? errno : EIO;
            return 0;
        }
        op->resp.body_len += len;
        return len;
    }
    if (op->resp.body_len + len + 1 > op->cap) {
        size_t cap = op->cap ? op->cap : 16384;
        char *p;
        while (cap < op->resp.body_len + len + 1)
            cap *= 2;
        p = realloc(op->resp.body, cap);
        if (!p)
            return 0;
        op->resp.body = p;
        op->cap = cap;
    }
    memcpy(op->resp.body + op->resp.body_len, buf, len);
    op->resp.body_len += len;
    op->resp.body[op->resp.body_len] = '\0';
    return len;
}

static void op_free(vml_http_op *op)
{
    if (!op)
        return;
    if (op->easy)
        curl_easy_cleanup(op->easy);
    curl_slist_free_all(op->hdrs);
    if (op->fp)
        fclose(op->fp);
    free(op->body);
    free(op->url);
    free(op->outpath);
    vml_http_resp_free(&op->resp);
    free(op);
}

/* The URL without its query string, for messages. */
static void url_for_msg(const char *url, char *buf, size_t n)
{
    size_t len = strcspn(url, "?#");
    snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), url);
}

static void finish(vml_http_op *op, CURLcode res)
{
    vml_err err;
    char where[512];
    int rc = 0;

    vml_err_clear(&err);
    curl_multi_remove_handle(g.multi, op->easy);
    transfer_gone();
    url_for_msg(op->url, where, sizeof where);
    if (op->fp) {
        if (fclose(op->fp) != 0 && res == CURLE_OK && !op->write_failed)
            op->write_failed = errno ? errno : EIO;
        op->fp = NULL;
    }
    if (op->too_big || res == CURLE_FILESIZE_EXCEEDED)
        rc = vml_err_set(&err, VML_ELIMIT,
                         "the reply from %s is larger than the limit of %zu "
                         "bytes",
                         where, op->max_bytes);
    else if (op->write_failed)
        rc = vml_err_set(&err, VML_EIO, "writing %s failed: %s", op->outpath,
                         strerror(op->write_failed));
    else if (res == CURLE_OPERATION_TIMEDOUT)
        rc = vml_err_set(&err, VML_ETIMEOUT, "no complete reply from %s within %g s", where,
                         op->timeout);
    else if (res != CURLE_OK)
        rc = vml_err_set(&err, VML_EHTTP, "request to %s failed: %s", where,
                         op->errbuf[0] ? op->errbuf : curl_easy_strerror(res));
    if (rc == 0) {
        char *eff = NULL;
        curl_easy_getinfo(op->easy, CURLINFO_RESPONSE_CODE, &op->resp.status);
        curl_easy_getinfo(op->easy, CURLINFO_EFFECTIVE_URL, &eff);
        op->resp.effective_url = strdup(eff ? eff : op->url);
        if (!op->fp && !op->outpath && !op->resp.body) {
            op->resp.body = calloc(1, 1);
        }
    } else if (op->outpath) {
        remove(op->outpath);
    }
    if (op->out)
        *op->out = NULL;
    if (op->done)
        op->done(op, rc, rc ? &err : NULL, rc ? NULL : &op->resp, op->ud);
    if (op->steal_to && rc == 0) {
        *op->steal_to = op->resp;
        memset(&op->resp, 0, sizeof op->resp);
    }
    op_free(op);
}

static void check_done(void)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(g.multi, &left))) {
        vml_http_op *op = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&op);
        if (op)
            finish(op, m->data.result);
    }
}

static int has_scheme(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

int vml_http_start(const vml_http_req *req, vml_http_done_fn done, void *ud, vml_http_op **out,
                   vml_err *err)
{
    vml_http_op *op = NULL;
    const char *method = req->method ? req->method : "GET";
    int rc = 0, redirects;
    size_t i;
    CURLMcode mc;

    if (out)
        *out = NULL;
    if (!req->url || !has_scheme(req->url))
        return vml_err_set(err, VML_EINVAL,
                           "only http:// and https:// URLs are allowed, not "
                           "'%.200s'",
                           req->url ? req->url : "(none)");
    for (i = 0; method[i]; i++)
        if (!isupper((unsigned char)method[i]))
            return vml_err_set(err, VML_EINVAL,
                               "bad HTTP method '%.40s' (use GET, HEAD, POST, "
                               "PUT, DELETE...)",
                               method);
    rc = global_init(err);
    if (rc < 0)
        return rc;
    op = calloc(1, sizeof *op);
    if (!op)
        return vml_err_set(err, VML_ENOMEM, "out of memory");
    op->done = done;
    op->ud = ud;
    op->timeout = req->timeout > 0 ? req->timeout : VML_HTTP_DEFAULT_TIMEOUT;
    op->max_bytes = req->max_bytes ? req->max_bytes : VML_HTTP_DEFAULT_MAX_BYTES;
    redirects = req->max_redirects < 0 ? VML_HTTP_DEFAULT_MAX_REDIRECTS : req->max_redirects;
    op->url = strdup(req->url);
    op->easy = curl_easy_init();
    if (!op->url || !op->easy) {
        rc = vml_err_set(err, VML_ENOMEM, "out of memory");
        goto out;
    }
    if (req->output_file) {
        op->outpath = strdup(req->output_file);
        if (!op->outpath) {
            rc = vml_err_set(err, VML_ENOMEM, "out of memory");
            goto out;
        }
        op->fp = fopen(op->outpath, "wbe");
        if (!op->fp) {
            rc = vml_err_from_errno(err, errno, op->outpath);
            goto out;
        }
    }
    for (i = 0; req->headers && req->headers[i]; i++) {
        struct curl_slist *n;
        if (strpbrk(req->headers[i], "\r\n")) {
            rc = vml_err_set(err, VML_EINVAL, "an HTTP header must not contain a line break");
            goto out;
        }
        n = curl_slist_append(op->hdrs, req->headers[i]);
        if (!n) {
            rc = vml_err_set(err, VML_ENOMEM, "out of memory");
            goto out;
        }
        op->hdrs = n;
    }
    curl_easy_setopt(op->easy, CURLOPT_URL, op->url);
    curl_easy_setopt(op->easy, CURLOPT_PRIVATE, op);
    curl_easy_setopt(op->easy, CURLOPT_ERRORBUFFER, op->errbuf);
    curl_easy_setopt(op->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(op->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(op->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(op->easy, CURLOPT_FOLLOWLOCATION, redirects > 0 ? 1L : 0L);
    curl_easy_setopt(op->easy, CURLOPT_MAXREDIRS, (long)redirects);
    curl_easy_setopt(op->easy, CURLOPT_TIMEOUT_MS, (long)(op->timeout * 1000.0));
    curl_easy_setopt(op->easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)((op->timeout < 15 ? op->timeout : 15) * 1000.0));
    curl_easy_setopt(op->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)op->max_bytes);
    curl_easy_setopt(op->easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(op->easy, CURLOPT_USERAGENT, "vibeml/" VML_VERSION);
    curl_easy_setopt(op->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(op->easy, CURLOPT_HEADERDATA, op);
    curl_easy_setopt(op->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(op->easy, CURLOPT_WRITEDATA, op);
    if (op->hdrs)
        curl_easy_setopt(op->easy, CURLOPT_HTTPHEADER, op->hdrs);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(op->easy, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(op->easy, CURLOPT_CUSTOMREQUEST, method);
        if (req->body || strcmp(method, "POST") == 0) {
            op->body = malloc(req->body_len + 1);
            if (!op->body) {
                rc = vml_err_set(err, VML_ENOMEM, "out of memory");
                goto out;
            }
            if (req->body_len)
                memcpy(op->body, req->body, req->body_len);
            curl_easy_setopt(op->easy, CURLOPT_POSTFIELDS, op->body);
            curl_easy_setopt(op->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        }
    }
    mc = curl_multi_add_handle(g.multi, op->easy);
    if (mc != CURLM_OK) {
        rc = vml_err_set(err, VML_EHTTP, "cannot start the request: %s", curl_multi_strerror(mc));
        goto out;
    }
    g.active++;
    if (out) {
        *out = op;
        op->out = out;
    }
    op = NULL;
out:
    if (op && op->outpath && op->fp)
        remove(op->outpath);
    op_free(op);
    return rc;
}

void vml_http_cancel(vml_http_op *op)
{
    if (!op)
        return;
    curl_multi_remove_handle(g.multi, op->easy);
    transfer_gone();
    if (op->out)
        *op->out = NULL;
    if (op->fp) {
        fclose(op->fp);
        op->fp = NULL;
        remove(op->outpath);
    }
    op_free(op);
}

/* --- synchronous helper for C callers outside the loop ------------------------------------ */

typedef struct fetch_state {
    int finished;
    int rc;
    vml_err *err;
} fetch_state;

static void fetch_done(vml_http_op *op, int rc, const vml_err *err, const vml_http_resp *resp,
                       void *ud)
{
    fetch_state *st = ud;
    (void)op;
    (void)resp;
    st->finished = 1;
    st->rc = rc;
    if (rc < 0 && st->err)
        *st->err = *err;
}

int vml_http_fetch(const vml_http_req *req, vml_http_resp *resp, vml_err *err)
{
    fetch_state st = {0, 0, err};
    vml_http_op *op;
    int rc;
    memset(resp, 0, sizeof *resp);
    rc = vml_http_start(req, fetch_done, &st, &op, err);
    if (rc < 0)
        return rc;
    op->steal_to = resp;
    vml_loop_run_until(&st.finished);
    return st.rc;
}
