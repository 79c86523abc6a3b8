/* SPDX-License-Identifier: MIT
 *
 * http — HTTP(S) requests through libcurl, driven by the libuv loop (curl multi with
 * CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION feeding uv_poll and uv_timer), so nothing blocks: a
 * request is started, the loop runs, and the done callback gets the reply.
 *
 * Policy: only http and https (also across redirects, at most max_redirects of them); a total
 * time-out; a cap on the body size (VML_ELIMIT past it); the body goes to memory or to a file.
 * Loopback addresses are allowed (tests, local servers). Proxies follow curl's environment
 * variables. Request headers are never logged (they may carry a token).
 *
 * Uses: loop, err, libcurl, libuv.
 */
#ifndef VML_HTTP_H
#define VML_HTTP_H

#include <stddef.h>

#include "err.h"

#define VML_HTTP_DEFAULT_TIMEOUT 30.0          /* seconds */
#define VML_HTTP_DEFAULT_MAX_BYTES (64u << 20) /* 64 MiB */
#define VML_HTTP_DEFAULT_MAX_REDIRECTS 5

typedef struct vml_http_req {
    const char *method;         /* "GET" when NULL */
    const char *url;            /* http:// or https:// */
    const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
    const char *body;           /* may be NULL */
    size_t body_len;
    double timeout;          /* seconds for the whole exchange; <= 0 = default */
    size_t max_bytes;        /* body limit; 0 = default */
    int max_redirects;       /* < 0 = default, 0 = do not follow */
    const char *output_file; /* write the body here instead of memory; NULL = memory */
} vml_http_req;

typedef struct vml_http_header {
    char *name; /* lower-cased */
    char *value;
} vml_http_header;

typedef struct vml_http_resp {
    long status;
    vml_http_header *headers; /* of the final response */
    size_t nheaders;
    char *body;          /* NUL-terminated; NULL when written to output_file */
    size_t body_len;     /* bytes received (also with output_file) */
    char *effective_url; /* after redirects */
} vml_http_resp;

typedef struct vml_http_op vml_http_op;

/* Called once when the exchange ends: rc 0 with resp (any HTTP status counts as a reply), or
 * rc < 0 with err (VML_ETIMEOUT, VML_ELIMIT, VML_EHTTP, VML_EIO...). resp is borrowed and valid
 * only inside the callback. The operation is freed after it returns. */
typedef void (*vml_http_done_fn)(vml_http_op *op, int rc, const vml_err *err,
                                 const vml_http_resp *resp, void *ud);

/* Starts a request on the process loop. All strings in req are copied. *out (may be NULL)
 * receives the operation while it runs. Returns 0 or a VML code (then done is never called). */
int vml_http_start(const vml_http_req *req, vml_http_done_fn done, void *ud, vml_http_op **out,
                   vml_err *err);
/* Stops a running request; done is not called. The operation is freed. */
void vml_http_cancel(vml_http_op *op);

/* Runs one request to completion on the loop (for C callers outside the loop: tests, C
 * commands). The caller owns *resp afterwards (vml_http_resp_free). */
int vml_http_fetch(const vml_http_req *req, vml_http_resp *resp, vml_err *err);
/* Frees what a vml_http_resp holds and zeroes it. */
void vml_http_resp_free(vml_http_resp *resp);

#endif
