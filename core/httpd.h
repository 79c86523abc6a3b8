/* SPDX-License-Identifier: MIT
 *
 * httpd — a small HTTP server for the Streamable HTTP transport, on libmicrohttpd.
 *
 * libmicrohttpd runs one thread per connection; everything VibeML does happens on the libuv
 * loop thread. A request is read completely by its connection thread, handed to the loop (a
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

#define VML_HTTPD_MAX_BODY ((size_t)16 << 20)

/* Listens on addr ("127.0.0.1", "::1", "0.0.0.0") and port (0 = any free one). *out is the
 * caller's (vml_httpd_stop). */
int vml_httpd_start(const char *addr, int port, vml_httpd_handler handler, void *ud,
                    vml_httpd **out, vml_err *err);
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
