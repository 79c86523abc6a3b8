/* SPDX-License-Identifier: MIT
 * err — code tables and the formatted error value (see err.h). Uses libuv only for uv_strerror. */
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

const char *vml_strerror(int code)
{
    switch (code) {
    case VML_OK:
        return "success";
#define VML__ERR_STR(name, val, msg)                                                               \
    case VML_##name:                                                                               \
        return msg;
        VML_ERRNO_MAP(VML__ERR_STR)
#undef VML__ERR_STR
    }
    return "unknown error";
}

const char *vml_errname(int code)
{
    switch (code) {
    case VML_OK:
        return "VML_OK";
#define VML__ERR_NAME(name, val, msg)                                                              \
    case VML_##name:                                                                               \
        return "VML_" #name;
        VML_ERRNO_MAP(VML__ERR_NAME)
#undef VML__ERR_NAME
    }
    return "VML_EUNKNOWN";
}

void vml_err_clear(vml_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

int vml_err_setv(vml_err *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        if (fmt)
            vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        else
            snprintf(err->msg, sizeof err->msg, "%s", vml_strerror(code));
    }
    return code;
}

int vml_err_set(vml_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vml_err_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int vml_err_prefix(vml_err *err, const char *fmt, ...)
{
    char head[VML_ERR_MSG_MAX], old[VML_ERR_MSG_MAX];
    va_list ap;
    if (!err)
        return VML_EINVAL;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    snprintf(old, sizeof old, "%s", vml_err_msg(err));
    /* truncation is fine here: messages are for people and bounded on purpose */
    if (snprintf(err->msg, sizeof err->msg, "%.500s: %.500s", head, old) < 0)
        err->msg[0] = '\0';
    return err->code;
}

const char *vml_err_msg(const vml_err *err)
{
    if (!err)
        return "";
    if (err->msg[0])
        return err->msg;
    return vml_strerror(err->code);
}

static int code_from_errno(int e)
{
    switch (e) {
    case ENOENT:
        return VML_ENOENT;
    case EEXIST:
        return VML_EEXIST;
    case ENOMEM:
        return VML_ENOMEM;
    case EACCES:
    case EPERM:
        return VML_EPERM;
    case EINVAL:
        return VML_EINVAL;
    case ETIMEDOUT:
        return VML_ETIMEOUT;
    case EAGAIN:
        return VML_EAGAIN;
    case ECANCELED:
        return VML_ECANCELED;
    case EBUSY:
        return VML_EBUSY;
    default:
        return VML_EIO;
    }
}

int vml_err_from_uv(vml_err *err, int uverr, const char *what)
{
    return vml_err_set(err, code_from_errno(-uverr), "%s: %s", what, uv_strerror(uverr));
}

int vml_err_from_errno(vml_err *err, int e, const char *what)
{
    return vml_err_set(err, code_from_errno(e), "%s: %s", what, strerror(e));
}
