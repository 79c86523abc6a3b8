/* SPDX-License-Identifier: MIT
 *
 * httpd — a small HTTP server for the Streamable HTTP transport, on libmicrohttpd.
 *
 * libmicrohttpd runs one thread per connection; everything VibeML does happens on the libuv
 * loop thread. Every request ends: connections are capped (in all and per client address),
 * a silent connection is closed after a timeout and a request must arrive whole within another;
 * headers are checked before the body is read (vml_httpd_check), a body announced or grown past
 * the limit is refused (413, or the connection is closed) and all bodies being read share one
 * memory budget. A request is read completely by its connection thread, handed to the loop (a
 * queue + uv_async), and the connection thread then waits until the loop answers: either one
 * whole response (vml_httpd_respond) or a stream (vml_httpd_stream_begin, _write..., _end) that
 * the connection thread sends as it arrives — the shape Server-Sent Events need. Local MCP
 * clients open few connections, so a thread each is cheap and keeps the hand-off simple.
 *
 * Ownership: a vml_httpd_req belongs to the server; the handler borrows it until it has ended
 * the response (respond or stream_end). If the client goes away first, writes are dropped and
 * vml_httpd_req_closed() turns true; the handler must still end the response.
 *
 * Uses: err, loop (libuv), libmicrohttpd, pthreads.
 */
#ifndef VML_HTTPD_H
#define VML_HTTPD_H

#include <stddef.h>

#include "err.h"

typedef struct vml_httpd vml_httpd;
typedef struct vml_httpd_req vml_httpd_req;

/* Called on the loop thread for each complete request. */
typedef void (*vml_httpd_handler)(vml_httpd_req *r, void *ud);

/* Called on the connection thread as soon as a request's headers are in, before any body
 * byte is read, so a request refused for its headers (Host, token) costs no body. Returns 0 to
 * go on, or the HTTP status of an answer given at once: *body (static text, JSON), *headers
 * (static "Name", "value", ..., NULL list, or NULL). Only the headers, method and path may be
 * read, and only data that does not change while the server runs. */
typedef int (*vml_httpd_check)(const vml_httpd_req *r, void *ud, const char **body,
                               const char *const **headers);

/* Limits; a zero field takes the default below. */
typedef struct vml_httpd_limits {
    size_t max_body;     /* bytes of one request body; more is 413 */
    size_t max_buffered; /* bytes of all bodies being read at once; more is 503 */
    unsigned max_conns;  /* connections open at once */
    unsigned max_conns_per_ip;
    unsigned idle_timeout_s; /* a connection silent this long is closed */
    unsigned read_timeout_s; /* a request whose headers and body take longer is dropped */
} vml_httpd_limits;

#define VML_HTTPD_MAX_BODY ((size_t)4 << 20)
#define VML_HTTPD_MAX_BUFFERED ((size_t)64 << 20)
#define VML_HTTPD_MAX_CONNS 512
#define VML_HTTPD_MAX_CONNS_PER_IP 128
#define VML_HTTPD_IDLE_TIMEOUT_S 30
#define VML_HTTPD_READ_TIMEOUT_S 60

/* Listens on addr ("127.0.0.1", "::1", "0.0.0.0") and port (0 = any free one). check and limits
 * may be NULL. *out is the caller's (vml_httpd_stop). */
int vml_httpd_start(const char *addr, int port, vml_httpd_handler handler, vml_httpd_check check,
                    void *ud, const vml_httpd_limits *limits, vml_httpd **out, vml_err *err);
/* The bound port. */
int vml_httpd_port(const vml_httpd *d);
/* Stops listening, joins the connection threads and frees the server. The caller first ends
 * every response it still holds (respond or stream_end). */
void vml_httpd_stop(vml_httpd *d);

/* Request accessors (borrowed strings, valid until the response ends). */
const char *vml_httpd_req_method(const vml_httpd_req *r);
const char *vml_httpd_req_path(const vml_httpd_req *r);
/* A request header (case-insensitive name), or NULL. */
const char *vml_httpd_req_header(const vml_httpd_req *r, const char *name);
const char *vml_httpd_req_body(const vml_httpd_req *r, size_t *len);
/* Non-zero once the client has gone away. */
int vml_httpd_req_closed(const vml_httpd_req *r);
/* Opaque user pointer on the request (e.g. the MCP session). */
void vml_httpd_req_set_data(vml_httpd_req *r, void *data);
void *vml_httpd_req_data(const vml_httpd_req *r);

/* headers: NULL or a NULL-terminated list of "Name", "value" pairs. */
void vml_httpd_respond(vml_httpd_req *r, int status, const char *content_type, const char *body,
                       size_t len, const char *const *headers);
void vml_httpd_stream_begin(vml_httpd_req *r, int status, const char *content_type,
                            const char *const *headers);
/* Appends bytes to the stream (copied). Returns 0, or VML_EIO when the client is gone. */
int vml_httpd_stream_write(vml_httpd_req *r, const char *data, size_t len);
/* Ends the stream; the request is released once its connection thread is done with it. */
void vml_httpd_stream_end(vml_httpd_req *r);

#endif
