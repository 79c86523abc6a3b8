/* SPDX-License-Identifier: MIT
 *
 * err — VibeML's one list of error codes and the error value that carries a message.
 *
 * Fallible functions return int: 0 on success, a negative VML_E* code on failure. An optional
 * last argument `vml_err *err` (may be NULL) receives a formatted message; vml_err_set() returns
 * the code so a failure is one line: `return vml_err_set(err, VML_EINVAL, "bad '%s'", s);`.
 * Codes of other libraries are converted where we call them (libuv, curl, jansson, sqlite).
 */
#ifndef VML_ERR_H
#define VML_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* X(NAME, value, "message"). Values are stable: they appear in JSON-RPC error.data and logs.
 * Lua sees each name as vibeml.E.NAME == "VML_NAME" (core/lapi_err.c): add a code here, never
 * as a string in Lua. */
#define VML_ERRNO_MAP(X)                                                                           \
    X(EINVAL, -1, "invalid argument")                                                              \
    X(ENOMEM, -2, "out of memory")                                                                 \
    X(EIO, -3, "input/output error")                                                               \
    X(ENOENT, -4, "not found")                                                                     \
    X(EEXIST, -5, "already exists")                                                                \
    X(ELUA, -6, "Lua error")                                                                       \
    X(ETIMEOUT, -7, "time limit reached")                                                          \
    X(EBUDGET, -8, "instruction budget exhausted")                                                 \
    X(EJSON, -9, "malformed JSON")                                                                 \
    X(EHTTP, -10, "HTTP request failed")                                                           \
    X(ECRYPTO, -11, "cryptographic operation failed")                                              \
    X(EDB, -12, "database error")                                                                  \
    X(EPROC, -13, "process error")                                                                 \
    X(ECANCELED, -14, "operation canceled")                                                        \
    X(EPERM, -15, "not permitted")                                                                 \
    X(ESANDBOX, -16, "not allowed in the sandbox")                                                 \
    X(EUSAGE, -17, "usage error")                                                                  \
    X(ELIMIT, -18, "resource limit reached")                                                       \
    X(EMONEY, -19, "budget would be exceeded")                                                     \
    X(EPROTO, -20, "protocol error")                                                               \
    X(EAGAIN, -21, "temporarily unavailable, try again")                                           \
    X(EBUSY, -22, "busy")                                                                          \
    X(EUNSUPPORTED, -23, "not supported")                                                          \
    X(ESTATE, -24, "invalid state for this operation")                                             \
    X(ECONFIG, -25, "invalid configuration")                                                       \
    X(EAUTH, -26, "authentication failed")                                                         \
    X(ESECRET, -27, "a secret is missing or cannot be read")

typedef enum {
    VML_OK = 0,
#define VML__ERR_ENUM(name, val, msg) VML_##name = (val),
    VML_ERRNO_MAP(VML__ERR_ENUM)
#undef VML__ERR_ENUM
} vml_errcode;

#define VML_ERR_MSG_MAX 1024

/* An error value: the code plus a message. Storage is the caller's (usually on the stack). */
typedef struct vml_err {
    int code;
    char msg[VML_ERR_MSG_MAX];
} vml_err;

/* Static text for a code ("invalid argument"); "unknown error" for an unknown code. */
const char *vml_strerror(int code);
/* Static name for a code ("VML_EINVAL"); "VML_EUNKNOWN" for an unknown code. */
const char *vml_errname(int code);

/* Clears err (may be NULL). */
void vml_err_clear(vml_err *err);
/* Sets err->code and a printf-style message (err may be NULL). Returns code. */
int vml_err_set(vml_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vml_err_setv(vml_err *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Prefixes the existing message with "prefix: " (context as an error travels up). Returns code. */
int vml_err_prefix(vml_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The message, or the code's static text when no message was set. Borrowed. */
const char *vml_err_msg(const vml_err *err);

/* Converts a libuv error (negative errno) into a VML code, message set. Returns the code. */
int vml_err_from_uv(vml_err *err, int uverr, const char *what);
/* Converts errno into a VML code, message "what: strerror". Returns the code. */
int vml_err_from_errno(vml_err *err, int e, const char *what);

#endif
