/* SPDX-License-Identifier: MIT
 *
 * lapi_proc — vibeml.proc (SCRIPT profile): child processes that tasks wait on.
 *   vibeml.proc.run(argv, opts) -> {code=, signal=, stdout=, stderr=, timed_out=, pid=}
 *        | nil, message, code (the program could not be started)
 *   vibeml.proc.spawn(argv, opts) -> Process | nil, message, code
 *   opts: env = {NAME = "value"} (added to ours; clear_env = true to start empty),
 *         secrets = SecretEnv | {SecretEnv, ...} (from require("vibeml.vault").env_for: the
 *         values go into the child's environment straight from C, never through Lua),
 *         cwd = folder, stdin = string,
 *         stdout / stderr = "pipe" (default: captured) | "null" | "inherit" | {file = path},
 *         group = true (own session and process group, so stop reaches the whole tree),
 *         detached = true (group, and it outlives this process), timeout = seconds (then a
 *         graceful stop: SIGTERM, SIGKILL after grace = 5 seconds), max_output = bytes kept per
 *         stream for run (default 16 MiB; the rest is counted, not kept).
 *   Process: p:pid(), p:wait([timeout]) -> result table | nil, "timeout", "VML_ETIMEOUT",
 *            p:read([timeout]) -> "stdout"|"stderr", chunk  (waits; nil once both streams
 *                ended; nil, "timeout", "VML_ETIMEOUT" when nothing came within timeout),
 *            p:kill([signal name or number, default "TERM"]) -> true | nil, msg, code,
 *            p:stop([grace]) -> SIGTERM to the group, SIGKILL after grace seconds,
 *            p:exited() -> bool, p:release() (stop caring; the process keeps running).
 *   vibeml.proc.alive(pid [, start]) -> bool        vibeml.proc.start_time(pid) -> ticks | nil
 *   vibeml.proc.signal(pgid, sig) -> true | nil, msg, code   (group of a process we did not start)
 *   vibeml.proc.self_exe() -> path of the vibeml binary     vibeml.proc.getpid() -> pid
 * argv is a list of strings passed as they are: no shell ever sees them.
 * Misuse raises: argv or opts of the wrong shape ("bad argument #2 to 'run' (opts.env ...)"),
 * a released handle, a second task waiting on (or reading) the same process.
 *
 * Uses: proc, loop, lapi, script, conv, secrets, vault (the SecretEnv of lapi_vault.c), libuv.
 */
#include <lauxlib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "proc.h"
#include "lapi.h"
#include "script.h"
#include "secrets.h"
#include "vault.h"

extern char **environ;

#define PROC_TYPE "vibeml.Process"
#define DEFAULT_MAX_OUTPUT (16u << 20)

typedef struct obuf {
    char *d;
    size_t n, cap, dropped;
    int eof;
} obuf;

typedef struct lproc {
    vml_proc *p;
    obuf out[3]; /* [1] stdout, [2] stderr */
    size_t max_output;
    int exited, timed_out, gone;
    int64_t code;
    int sig;
    pid_t pid;
    double grace;
    vml_await rd, wt; /* a reader and a waiter (one each) */
    int rd_waiting, wt_waiting;
    uv_timer_t timer;  /* opts.timeout: stop the process */
    uv_timer_t wtimer; /* p:wait(timeout) */
    uv_timer_t rtimer; /* p:read(timeout) */
    int timers_open;
} lproc;

static void lp_maybe_free(lproc *lp)
{
    int i;
    if (!lp->gone || lp->timers_open)
        return;
    for (i = 0; i < 3; i++)
        free(lp->out[i].d);
    free(lp);
}

static void timer_closed(uv_handle_t *h)
{
    lproc *lp = h->data;
    lp->timers_open--;
    lp_maybe_free(lp);
}

static void push_result(lua_State *L, lproc *lp, int with_output)
{
    lua_createtable(L, 0, 6);
    if (lp->sig) {
        lua_pushinteger(L, 128 + lp->sig);
        lua_setfield(L, -2, "code");
        lua_pushinteger(L, lp->sig);
        lua_setfield(L, -2, "signal");
    } else {
        lua_pushinteger(L, (lua_Integer)lp->code);
        lua_setfield(L, -2, "code");
    }
    lua_pushboolean(L, lp->timed_out);
    lua_setfield(L, -2, "timed_out");
    lua_pushinteger(L, lp->pid);
    lua_setfield(L, -2, "pid");
    if (with_output) {
        lua_pushlstring(L, lp->out[1].d ? lp->out[1].d : "", lp->out[1].n);
        lua_setfield(L, -2, "stdout");
        lua_pushlstring(L, lp->out[2].d ? lp->out[2].d : "", lp->out[2].n);
        lua_setfield(L, -2, "stderr");
        if (lp->out[1].dropped + lp->out[2].dropped) {
            lua_pushinteger(L, (lua_Integer)(lp->out[1].dropped + lp->out[2].dropped));
            lua_setfield(L, -2, "dropped_bytes");
        }
    }
}

/* Pushes the next chunk (stream name, data) or nil on the reader's thread. */
static int push_chunk(lua_State *L, lproc *lp)
{
    int i;
    for (i = 1; i <= 2; i++) {
        if (lp->out[i].n) {
            lua_pushstring(L, i == 1 ? "stdout" : "stderr");
            lua_pushlstring(L, lp->out[i].d, lp->out[i].n);
            lp->out[i].n = 0;
            return 2;
        }
    }
    lua_pushnil(L);
    return 1;
}

static void on_data(vml_proc *p, int stream, const char *buf, size_t n, void *ud)
{
    lproc *lp = ud;
    obuf *b = &lp->out[stream];
    (void)p;
    if (n == 0) {
        b->eof = 1;
    } else {
        size_t room = lp->max_output > b->n ? lp->max_output - b->n : 0;
        size_t take = n < room ? n : room;
        if (b->n + take > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            char *nd;
            while (cap < b->n + take)
                cap *= 2;
            nd = realloc(b->d, cap);
            if (!nd) {
                take = 0;
            } else {
                b->d = nd;
                b->cap = cap;
            }
        }
        memcpy(b->d + b->n, buf, take);
        b->n += take;
        b->dropped += n - take;
    }
    if (lp->rd_waiting && (b->n || (lp->out[1].eof && lp->out[2].eof))) {
        lua_State *T = vml_await_thread(&lp->rd);
        lp->rd_waiting = 0;
        uv_timer_stop(&lp->rtimer);
        vml_await_resume(&lp->rd, push_chunk(T, lp));
    }
}

static void proc_exited(vml_proc *p, int64_t code, int sig, void *ud)
{
    lproc *lp = ud;
    (void)p;
    lp->exited = 1;
    lp->code = code;
    lp->sig = sig;
    lp->out[1].eof = lp->out[2].eof = 1;
    uv_timer_stop(&lp->timer);
    if (lp->rd_waiting) {
        lua_State *T = vml_await_thread(&lp->rd);
        lp->rd_waiting = 0;
        uv_timer_stop(&lp->rtimer);
        vml_await_resume(&lp->rd, push_chunk(T, lp));
    }
    if (lp->wt_waiting) {
        lua_State *T = vml_await_thread(&lp->wt);
        lp->wt_waiting = 0;
        uv_timer_stop(&lp->wtimer);
        push_result(T, lp, 1);
        vml_await_resume(&lp->wt, 1);
    }
}

static void on_timeout(uv_timer_t *t)
{
    lproc *lp = t->data;
    if (lp->exited || !lp->p)
        return;
    lp->timed_out = 1;
    vml_proc_stop(lp->p, lp->grace, NULL);
}

/* {===================================================================== options */

typedef struct envb {
    char **v;
    size_t n, cap;
    char **owned; /* our copies, freed after spawn */
    size_t on, ocap;
} envb;

static int env_push(void *ud, const char *entry)
{
    envb *e = ud;
    const char *eq = strchr(entry, '=');
    size_t i, klen = eq ? (size_t)(eq - entry) : strlen(entry);
    /* a later entry replaces an earlier one with the same name */
    for (i = 0; i < e->n; i++)
        if (strncmp(e->v[i], entry, klen) == 0 && e->v[i][klen] == '=') {
            e->v[i] = (char *)entry;
            return 0;
        }
    if (e->n + 2 > e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        char **nv = realloc(e->v, cap * sizeof *nv);
        if (!nv)
            return VML_ENOMEM;
        e->v = nv;
        e->cap = cap;
    }
    e->v[e->n++] = (char *)entry;
    e->v[e->n] = NULL;
    return 0;
}

static int env_push_copy(envb *e, const char *k, const char *v)
{
    size_t len = strlen(k) + strlen(v) + 2;
    char *s = malloc(len);
    if (!s)
        return VML_ENOMEM;
    if (e->on + 1 > e->ocap) {
        size_t cap = e->ocap ? e->ocap * 2 : 16;
        char **no = realloc(e->owned, cap * sizeof *no);
        if (!no) {
            free(s);
            return VML_ENOMEM;
        }
        e->owned = no;
        e->ocap = cap;
    }
    e->owned[e->on++] = s;
    snprintf(s, len, "%s=%s", k, v);
    return env_push(e, s);
}

static void env_free(envb *e)
{
    size_t i;
    for (i = 0; i < e->on; i++)
        free(e->owned[i]);
    free(e->owned);
    free(e->v);
    memset(e, 0, sizeof *e);
}

static int valid_env_name(const char *k)
{
    const char *p;
    if (!*k || (*k >= '0' && *k <= '9'))
        return 0;
    for (p = k; *p; p++)
        if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9')))
            return 0;
    return 1;
}

/* A spawn request being assembled: everything malloc'd lives here and is freed by its __gc,
 * so a raise while reading options leaks nothing. */
typedef struct req {
    char **argv;
    size_t argc;
    envb env;
    int use_env;
} req;

static int req_gc(lua_State *L)
{
    req *r = lua_touserdata(L, 1);
    size_t i;
    if (r->argv) {
        for (i = 0; i < r->argc; i++)
            free(r->argv[i]);
        free(r->argv);
        r->argv = NULL;
    }
    env_free(&r->env);
    return 0;
}

static int apply_secret(lua_State *L, req *r, int idx)
{
    const vml_secrets *s = vml_vault_lua_tosecrets(L, idx);
    if (!s)
        return luaL_error(L, "vibeml.proc: opts.secrets must be an open SecretEnv (from "
                             "require('vibeml.vault').env_for)");
    if (vml_secrets_env_apply(s, env_push, &r->env) < 0)
        return luaL_error(L, "vibeml.proc: out of memory");
    return 0;
}

static const char *sink_of(lua_State *L, int opts, const char *field, vml_proc_sink *sink,
                           vml_proc_sink dflt)
{
    const char *path = NULL;
    int t = lua_getfield(L, opts, field);
    *sink = dflt;
    if (t == LUA_TSTRING) {
        const char *v = lua_tostring(L, -1);
        if (strcmp(v, "pipe") == 0)
            *sink = VML_PROC_PIPE;
        else if (strcmp(v, "null") == 0)
            *sink = VML_PROC_NULL;
        else if (strcmp(v, "inherit") == 0)
            *sink = VML_PROC_INHERIT;
        else
            vml_lapi_argerror(L, 2,
                              "opts.%s must be \"pipe\", \"null\", \"inherit\" or "
                              "{file = path}, not \"%s\"",
                              field, v);
    } else if (t == LUA_TTABLE) {
        lua_getfield(L, -1, "file");
        path = vml_lua_checkcstr(L, -1);
        lua_pop(L, 1);
        *sink = VML_PROC_FILE;
    } else if (t != LUA_TNIL) {
        vml_lapi_argerror(L, 2, "opts.%s must be a string or {file = path}, not a %s", field,
                          luaL_typename(L, -1));
    }
    lua_pop(L, 1); /* the path string stays valid: the opts table anchors it */
    if (path) {
        lua_getfield(L, opts, field);
        lua_getfield(L, -1, "file");
        path = lua_tostring(L, -1);
        lua_pop(L, 2);
    }
    return path;
}

static double opt_number(lua_State *L, int opts, const char *field, double dflt)
{
    double v;
    lua_getfield(L, opts, field);
    v = luaL_optnumber(L, -1, dflt);
    lua_pop(L, 1);
    return v;
}

static int opt_bool(lua_State *L, int opts, const char *field)
{
    int v;
    lua_getfield(L, opts, field);
    v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Reads argv (1) and opts (2), spawns, pushes the Process userdata. Returns 1, or 3 (fail). */
static int do_spawn(lua_State *L, int capture_default)
{
    vml_proc_opts o;
    req *r;
    lproc *lp, **ud;
    size_t i, n;
    int opts, rc;
    double timeout;
    vml_err err;
    const char *stdin_data = NULL;
    size_t stdin_len = 0;

    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        lua_newtable(L);
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    opts = 2;
    memset(&o, 0, sizeof o);
    n = (size_t)lua_rawlen(L, 1);
    if (n == 0)
        return luaL_argerror(L, 1, "argv must list the program and its arguments");
    r = lua_newuserdatauv(L, sizeof *r, 0); /* [argv, opts, req] */
    memset(r, 0, sizeof *r);
    lua_newtable(L);
    lua_pushcfunction(L, req_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    r->argv = calloc(n + 1, sizeof *r->argv);
    if (!r->argv)
        return luaL_error(L, "out of memory");
    for (i = 0; i < n; i++) {
        size_t len;
        const char *a;
        lua_rawgeti(L, 1, (lua_Integer)i + 1);
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
            return vml_lapi_argerror(L, 1, "argv[%d] is a %s, not a string", (int)i + 1,
                                     luaL_typename(L, -1));
        a = lua_tolstring(L, -1, &len);
        if (strlen(a) != len)
            return vml_lapi_argerror(L, 1, "argv[%d] must not contain a NUL byte", (int)i + 1);
        r->argv[i] = strdup(a);
        lua_pop(L, 1);
        if (!r->argv[i])
            return luaL_error(L, "out of memory");
        r->argc = i + 1;
    }
    /* environment: ours (unless clear_env), then opts.env, then secrets */
    lua_getfield(L, opts, "env");
    if (!lua_isnil(L, -1) || opt_bool(L, opts, "clear_env")) {
        r->use_env = 1;
    }
    lua_getfield(L, opts, "secrets");
    if (!lua_isnil(L, -1))
        r->use_env = 1;
    lua_pop(L, 1);
    if (r->use_env) {
        char **e;
        if (!opt_bool(L, opts, "clear_env"))
            for (e = environ; *e; e++)
                if (env_push(&r->env, *e) < 0)
                    return luaL_error(L, "out of memory");
        if (lua_istable(L, -1)) {
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                const char *k, *v;
                if (lua_type(L, -2) != LUA_TSTRING || !vml_lua_tocstr(L, -2) ||
                    !valid_env_name(lua_tostring(L, -2)))
                    return vml_lapi_argerror(L, 2,
                                             "opts.env names must match "
                                             "[A-Za-z_][A-Za-z0-9_]*");
                k = lua_tostring(L, -2);
                if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
                    /* env = {NAME = false} removes NAME */
                    size_t j, kl = strlen(k);
                    for (j = 0; j < r->env.n; j++)
                        if (strncmp(r->env.v[j], k, kl) == 0 && r->env.v[j][kl] == '=') {
                            r->env.v[j] = r->env.v[--r->env.n];
                            r->env.v[r->env.n] = NULL;
                            break;
                        }
                    lua_pop(L, 1);
                    continue;
                }
                if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
                    return vml_lapi_argerror(L, 2,
                                             "opts.env.%s must be a string (or false "
                                             "to remove it)",
                                             k);
                if (!(v = vml_lua_tocstr(L, -1)))
                    return vml_lapi_argerror(L, 2, "opts.env.%s must not contain a NUL byte", k);
                if (env_push_copy(&r->env, k, v) < 0)
                    return luaL_error(L, "out of memory");
                lua_pop(L, 1);
            }
        } else if (!lua_isnil(L, -1)) {
            return vml_lapi_argerror(L, 2, "opts.env must be a table of NAME = value, not a %s",
                                     luaL_typename(L, -1));
        }
    }
    lua_pop(L, 1);
    lua_getfield(L, opts, "secrets");
    if (lua_istable(L, -1) && !lua_getmetatable(L, -1)) {
        lua_Integer k, m = (lua_Integer)lua_rawlen(L, -1);
        for (k = 1; k <= m; k++) {
            lua_rawgeti(L, -1, k);
            apply_secret(L, r, lua_gettop(L));
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        if (lua_istable(L, -1))
            lua_pop(L, 1); /* the metatable pushed by lua_getmetatable */
        apply_secret(L, r, lua_gettop(L));
    }
    lua_pop(L, 1);
    if (r->use_env && !r->env.v) { /* an empty environment, not "inherit ours" */
        r->env.v = calloc(1, sizeof *r->env.v);
        if (!r->env.v)
            return luaL_error(L, "out of memory");
    }
    lua_getfield(L, opts, "stdin");
    if (!lua_isnil(L, -1))
        stdin_data = luaL_checklstring(L, -1, &stdin_len); /* anchored by opts */
    lua_pop(L, 1);
    lua_getfield(L, opts, "cwd");
    o.cwd = vml_lua_optcstr(L, -1, NULL); /* anchored by opts */
    lua_pop(L, 1);
    o.out_path =
        sink_of(L, opts, "stdout", &o.out, capture_default ? VML_PROC_PIPE : VML_PROC_PIPE);
    o.err_path = sink_of(L, opts, "stderr", &o.err, VML_PROC_PIPE);
    o.detached = opt_bool(L, opts, "detached");
    o.new_group = o.detached || opt_bool(L, opts, "group");
    timeout = opt_number(L, opts, "timeout", 0);

    /* the handle: a userdata pointing at heap state the process callbacks may outlive it with */
    ud = lua_newuserdatauv(L, sizeof *ud, 0); /* [argv, opts, req, ud] */
    *ud = NULL;
    luaL_setmetatable(L, PROC_TYPE);
    lp = calloc(1, sizeof *lp);
    if (!lp)
        return luaL_error(L, "out of memory");
    *ud = lp;
    lp->max_output = (size_t)opt_number(L, opts, "max_output", DEFAULT_MAX_OUTPUT);
    lp->grace = opt_number(L, opts, "grace", 5);
    uv_timer_init(vml_loop(), &lp->timer);
    uv_timer_init(vml_loop(), &lp->wtimer);
    uv_timer_init(vml_loop(), &lp->rtimer);
    lp->timer.data = lp->wtimer.data = lp->rtimer.data = lp;
    lp->timers_open = 3;
    o.argv = (const char *const *)r->argv;
    o.env = r->use_env ? (const char *const *)r->env.v : NULL;
    o.stdin_data = stdin_data;
    o.stdin_len = stdin_len;
    o.on_data = on_data;
    o.on_exit = proc_exited;
    o.ud = lp;
    rc = vml_proc_spawn(&o, &lp->p, &err);
    /* the secrets' entries were borrowed: the kernel copied them; drop our pointers now */
    env_free(&r->env);
    if (rc < 0) {
        lp->exited = 1;
        return vml_lua_fail(L, &err);
    }
    lp->pid = vml_proc_pid(lp->p);
    if (o.out != VML_PROC_PIPE)
        lp->out[1].eof = 1;
    if (o.err != VML_PROC_PIPE)
        lp->out[2].eof = 1;
    if (timeout > 0)
        uv_timer_start(&lp->timer, on_timeout, (uint64_t)(timeout * 1000.0), 0);
    if (o.detached) {
        uv_unref((uv_handle_t *)&lp->timer);
        uv_unref((uv_handle_t *)&lp->wtimer);
        uv_unref((uv_handle_t *)&lp->rtimer);
    }
    return 1;
}

/* }===================================================================== */

static lproc *check_proc(lua_State *L)
{
    lproc **ud = luaL_checkudata(L, 1, PROC_TYPE);
    if (!*ud)
        luaL_error(L, "vibeml.proc: the process handle was released");
    return *ud;
}

static void wait_cancel(vml_await *a)
{
    lproc *lp = a->data;
    lp->wt_waiting = 0;
    uv_timer_stop(&lp->wtimer);
}

static void rd_cancel(vml_await *a)
{
    lproc *lp = a->data;
    lp->rd_waiting = 0;
    uv_timer_stop(&lp->rtimer);
}

static void on_read_timeout(uv_timer_t *t)
{
    lproc *lp = t->data;
    lua_State *T;
    if (!lp->rd_waiting)
        return;
    lp->rd_waiting = 0;
    T = vml_await_thread(&lp->rd);
    vml_await_resume(&lp->rd, vml_lapi_fail(T, VML_ETIMEOUT, "timeout"));
}

static void on_wait_timeout(uv_timer_t *t)
{
    lproc *lp = t->data;
    lua_State *T;
    if (!lp->wt_waiting)
        return;
    lp->wt_waiting = 0;
    T = vml_await_thread(&lp->wt);
    vml_await_resume(&lp->wt,
                     vml_lapi_fail(T, VML_ETIMEOUT, "timeout: the process is still running"));
}

static int do_wait(lua_State *L, lproc *lp, double timeout)
{
    if (lp->exited) {
        push_result(L, lp, 1);
        return 1;
    }
    if (lp->wt_waiting)
        return luaL_error(L, "vibeml.proc: another task is already waiting on this process");
    lp->wt_waiting = 1;
    lp->wt.data = lp;
    if (timeout > 0)
        uv_timer_start(&lp->wtimer, on_wait_timeout, (uint64_t)(timeout * 1000.0), 0);
    return vml_await_yield(L, &lp->wt, wait_cancel);
}

static int l_wait(lua_State *L)
{
    lproc *lp = check_proc(L);
    double timeout = luaL_optnumber(L, 2, 0);
    return do_wait(L, lp, timeout);
}

static int l_read(lua_State *L)
{
    lproc *lp = check_proc(L);
    double timeout = luaL_optnumber(L, 2, 0);
    if (lp->out[1].n || lp->out[2].n || (lp->out[1].eof && lp->out[2].eof))
        return push_chunk(L, lp);
    if (lp->rd_waiting)
        return luaL_error(L, "vibeml.proc: another task is already reading this process");
    lp->rd_waiting = 1;
    lp->rd.data = lp;
    if (timeout > 0)
        uv_timer_start(&lp->rtimer, on_read_timeout, (uint64_t)(timeout * 1000.0), 0);
    return vml_await_yield(L, &lp->rd, rd_cancel);
}

static int signal_of(lua_State *L, int idx, int dflt)
{
    static const struct {
        const char *name;
        int sig;
    } sigs[] = {{"TERM", SIGTERM}, {"KILL", SIGKILL}, {"INT", SIGINT},
                {"HUP", SIGHUP},   {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
                {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"QUIT", SIGQUIT}};
    size_t i;
    const char *s;
    if (lua_isnoneornil(L, idx))
        return dflt;
    if (lua_isinteger(L, idx))
        return (int)lua_tointeger(L, idx);
    s = vml_lua_checkcstr(L, idx);
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (strcmp(s, sigs[i].name) == 0)
            return sigs[i].sig;
    return luaL_argerror(L, idx, "unknown signal (TERM, KILL, INT, HUP, USR1, USR2, ...)");
}

static int l_kill(lua_State *L)
{
    lproc *lp = check_proc(L);
    int sig = signal_of(L, 2, SIGTERM);
    vml_err err;
    if (!lp->p || vml_proc_kill(lp->p, sig, &err) < 0) {
        if (!lp->p)
            vml_err_set(&err, VML_ENOENT, "process already ended");
        return vml_lua_fail(L, &err);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_stop(lua_State *L)
{
    lproc *lp = check_proc(L);
    double grace = luaL_optnumber(L, 2, lp->grace);
    vml_err err;
    if (lp->p && vml_proc_stop(lp->p, grace, &err) < 0)
        return vml_lua_fail(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_pid(lua_State *L)
{
    lproc *lp = check_proc(L);
    lua_pushinteger(L, lp->pid);
    return 1;
}

static int l_exited(lua_State *L)
{
    lproc *lp = check_proc(L);
    lua_pushboolean(L, lp->exited);
    return 1;
}

static int l_release(lua_State *L)
{
    lproc **ud = luaL_checkudata(L, 1, PROC_TYPE);
    lproc *lp = *ud;
    if (!lp)
        return 0;
    *ud = NULL;
    if (lp->p)
        vml_proc_release(lp->p);
    lp->p = NULL;
    lp->gone = 1;
    uv_timer_stop(&lp->timer);
    uv_timer_stop(&lp->wtimer);
    uv_timer_stop(&lp->rtimer);
    uv_close((uv_handle_t *)&lp->timer, timer_closed);
    uv_close((uv_handle_t *)&lp->wtimer, timer_closed);
    uv_close((uv_handle_t *)&lp->rtimer, timer_closed);
    return 0;
}

static int l_tostring(lua_State *L)
{
    lproc **ud = luaL_checkudata(L, 1, PROC_TYPE);
    if (!*ud)
        lua_pushliteral(L, "vibeml.Process(released)");
    else
        lua_pushfstring(L, "vibeml.Process(%d%s)", (int)(*ud)->pid,
                        (*ud)->exited ? ", exited" : "");
    return 1;
}

static int l_spawn(lua_State *L)
{
    return do_spawn(L, 0);
}

static int l_run(lua_State *L)
{
    int n = do_spawn(L, 1);
    lproc *lp;
    if (n != 1)
        return n;
    lp = *(lproc **)lua_touserdata(L, -1);
    /* the handle stays on this stack while we wait, so it is not collected */
    return do_wait(L, lp, 0);
}

static int l_alive(lua_State *L)
{
    lua_Integer pid = luaL_checkinteger(L, 1);
    lua_Integer start = luaL_optinteger(L, 2, 0);
    lua_pushboolean(L, vml_proc_alive((pid_t)pid, (uint64_t)start));
    return 1;
}

static int l_start_time(lua_State *L)
{
    uint64_t t = vml_proc_start_time((pid_t)luaL_checkinteger(L, 1));
    if (!t)
        lua_pushnil(L);
    else
        lua_pushinteger(L, (lua_Integer)t);
    return 1;
}

static int l_signal(lua_State *L)
{
    lua_Integer pgid = luaL_checkinteger(L, 1);
    int sig = signal_of(L, 2, SIGTERM);
    vml_err err;
    if (vml_proc_signal_group((pid_t)pgid, sig, &err) < 0)
        return vml_lua_fail(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_self_exe(lua_State *L)
{
    char buf[4096];
    vml_err err;
    if (vml_proc_self_exe(buf, sizeof buf, &err) < 0)
        return vml_lua_fail(L, &err);
    lua_pushstring(L, buf);
    return 1;
}

static int l_getpid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)getpid());
    return 1;
}

static const luaL_Reg proc_methods[] = {
    {"wait", l_wait}, {"read", l_read},     {"kill", l_kill},       {"stop", l_stop},
    {"pid", l_pid},   {"exited", l_exited}, {"release", l_release}, {NULL, NULL},
};

static const luaL_Reg proc_funcs[] = {
    {"run", l_run},       {"spawn", l_spawn},
    {"alive", l_alive},   {"start_time", l_start_time},
    {"signal", l_signal}, {"self_exe", l_self_exe},
    {"getpid", l_getpid}, {NULL, NULL},
};

static int open_proc(lua_State *L)
{
    if (luaL_newmetatable(L, PROC_TYPE)) {
        luaL_newlib(L, proc_methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_release);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    luaL_newlib(L, proc_funcs);
    return 1;
}

const vml_lapi vml_lapi_proc = {"proc", open_proc, VML_PROFILE_SCRIPT};
