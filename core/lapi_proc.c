/* SPDX-License-Identifier: MIT
 *
 * lapi_proc — running a program and waiting for it without blocking the loop (SCRIPT profile):
 *   vibeml.proc.run(argv [, {timeout = seconds, max_output = bytes}])
 *       -> {code = exit status | nil, signal = number | nil, stdout = text, stderr = text,
 *           timed_out = bool, truncated = bool}
 *       | nil, message, "VML_ENOENT" (program not found) / "VML_EPROC"
 *   argv is a list of strings: argv[1] is the program (searched on PATH when it has no '/'),
 *   never a shell string. stdin is /dev/null. The calling task waits; when it is cancelled, or
 *   the timeout passes, the child gets SIGTERM, then SIGKILL one second later.
 *   stdout/stderr are kept up to max_output bytes each (default 8 MiB); the rest is drained and
 *   dropped (truncated = true).
 *
 * Deliberately small: the jobs module (core/proc.c) owns detached supervisors, process groups
 * and streaming; this is the one-shot "run and read" used by check_setup and friends.
 *
 * Uses: loop, script, err, libuv.
 */
#include <lauxlib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "script.h"

typedef struct outbuf {
    char *data;
    size_t len, cap, max;
    int truncated;
} outbuf;

typedef struct prun {
    vml_await await;
    uv_process_t proc;
    uv_pipe_t out, err;
    uv_timer_t timer;
    outbuf ob[2];
    int open_handles;
    int exited, streams_open, waiting, timed_out, killed_hard;
    int64_t status;
    int term_signal;
} prun;

static void prun_free(prun *p)
{
    free(p->ob[0].data);
    free(p->ob[1].data);
    free(p);
}

static void on_closed(uv_handle_t *h)
{
    prun *p = h->data;
    if (--p->open_handles == 0)
        prun_free(p);
}

static void close_all(prun *p)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&p->proc, (uv_handle_t *)&p->out, (uv_handle_t *)&p->err,
                         (uv_handle_t *)&p->timer};
    size_t i;
    for (i = 0; i < 4; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], on_closed);
}

static void finish(prun *p)
{
    lua_State *L;
    if (!p->exited || p->streams_open > 0)
        return;
    uv_timer_stop(&p->timer);
    if (p->waiting) {
        p->waiting = 0;
        L = vml_await_thread(&p->await);
        lua_createtable(L, 0, 6);
        if (p->term_signal) {
            lua_pushinteger(L, p->term_signal);
            lua_setfield(L, -2, "signal");
        } else {
            lua_pushinteger(L, (lua_Integer)p->status);
            lua_setfield(L, -2, "code");
        }
        lua_pushlstring(L, p->ob[0].data ? p->ob[0].data : "", p->ob[0].len);
        lua_setfield(L, -2, "stdout");
        lua_pushlstring(L, p->ob[1].data ? p->ob[1].data : "", p->ob[1].len);
        lua_setfield(L, -2, "stderr");
        lua_pushboolean(L, p->timed_out);
        lua_setfield(L, -2, "timed_out");
        lua_pushboolean(L, p->ob[0].truncated || p->ob[1].truncated);
        lua_setfield(L, -2, "truncated");
        close_all(p);
        vml_await_resume(&p->await, 1);
        return;
    }
    close_all(p);
}

static void on_exit_cb(uv_process_t *h, int64_t status, int sig)
{
    prun *p = h->data;
    p->exited = 1;
    p->status = status;
    p->term_signal = sig;
    finish(p);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char scratch[65536];
    prun *p = h->data;
    outbuf *o = &p->ob[(uv_pipe_t *)h == &p->out ? 0 : 1];
    (void)suggested;
    if (o->len >= o->max) {
        buf->base = scratch; /* drain and drop */
        buf->len = sizeof scratch;
        return;
    }
    if (o->cap - o->len < 16384) {
        size_t cap = o->cap ? o->cap * 2 : 32768;
        char *nb = realloc(o->data, cap);
        if (!nb) {
            buf->base = scratch;
            buf->len = sizeof scratch;
            return;
        }
        o->data = nb;
        o->cap = cap;
    }
    buf->base = o->data + o->len;
    buf->len = o->cap - o->len;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    prun *p = s->data;
    outbuf *o = &p->ob[(uv_pipe_t *)s == &p->out ? 0 : 1];
    if (n > 0) {
        if (o->data && buf->base >= o->data && buf->base < o->data + o->cap) {
            o->len += (size_t)n;
            if (o->len > o->max) {
                o->len = o->max;
                o->truncated = 1;
            }
        } else {
            o->truncated = 1;
        }
        return;
    }
    if (n < 0) {
        uv_read_stop(s);
        p->streams_open--;
        finish(p);
    }
}

static void on_timer(uv_timer_t *t)
{
    prun *p = t->data;
    if (!p->killed_hard && p->timed_out) {
        p->killed_hard = 1;
        uv_process_kill(&p->proc, SIGKILL);
        return;
    }
    p->timed_out = 1;
    uv_process_kill(&p->proc, SIGTERM);
    uv_timer_start(&p->timer, on_timer, 1000, 0);
}

/* The task was cancelled: kill the child; the handles close when it is gone. */
static void prun_cancel(vml_await *a)
{
    prun *p = a->data;
    p->waiting = 0;
    if (!p->exited) {
        uv_process_kill(&p->proc, SIGTERM);
        p->timed_out = 1; /* next timer tick escalates */
        uv_timer_start(&p->timer, on_timer, 1000, 0);
    }
    finish(p);
}

static int l_run(lua_State *L)
{
    uv_loop_t *loop = vml_loop();
    uv_process_options_t o;
    uv_stdio_container_t io[3];
    char **argv = NULL;
    int n, i, rc;
    double timeout = 0;
    lua_Integer max_out = 8 << 20;
    prun *p;

    luaL_checktype(L, 1, LUA_TTABLE);
    n = (int)luaL_len(L, 1);
    luaL_argcheck(L, n >= 1, 1, "argv must list at least the program");
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "timeout");
        timeout = luaL_optnumber(L, -1, 0);
        lua_getfield(L, 2, "max_output");
        max_out = luaL_optinteger(L, -1, max_out);
        lua_pop(L, 2);
    }
    luaL_argcheck(L, timeout >= 0 && timeout < 1e7, 2, "timeout must be >= 0 seconds");
    luaL_argcheck(L, max_out >= 0, 2, "max_output must be >= 0");
    argv = lua_newuserdatauv(L, sizeof(char *) * ((size_t)n + 1), 0); /* freed by the GC */
    for (i = 0; i < n; i++) {
        lua_geti(L, 1, i + 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "argv[%d] must be a string", i + 1);
        argv[i] = (char *)lua_tostring(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &argv[i]); /* keep the string alive meanwhile */
    }
    argv[n] = NULL;
    p = calloc(1, sizeof *p);
    if (!p)
        return luaL_error(L, "out of memory");
    p->ob[0].max = p->ob[1].max = (size_t)max_out;
    p->await.data = p;
    uv_pipe_init(loop, &p->out, 0);
    uv_pipe_init(loop, &p->err, 0);
    uv_timer_init(loop, &p->timer);
    p->out.data = p->err.data = p->timer.data = p->proc.data = p;
    memset(&o, 0, sizeof o);
    io[0].flags = UV_IGNORE;
    io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    io[1].data.stream = (uv_stream_t *)&p->out;
    io[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    io[2].data.stream = (uv_stream_t *)&p->err;
    o.file = argv[0];
    o.args = argv;
    o.exit_cb = on_exit_cb;
    o.stdio = io;
    o.stdio_count = 3;
    rc = uv_spawn(loop, &p->proc, &o);
    for (i = 0; i < n; i++) {
        lua_pushnil(L);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &argv[i]);
    }
    if (rc < 0) {
        vml_err err;
        /* the process handle must be closed too, even though spawn failed */
        p->open_handles = 4;
        uv_close((uv_handle_t *)&p->proc, on_closed);
        uv_close((uv_handle_t *)&p->out, on_closed);
        uv_close((uv_handle_t *)&p->err, on_closed);
        uv_close((uv_handle_t *)&p->timer, on_closed);
        vml_err_set(&err, rc == UV_ENOENT ? VML_ENOENT : VML_EPROC, "cannot run '%s': %s",
                    lua_tostring(L, -1) ? argv[0] : argv[0], uv_strerror(rc));
        return vml_lua_fail(L, &err);
    }
    p->open_handles = 4;
    p->streams_open = 2;
    p->waiting = 1;
    uv_read_start((uv_stream_t *)&p->out, alloc_cb, on_read);
    uv_read_start((uv_stream_t *)&p->err, alloc_cb, on_read);
    if (timeout > 0)
        uv_timer_start(&p->timer, on_timer, (uint64_t)(timeout * 1000.0 + 0.5), 0);
    return vml_await_yield(L, &p->await, prun_cancel);
}

static const luaL_Reg proc_funcs[] = {
    {"run", l_run},
    {NULL, NULL},
};

static int open_proc(lua_State *L)
{
    luaL_newlib(L, proc_funcs);
    return 1;
}

const vml_lapi vml_lapi_proc = {"proc", open_proc, VML_PROFILE_SCRIPT};
