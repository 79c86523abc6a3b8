/* SPDX-License-Identifier: MIT
 *
 * lapi_budget — the budget's ledger for the Lua half (SCRIPT profile), as `vibeml.budget`; the
 * policy and every word around it are require("vibeml.budget") (lua/vibeml/budget.lua). Amounts
 * going in are USD as a number (rounded to the micro-dollar) or a string ("12.50", parsed
 * exactly); amounts coming out are USD numbers (exact micro-dollars / 1e6). Limits absent = nil.
 *   reserve(job_id, amount [, cap [, override_by]]) -> true, info | nil, msg, code, info
 *        override_by (a string such as "elicitation" or "cli") reserves beyond the limit and
 *        records that a person approved it. info = {month=, limit=, used=, remaining=, needed=,
 *        estimate=, cap=, per_job_cap=, capped=, override=, existing=}; over the limit the
 *        code is "VML_EMONEY" and info carries the numbers (the wording is Lua's)
 *   set_cap(job_id, cap [, override_by]) -> true, info | nil, msg, code, info
 *        a running job's new cap (its reservation); info adds old_cap= and accrued=, needed= is
 *        the change of what the month holds. Codes: VML_EMONEY (over the month or the per-job
 *        cap; override_by goes over with a person's approval), VML_EINVAL (below the cost so
 *        far), VML_ESTATE (settled), VML_ENOENT (no entry)
 *   accrue(job_id, cost_so_far) -> over_cap, cap | nil, msg, code
 *   settle(job_id, final) -> true | nil, msg, code      release(job_id) -> true | nil, msg, code
 *   status([month]) -> {month=, monthly_limit=, spent=, reserved=, remaining=, used_percent=,
 *                       per_job_cap=, jobs={...}}   (JSON nulls as vibeml.null)
 *   set_limits{monthly = USD|false, per_job = USD|false} -> true   (false removes a limit)
 *   limits() -> {monthly=, per_job=}       reconcile([grace_seconds]) -> number fixed
 *   parse_usd(text) -> number | nil, msg, code   format_usd(number) -> "$12.50"
 *   month() -> "2026-11"
 * Binding convention (docs/binding.md): a wrong argument raises; a failure of the ledger (the
 * database cannot be opened or written, no such reservation, over budget) returns
 * nil, message, code. The ledger connection is opened once per Lua state (reconciling at that
 * start) and closed with it.
 *
 * Uses: budget, conv, paths, script.
 */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "luajson.h"
#include "paths.h"
#include "lapi.h"
#include "script.h"

#define CONN "vibeml.BudgetConnection"

typedef struct l_conn {
    vml_budget *b;
    char home[4096];
} l_conn;

static const char k_conn = 0;

static int conn_gc(lua_State *L)
{
    l_conn *u = luaL_checkudata(L, 1, CONN);
    vml_budget_close(u->b);
    u->b = NULL;
    return 0;
}

/* The state's ledger connection, opened on first use (or again when the state folder changed);
 * borrowed (the registry owns it). NULL with err when the database cannot be opened. */
static vml_budget *conn(lua_State *L, vml_err *err)
{
    l_conn *u;
    char home[4096];
    if (vml_paths_get(VML_PATH_STATE, home, sizeof home, 0, err) < 0)
        return NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &k_conn);
    u = luaL_testudata(L, -1, CONN);
    lua_pop(L, 1);
    if (u && u->b && strcmp(u->home, home) == 0)
        return u->b;
    if (!u) {
        u = lua_newuserdatauv(L, sizeof *u, 0);
        memset(u, 0, sizeof *u);
        luaL_setmetatable(L, CONN);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &k_conn);
    }
    vml_budget_close(u->b);
    u->b = NULL;
    if (vml_budget_open(NULL, &u->b, err) < 0)
        return NULL;
    snprintf(u->home, sizeof u->home, "%s", home);
    return u->b;
}

/* An amount argument: a number (USD) or a string; nil/false/"none" -> NONE when allow_none. */
static int64_t amount_arg(lua_State *L, int idx, int allow_none, const char *what)
{
    vml_err err;
    int64_t v = 0;
    vml_err_clear(&err);
    if (allow_none &&
        (lua_isnoneornil(L, idx) || (lua_isboolean(L, idx) && !lua_toboolean(L, idx))))
        return VML_BUDGET_NONE;
    if (lua_type(L, idx) == LUA_TNUMBER) {
        if (vml_budget_from_double(lua_tonumber(L, idx), &v, &err) < 0)
            vml_lapi_argerror(L, idx, "%s", vml_err_msg(&err));
    } else if (lua_type(L, idx) == LUA_TSTRING) {
        const char *s = vml_lua_tocstr(L, idx);
        if (!s)
            vml_lapi_argerror(L, idx, "an amount must not contain a NUL byte");
        if (allow_none && (strcmp(s, "none") == 0 || strcmp(s, "off") == 0))
            return VML_BUDGET_NONE;
        if (vml_budget_parse_usd(s, &v, &err) < 0)
            vml_lapi_argerror(L, idx, "%s", vml_err_msg(&err));
    } else {
        vml_lapi_argerror(L, idx, "%s: an amount in USD (number or string)%s", what,
                          allow_none ? ", or false/\"none\" for none" : "");
    }
    if (v < 0)
        vml_lapi_argerror(L, idx, "%s cannot be negative", what);
    return v;
}

static void push_usd(lua_State *L, int64_t micros)
{
    if (micros == VML_BUDGET_NONE)
        lua_pushnil(L);
    else if (micros % VML_MICROS_PER_USD == 0)
        lua_pushinteger(L, micros / VML_MICROS_PER_USD);
    else
        lua_pushnumber(L, (lua_Number)micros / 1e6);
}

static void push_info(lua_State *L, const vml_budget_info *in)
{
    lua_createtable(L, 0, 12);
    lua_pushstring(L, in->month);
    lua_setfield(L, -2, "month");
#define F(name, v)                                                                                 \
    push_usd(L, v);                                                                                \
    lua_setfield(L, -2, name)
    F("limit", in->limit);
    F("used", in->used);
    F("remaining", in->remaining);
    F("needed", in->needed);
    F("estimate", in->estimate);
    F("cap", in->cap);
    F("per_job_cap", in->per_job_cap);
    F("old_cap", in->old_cap);
    F("accrued", in->accrued);
#undef F
#define B(name, v)                                                                                 \
    lua_pushboolean(L, v);                                                                         \
    lua_setfield(L, -2, name)
    B("capped", in->capped);
    B("override", in->override);
    B("existing", in->existing);
#undef B
}

static int l_reserve(lua_State *L)
{
    const char *job = vml_lua_checkcstr(L, 1);
    int64_t amount = amount_arg(L, 2, 0, "amount");
    int64_t cap = amount_arg(L, 3, 1, "cap");
    const char *by = vml_lua_optcstr(L, 4, NULL);
    vml_budget *b;
    vml_budget_info info;
    vml_err err;
    vml_err_clear(&err);
    if (!(b = conn(L, &err)))
        return vml_lua_fail(L, &err);
    if (vml_budget_reserve(b, job, amount, cap, by != NULL, by, &info, &err) < 0) {
        vml_lua_fail(L, &err);
        push_info(L, &info);
        return 4;
    }
    lua_pushboolean(L, 1);
    push_info(L, &info);
    return 2;
}

static int l_set_cap(lua_State *L)
{
    const char *job = vml_lua_checkcstr(L, 1);
    int64_t cap = amount_arg(L, 2, 0, "cap");
    const char *by = vml_lua_optcstr(L, 3, NULL);
    vml_budget *b;
    vml_budget_info info;
    vml_err err;
    vml_err_clear(&err);
    if (cap <= 0)
        vml_lapi_argerror(L, 2, "a job's cap must be more than $0");
    if (!(b = conn(L, &err)))
        return vml_lua_fail(L, &err);
    if (vml_budget_set_cap(b, job, cap, by != NULL, by, &info, &err) < 0) {
        vml_lua_fail(L, &err);
        push_info(L, &info);
        return 4;
    }
    lua_pushboolean(L, 1);
    push_info(L, &info);
    return 2;
}

static int l_accrue(lua_State *L)
{
    const char *job = vml_lua_checkcstr(L, 1);
    int64_t cost = amount_arg(L, 2, 0, "cost"), cap;
    int over;
    vml_budget *b;
    vml_err err;
    vml_err_clear(&err);
    if (!(b = conn(L, &err)) || vml_budget_accrue(b, job, cost, &over, &cap, &err) < 0)
        return vml_lua_fail(L, &err);
    lua_pushboolean(L, over);
    push_usd(L, cap);
    return 2;
}

static int l_settle(lua_State *L)
{
    const char *job = vml_lua_checkcstr(L, 1);
    int64_t final = amount_arg(L, 2, 0, "final cost");
    vml_budget *b;
    vml_err err;
    vml_err_clear(&err);
    if (!(b = conn(L, &err)) || vml_budget_settle(b, job, final, &err) < 0)
        return vml_lua_fail(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_release(lua_State *L)
{
    const char *job = vml_lua_checkcstr(L, 1);
    vml_budget *b;
    vml_err err;
    vml_err_clear(&err);
    if (!(b = conn(L, &err)) || vml_budget_release(b, job, &err) < 0)
        return vml_lua_fail(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_status(lua_State *L)
{
    const char *month = vml_lua_optcstr(L, 1, NULL);
    json_t **g;
    vml_err err;
    vml_budget *b;
    vml_err_clear(&err);
    if (!(b = conn(L, &err)))
        return vml_lua_fail(L, &err);
    g = lua_newuserdatauv(L, sizeof *g, 0); /* plain holder; freed below before any raise */
    *g = NULL;
    if (vml_budget_status(b, month, g, &err) < 0)
        return vml_lua_fail(L, &err);
    if (vml_luajson_push(L, *g, &err) < 0) {
        json_decref(*g);
        return vml_lua_fail(L, &err);
    }
    json_decref(*g);
    *g = NULL;
    return 1;
}

static int l_set_limits(lua_State *L)
{
    unsigned which = 0;
    int64_t monthly = VML_BUDGET_NONE, per_job = VML_BUDGET_NONE;
    vml_budget *b;
    vml_err err;
    luaL_checktype(L, 1, LUA_TTABLE);
    vml_err_clear(&err);
    if (lua_getfield(L, 1, "monthly") != LUA_TNIL) {
        which |= 1;
        monthly = amount_arg(L, lua_gettop(L), 1, "monthly");
    }
    if (lua_getfield(L, 1, "per_job") != LUA_TNIL) {
        which |= 2;
        per_job = amount_arg(L, lua_gettop(L), 1, "per_job");
    }
    if (!which)
        return vml_lapi_argerror(
            L, 1, "give monthly= and/or per_job= (an amount in USD, or false to remove it)");
    if (!(b = conn(L, &err)) || vml_budget_set_limits(b, which, monthly, per_job, &err) < 0)
        return vml_lua_fail(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_limits(lua_State *L)
{
    int64_t monthly, per_job;
    vml_budget *b;
    vml_err err;
    vml_err_clear(&err);
    if (!(b = conn(L, &err)) || vml_budget_get_limits(b, &monthly, &per_job, &err) < 0)
        return vml_lua_fail(L, &err);
    lua_createtable(L, 0, 2);
    push_usd(L, monthly);
    lua_setfield(L, -2, "monthly");
    push_usd(L, per_job);
    lua_setfield(L, -2, "per_job");
    return 1;
}

static int l_reconcile(lua_State *L)
{
    double grace = luaL_optnumber(L, 1, -1);
    int fixed = 0;
    vml_budget *b;
    vml_err err;
    vml_err_clear(&err);
    if (!(b = conn(L, &err)) || vml_budget_reconcile(b, grace, &fixed, &err) < 0)
        return vml_lua_fail(L, &err);
    lua_pushinteger(L, fixed);
    return 1;
}

static int l_parse_usd(lua_State *L)
{
    int64_t v;
    vml_err err;
    vml_err_clear(&err);
    if (vml_budget_parse_usd(vml_lua_checkcstr(L, 1), &v, &err) < 0)
        return vml_lua_fail(L, &err);
    push_usd(L, v);
    return 1;
}

static int l_format_usd(lua_State *L)
{
    char buf[48];
    int64_t v = 0;
    vml_err err;
    if (vml_budget_from_double(luaL_checknumber(L, 1), &v, &err) < 0)
        return vml_lapi_argerror(L, 1, "%s", vml_err_msg(&err));
    lua_pushstring(L, vml_budget_format_usd(v, buf, sizeof buf));
    return 1;
}

static int l_month(lua_State *L)
{
    char m[8];
    vml_budget_month(m);
    lua_pushstring(L, m);
    return 1;
}

static const luaL_Reg budget_funcs[] = {
    {"reserve", l_reserve},
    {"set_cap", l_set_cap},
    {"accrue", l_accrue},
    {"settle", l_settle},
    {"release", l_release},
    {"status", l_status},
    {"set_limits", l_set_limits},
    {"limits", l_limits},
    {"reconcile", l_reconcile},
    {"parse_usd", l_parse_usd},
    {"format_usd", l_format_usd},
    {"month", l_month},
    {NULL, NULL},
};

static int open_budget(lua_State *L)
{
    if (luaL_newmetatable(L, CONN)) {
        lua_pushcfunction(L, conn_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushliteral(L, "BudgetConnection");
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    luaL_newlib(L, budget_funcs);
    return 1;
}

const vml_lapi vml_lapi_budget = {"budget", open_budget, VML_PROFILE_SCRIPT};
