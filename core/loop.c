/* SPDX-License-Identifier: MIT
 *
 * loop — tasks and awaits on the libuv loop (see loop.h).
 *
 * Uses: script (await token, vml_script.task_cancel), err, libuv, Lua 5.4.
 */
#include "loop.h"

#include <lauxlib.h>
#include <stdlib.h>

struct vml_task {
    vml_script *s;
    lua_State *L; /* the coroutine */
    int ref;      /* registry reference anchoring it */
    vml_task_done_fn done;
    void *ud;
    vml_await *await; /* the operation it waits on, or NULL */
    int cancel_code;  /* non-zero once cancelled */
    int running;      /* inside lua_resume */
    vml_task **out;   /* the spawner's pointer, cleared when the task ends */
};

static vml_task *g_current;

uv_loop_t *vml_loop(void)
{
    return uv_default_loop();
}

vml_task *vml_task_current(void)
{
    return g_current;
}

lua_State *vml_task_thread(vml_task *t)
{
    return t->L;
}

void *vml_task_userdata(vml_task *t)
{
    return t->ud;
}

static void task_finish(vml_task *t, int status)
{
    vml_script *s = t->s;
    vml_err err;
    int rc = 0;

    vml_err_clear(&err);
    if (status == LUA_OK && s->trip && s->trip != VML_ECANCELED) {
        /* the code swallowed a limit error and returned: the limit still stands */
        char buf[128];
        lua_settop(t->L, 0);
        lua_pushstring(t->L, vml_script_trip_text(s, s->trip, buf, sizeof buf));
        status = LUA_ERRRUN;
    }
    if (status != LUA_OK) {
        const char *tb = NULL;
        int code = t->cancel_code ? t->cancel_code : vml_script_failcode(s, VML_ELUA);
        if (status == LUA_ERRMEM && !t->cancel_code)
            code = vml_script_failcode(s, VML_ENOMEM);
        if (status != LUA_ERRMEM) {
            luaL_traceback(s->L, t->L, NULL, 0);
            tb = lua_tostring(s->L, -1);
        }
        if (code == VML_ELIMIT) {
            char buf[128];
            rc = vml_err_set(&err, code, "%s", vml_script_trip_text(s, code, buf, sizeof buf));
        } else {
            rc = vml_script_error_from(t->L, -1, code, tb, &err);
        }
        if (status != LUA_ERRMEM)
            lua_pop(s->L, 1);
    }
    if (t->out)
        *t->out = NULL;
    if (t->done)
        t->done(t, rc, rc ? &err : NULL, t->ud);
    luaL_unref(s->L, LUA_REGISTRYINDEX, t->ref);
    free(t);
}

static void task_step(vml_task *t, int nargs)
{
    vml_task *prev = g_current;
    int nres = 0, status;

    lua_State *prev_running = t->s->running;
    const int *prev_cancel = t->s->task_cancel;

    g_current = t;
    t->running = 1;
    t->s->running = t->L;
    t->s->task_cancel = &t->cancel_code; /* the count hook stops a cancelled task */
    status = lua_resume(t->L, NULL, nargs, &nres);
    t->s->running = prev_running;
    t->s->task_cancel = prev_cancel;
    t->running = 0;
    g_current = prev;
    if (status == LUA_YIELD) {
        int awaiting =
            t->await && nres >= 1 && lua_touserdata(t->L, -1) == (void *)&vml__script_await_token;
        lua_pop(t->L, nres);
        if (awaiting)
            return;
        /* a bare coroutine.yield at the task's top level: nothing would ever resume it */
        lua_pushliteral(t->L, "coroutine.yield called outside a coroutine");
        status = LUA_ERRRUN;
    }
    task_finish(t, status);
}

int vml_task_spawn(vml_script *s, int nargs, vml_task_done_fn done, void *ud, vml_task **out,
                   vml_err *err)
{
    lua_State *L = s->L;
    vml_task *t = calloc(1, sizeof *t);

    if (out)
        *out = NULL;
    if (!t) {
        lua_pop(L, nargs + 1);
        return vml_err_set(err, VML_ENOMEM, "out of memory starting a task");
    }
    t->s = s;
    t->done = done;
    t->ud = ud;
    t->L = lua_newthread(L);                 /* [f, args..., co] */
    t->ref = luaL_ref(L, LUA_REGISTRYINDEX); /* [f, args...] */
    lua_xmove(L, t->L, nargs + 1);           /* the coroutine now holds f and args */
    if (out) {
        *out = t;
        t->out = out;
    }
    task_step(t, nargs);
    return 0;
}

void vml_task_cancel(vml_task *t, int code)
{
    vml_await *a;
    if (t->cancel_code)
        return;
    t->cancel_code = code ? code : VML_ECANCELED;
    if (t->running || !t->await)
        return; /* running: the hook sees cancel_code at its next check */
    a = t->await;
    t->await = NULL;
    a->task = NULL;
    if (a->cancel)
        a->cancel(a);
    task_step(t, 0); /* the continuation raises */
}

/* Continuation of a C function that waited: its results are what the completer pushed. */
static int await_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    if (g_current && g_current->cancel_code) {
        char buf[128];
        return luaL_error(
            L, "%s",
            vml_script_trip_text(vml_script_from(L), g_current->cancel_code, buf, sizeof buf));
    }
    return lua_gettop(L) - (int)ctx;
}

int vml_await_yield(lua_State *L, vml_await *a, void (*cancel)(vml_await *))
{
    vml_task *t = g_current;
    int top = lua_gettop(L);
    if (!t || !lua_isyieldable(L) || t->cancel_code) {
        if (cancel)
            cancel(a);
        if (!t)
            return luaL_error(L, "cannot wait here: waiting works only inside a task (a "
                                 "`vibeml run` script or a tool call)");
        if (t->cancel_code)
            return luaL_error(L, "canceled");
        return luaL_error(L, "cannot wait inside a metamethod, a table.sort comparator or "
                             "another callback of a C function");
    }
    a->task = t;
    a->cancel = cancel;
    t->await = a;
    lua_pushlightuserdata(L, &vml__script_await_token);
    return lua_yieldk(L, 1, top, await_k);
}

lua_State *vml_await_thread(vml_await *a)
{
    return a->task->L;
}

void vml_await_resume(vml_await *a, int nres)
{
    vml_task *t = a->task;
    if (!t)
        return;
    a->task = NULL;
    t->await = NULL;
    task_step(t, nres);
}

int vml_loop_run_until(volatile int *flag)
{
    uv_loop_t *loop = vml_loop();
    while (!*flag && uv_run(loop, UV_RUN_ONCE))
        ;
    return 0;
}
