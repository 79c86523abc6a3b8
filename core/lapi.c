/* SPDX-License-Identifier: MIT
 * lapi — the binding convention's helpers (see lapi.h). Uses: err, Lua 5.4. */
#include "lapi.h"

#include <stdarg.h>
#include <stdio.h>

int vml_lapi_argerror(lua_State *L, int arg, const char *fmt, ...)
{
    char msg[VML_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return luaL_argerror(L, arg, msg);
}

int vml_lapi_fail(lua_State *L, int code, const char *fmt, ...)
{
    vml_err err;
    va_list ap;
    va_start(ap, fmt);
    vml_err_setv(&err, code, fmt, ap);
    va_end(ap);
    return vml_lua_fail(L, &err);
}
