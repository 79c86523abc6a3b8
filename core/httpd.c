/* SPDX-License-Identifier: MIT
 *
 * httpd — libmicrohttpd connection threads handing requests to the libuv loop (see httpd.h).
 *
 * Uses: err, loop, libmicrohttpd, pthreads.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <uv.h>

#include "loop.h"

enum { REQ_READING, REQ_PENDING, REQ_FULL, REQ_STREAM };

typedef struct header {
    char *name, *value;
} header;

struct vml_httpd_req {
    vml_httpd *d;
    int state;  /* REQ_*: written by the loop, read by the connection thread */
    int refs;   /* the connection's and the loop's */
    int closed; /* the client is gone (MHD's completed callback ran) */
    int ended;  /* the stream is complete */
    char *method, *path;
    header *headers;
    size_t n_headers;
    char *body;
    size_t body_len, body_cap;
    uint64_t started_ms; /* when its headers were in (the read deadline counts from there) */
    int answered;        /* answered on the connection thread (check, 413, 503) */
    /* the answer */
    int status;
    char *ctype;
    char **resp_headers; /* name, value, ..., NULL */
    char *out;           /* full body, or stream bytes not yet sent */
    size_t out_len, out_off;
    void *data;
    pthread_cond_t cond;
    vml_httpd_req *next; /* the hand-off queue */
};

struct vml_httpd {
    struct MHD_Daemon *mhd;
    vml_httpd_handler handler;
    vml_httpd_check check;
    void *ud;
    vml_httpd_limits lim;
    size_t buffered; /* body bytes held by requests being read or handled (under lock) */
    uv_async_t async;
    pthread_mutex_t lock; /* guards every request's shared fields and the queue */
    vml_httpd_req *queue_head, *queue_tail;
    int stopping;
    int port;
};

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static char *dups(const char *s)
{
    return s ? dupn(s, strlen(s)) : NULL;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Call with d->lock held (every release goes through req_unref_locked). */
static void req_free(vml_httpd_req *r)
{
    size_t i;
    r->d->buffered -= r->body_cap;
    for (i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    if (r->resp_headers)
        for (i = 0; r->resp_headers[i]; i++)
            free(r->resp_headers[i]);
    free(r->resp_headers);
    free(r->headers);
    free(r->method);
    free(r->path);
    free(r->body);
    free(r->ctype);
    free(r->out);
    pthread_cond_destroy(&r->cond);
    free(r);
}

/* Drops one reference; call with d->lock held. Returns 1 when the request was freed. */
static int req_unref_locked(vml_httpd_req *r)
{
    if (--r->refs == 0) {
        req_free(r);
        return 1;
    }
    return 0;
}

/* {===================================================================== connection threads */

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    vml_httpd_req *r = cls;
    header *nh;
    (void)kind;
    nh = realloc(r->headers, (r->n_headers + 1) * sizeof *nh);
    if (!nh)
        return MHD_NO;
    r->headers = nh;
    nh[r->n_headers].name = dups(key);
    nh[r->n_headers].value = dups(value ? value : "");
    r->n_headers++;
    return MHD_YES;
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    vml_httpd_req *r = cls;
    vml_httpd *d = r->d;
    ssize_t n = 0;
    (void)pos;
    pthread_mutex_lock(&d->lock);
    while (r->out_len == r->out_off && !r->ended && !d->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&r->cond, &d->lock, &ts);
    }
    if (r->out_len > r->out_off) {
        n = (ssize_t)(r->out_len - r->out_off < max ? r->out_len - r->out_off : max);
        memcpy(buf, r->out + r->out_off, (size_t)n);
        r->out_off += (size_t)n;
        if (r->out_off == r->out_len)
            r->out_off = r->out_len = 0;
    } else {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    }
    pthread_mutex_unlock(&d->lock);
    return n;
}

static void add_headers(struct MHD_Response *resp, vml_httpd_req *r)
{
    size_t i;
    if (r->ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
    if (r->resp_headers)
        for (i = 0; r->resp_headers[i] && r->resp_headers[i + 1]; i += 2)
            MHD_add_response_header(resp, r->resp_headers[i], r->resp_headers[i + 1]);
}

static enum MHD_Result queue_plain(struct MHD_Connection *c, int status, const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result queue_json(struct MHD_Connection *c, int status, const char *text,
                                  const char *const *headers)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    size_t i;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    for (i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        MHD_add_response_header(resp, headers[i], headers[i + 1]);
    ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The first call for a request: its headers are in, no body byte was read yet. Checks them
 * and answers at once when they are refused or announce too large a body. */
static enum MHD_Result on_headers(vml_httpd *d, struct MHD_Connection *c, vml_httpd_req *r)
{
    const char *body = NULL, *cl;
    const char *const *hs = NULL;
    int status;
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, r);
    if (d->check && (status = d->check(r, d->ud, &body, &hs)) != 0) {
        r->answered = 1;
        return queue_json(c, status, body ? body : "{}", hs);
    }
    cl = vml_httpd_req_header(r, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > d->lim.max_body) {
        char text[160];
        snprintf(text, sizeof text,
                 "{\"error\":\"request body too large: the limit is %zu bytes\"}", d->lim.max_body);
        r->answered = 1;
        return queue_json(c, 413, text, NULL);
    }
    return MHD_YES;
}

/* Appends body bytes within the limits. Returns 0, or -1 to drop the connection: a body grown
 * past the limit without a Content-Length, the shared budget spent, or out of memory. */
static int body_append(vml_httpd *d, vml_httpd_req *r, const char *data, size_t n)
{
    size_t need = r->body_len + n + 1;
    int rc = 0;
    if (need > d->lim.max_body + 1)
        return -1;
    if (need > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap * 2 : 4096;
        char *nb;
        if (cap < need)
            cap = need;
        if (cap > d->lim.max_body + 1)
            cap = d->lim.max_body + 1;
        pthread_mutex_lock(&d->lock);
        if (d->buffered - r->body_cap + cap > d->lim.max_buffered) {
            rc = -1; /* every body being read at once shares one budget */
        } else if ((nb = realloc(r->body, cap))) {
            d->buffered += cap - r->body_cap;
            r->body = nb;
            r->body_cap = cap;
        } else {
            rc = -1;
        }
        pthread_mutex_unlock(&d->lock);
        if (rc < 0)
            return rc;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return 0;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    vml_httpd *d = cls;
    vml_httpd_req *r = *con_cls;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    (void)version;

    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->d = d;
        r->refs = 1; /* the connection's; MHD's completed callback drops it */
        r->method = dups(method);
        r->path = dups(url);
        r->started_ms = now_ms();
        pthread_cond_init(&r->cond, NULL);
        *con_cls = r;
        if (!r->method || !r->path)
            return MHD_NO;
        return on_headers(d, c, r);
    }
    if (r->answered) {
        *upload_size = 0; /* refused on its headers: the rest of the body is not kept */
        return MHD_YES;
    }
    if (now_ms() - r->started_ms > (uint64_t)d->lim.read_timeout_s * 1000)
        return MHD_NO; /* a body trickled in too slowly: drop the connection */
    if (*upload_size > 0) {
        if (body_append(d, r, upload, *upload_size) < 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->state != REQ_READING)
        return MHD_NO; /* a second final call: nothing more to do */

    /* hand the request to the loop and wait for its answer */
    pthread_mutex_lock(&d->lock);
    if (d->stopping) {
        pthread_mutex_unlock(&d->lock);
        return queue_plain(c, 503, "server is stopping\n");
    }
    r->state = REQ_PENDING;
    r->refs++; /* the loop's */
    if (d->queue_tail)
        d->queue_tail->next = r;
    else
        d->queue_head = r;
    d->queue_tail = r;
    uv_async_send(&d->async);
    while (r->state == REQ_PENDING && !d->stopping) {
        struct timespec ts; /* a timed wait: vml_httpd_stop cannot reach requests the loop holds */
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&r->cond, &d->lock, &ts);
    }
    pthread_mutex_unlock(&d->lock);
    if (r->state == REQ_PENDING)
        return queue_plain(c, 503, "server is stopping\n");

    if (r->state == REQ_FULL) {
        resp = MHD_create_response_from_buffer(r->out_len, r->out ? r->out : (char *)"",
                                               MHD_RESPMEM_MUST_COPY);
    } else {
        resp =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_reader, r, NULL);
    }
    if (!resp)
        return MHD_NO;
    add_headers(resp, r);
    ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    vml_httpd *d = cls;
    vml_httpd_req *r = *con_cls;
    (void)c;
    (void)toe;
    if (!r)
        return;
    *con_cls = NULL;
    pthread_mutex_lock(&d->lock);
    r->closed = 1;
    req_unref_locked(r);
    pthread_mutex_unlock(&d->lock);
}

/* }===================================================================== */

/* {===================================================================== the loop side */

static void on_async(uv_async_t *h)
{
    vml_httpd *d = h->data;
    for (;;) {
        vml_httpd_req *r;
        pthread_mutex_lock(&d->lock);
        r = d->queue_head;
        if (r) {
            d->queue_head = r->next;
            if (!d->queue_head)
                d->queue_tail = NULL;
            r->next = NULL;
        }
        pthread_mutex_unlock(&d->lock);
        if (!r)
            break;
        d->handler(r, d->ud);
    }
}

static char **copy_headers(const char *const *headers)
{
    size_t n = 0, i;
    char **out;
    while (headers && headers[n])
        n++;
    out = calloc(n + 1, sizeof *out);
    if (!out)
        return NULL;
    for (i = 0; i < n; i++)
        out[i] = dups(headers[i]);
    return out;
}

void vml_httpd_respond(vml_httpd_req *r, int status, const char *content_type, const char *body,
                       size_t len, const char *const *headers)
{
    vml_httpd *d = r->d;
    char **hs = copy_headers(headers);
    char *ct = dups(content_type);
    char *copy = body ? dupn(body, len) : NULL;
    pthread_mutex_lock(&d->lock);
    r->status = status;
    r->ctype = ct;
    r->resp_headers = hs;
    r->out = copy;
    r->out_len = copy ? len : 0;
    r->ended = 1;
    r->state = REQ_FULL;
    pthread_cond_broadcast(&r->cond);
    req_unref_locked(r); /* the loop is done with it */
    pthread_mutex_unlock(&d->lock);
}

void vml_httpd_stream_begin(vml_httpd_req *r, int status, const char *content_type,
                            const char *const *headers)
{
    vml_httpd *d = r->d;
    char **hs = copy_headers(headers);
    char *ct = dups(content_type);
    pthread_mutex_lock(&d->lock);
    r->status = status;
    r->ctype = ct;
    r->resp_headers = hs;
    r->state = REQ_STREAM;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&d->lock);
}

int vml_httpd_stream_write(vml_httpd_req *r, const char *data, size_t len)
{
    vml_httpd *d = r->d;
    int rc = 0;
    pthread_mutex_lock(&d->lock);
    if (r->closed || r->ended) {
        rc = VML_EIO;
    } else {
        char *nb = realloc(r->out, r->out_len + len);
        if (!nb) {
            rc = VML_ENOMEM;
        } else {
            r->out = nb;
            memcpy(r->out + r->out_len, data, len);
            r->out_len += len;
            pthread_cond_broadcast(&r->cond);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

void vml_httpd_stream_end(vml_httpd_req *r)
{
    vml_httpd *d = r->d;
    pthread_mutex_lock(&d->lock);
    r->ended = 1;
    pthread_cond_broadcast(&r->cond);
    req_unref_locked(r);
    pthread_mutex_unlock(&d->lock);
}

const char *vml_httpd_req_method(const vml_httpd_req *r)
{
    return r->method;
}

const char *vml_httpd_req_path(const vml_httpd_req *r)
{
    return r->path;
}

const char *vml_httpd_req_header(const vml_httpd_req *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->n_headers; i++)
        if (r->headers[i].name && strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

const char *vml_httpd_req_body(const vml_httpd_req *r, size_t *len)
{
    *len = r->body_len;
    return r->body ? r->body : "";
}

int vml_httpd_req_closed(const vml_httpd_req *r)
{
    int closed;
    pthread_mutex_lock(&r->d->lock);
    closed = r->closed;
    pthread_mutex_unlock(&r->d->lock);
    return closed;
}

void vml_httpd_req_set_data(vml_httpd_req *r, void *data)
{
    r->data = data;
}

void *vml_httpd_req_data(const vml_httpd_req *r)
{
    return r->data;
}

/* }===================================================================== */

int vml_httpd_start(const char *addr, int port, vml_httpd_handler handler, vml_httpd_check check,
                    void *ud, const vml_httpd_limits *limits, vml_httpd **out, vml_err *err)
{
    vml_httpd *d;
    struct sockaddr_storage ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    const union MHD_DaemonInfo *info;
    int rc = 0;

    *out = NULL;
    if (port < 0 || port > 65535)
        return vml_err_set(err, VML_EINVAL, "port %d is out of range (0-65535)", port);
    memset(&ss, 0, sizeof ss);
    if (strchr(addr, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
            return vml_err_set(err, VML_EINVAL, "'%s' is not an IP address", addr);
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
            return vml_err_set(err, VML_EINVAL, "'%s' is not an IP address (e.g. 127.0.0.1)", addr);
    }
    d = calloc(1, sizeof *d);
    if (!d)
        return vml_err_set(err, VML_ENOMEM, "out of memory");
    d->handler = handler;
    d->check = check;
    d->ud = ud;
    if (limits)
        d->lim = *limits;
    if (!d->lim.max_body)
        d->lim.max_body = VML_HTTPD_MAX_BODY;
    if (!d->lim.max_buffered)
        d->lim.max_buffered = VML_HTTPD_MAX_BUFFERED;
    if (!d->lim.max_conns)
        d->lim.max_conns = VML_HTTPD_MAX_CONNS;
    if (!d->lim.max_conns_per_ip)
        d->lim.max_conns_per_ip = VML_HTTPD_MAX_CONNS_PER_IP;
    if (!d->lim.idle_timeout_s)
        d->lim.idle_timeout_s = VML_HTTPD_IDLE_TIMEOUT_S;
    if (!d->lim.read_timeout_s)
        d->lim.read_timeout_s = VML_HTTPD_READ_TIMEOUT_S;
    pthread_mutex_init(&d->lock, NULL);
    uv_async_init(vml_loop(), &d->async, on_async);
    d->async.data = d;
    d->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_access, d, MHD_OPTION_SOCK_ADDR,
                              (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, d,
                              MHD_OPTION_CONNECTION_LIMIT, d->lim.max_conns,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT, d->lim.max_conns_per_ip,
                              MHD_OPTION_CONNECTION_TIMEOUT, d->lim.idle_timeout_s,
                              /* a thread per connection: a small stack each keeps hundreds of
                               * connections cheap (the work happens on the loop thread) */
                              MHD_OPTION_THREAD_STACK_SIZE, (size_t)512 * 1024, MHD_OPTION_END);
    if (!d->mhd) {
        rc = vml_err_set(err, VML_EIO, "cannot listen on %s:%d (in use, or not permitted)", addr,
                         port);
        goto out;
    }
    info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_LISTEN_FD);
    if (info) {
        struct sockaddr_storage bound;
        socklen_t bl = sizeof bound;
        if (getsockname(info->listen_fd, (struct sockaddr *)&bound, &bl) == 0)
            d->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                        : ((struct sockaddr_in *)&bound)->sin_port);
    }
    *out = d;
    d = NULL;
out:
    if (d) {
        uv_close((uv_handle_t *)&d->async, (uv_close_cb)free);
        pthread_mutex_destroy(&d->lock);
    }
    return rc;
}

int vml_httpd_port(const vml_httpd *d)
{
    return d->port;
}

static void async_closed(uv_handle_t *h)
{
    vml_httpd *d = h->data;
    pthread_mutex_destroy(&d->lock);
    free(d);
}

void vml_httpd_stop(vml_httpd *d)
{
    vml_httpd_req *r;
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->stopping = 1;
    /* wake every connection thread: waiting for an answer or for stream bytes */
    for (r = d->queue_head; r; r = r->next)
        pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&d->lock);
    /* requests still queued for the loop are dropped: their connection threads answer 503 */
    pthread_mutex_lock(&d->lock);
    while ((r = d->queue_head)) {
        d->queue_head = r->next;
        req_unref_locked(r);
    }
    d->queue_tail = NULL;
    pthread_mutex_unlock(&d->lock);
    MHD_stop_daemon(d->mhd);
    uv_close((uv_handle_t *)&d->async, async_closed);
}
