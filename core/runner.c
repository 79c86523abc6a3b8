/* SPDX-License-Identifier: MIT
 * runner — a task run to completion (see runner.h). */
#include "runner.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "loop.h"

typedef struct run_state {
    vml_script *s;
    vml_task *task;
    int done;
    int rc;
    int exit_code;
    vml_err err;
    uv_timer_t timer;
    uv_signal_t sigint, sigterm;
} run_state;

int vml_runner_exit_code(int code)
{
    switch (code) {
    case 0:
        return VML_EXIT_OK;
    case VML_EUSAGE:
        return VML_EXIT_USAGE;
    case VML_ETIMEOUT:
    case VML_EBUDGET:
    case VML_ELIMIT:
    case VML_EMONEY:
        return VML_EXIT_LIMIT;
    default:
        return VML_EXIT_FAIL;
    }
}

static void on_done(vml_task *t, int rc, const vml_err *err, void *ud)
{
    run_state *r = ud;
    lua_State *co = vml_task_thread(t);
    r->done = 1;
    r->rc = rc;
    if (rc < 0) {
        r->err = *err;
        /* an error table may name its code ("VML_EUSAGE"): map it to its exit code */
        if (lua_gettop(co) > 0 && lua_istable(co, -1)) {
            const char *code;
            lua_getfield(co, -1, "code");
            code = lua_tostring(co, -1);
            if (code && strcmp(code, "VML_EUSAGE") == 0)
                r->err.code = VML_EUSAGE;
            else if (code && strcmp(code, "VML_EMONEY") == 0)
                r->err.code = VML_EMONEY;
            if (code) {
                /* a structured error is an answer for the person, not a crash: no traceback */
                char *tb = strstr(r->err.msg, "\nstack traceback:");
                if (tb)
                    *tb = '\0';
            }
            lua_pop(co, 1);
        }
        r->rc = r->err.code;
        r->exit_code = vml_runner_exit_code(r->rc);
    } else {
        r->exit_code =
            (lua_gettop(co) >= 1 && lua_isinteger(co, 1)) ? (int)lua_tointeger(co, 1) : 0;
    }
}

static void on_timeout(uv_timer_t *h)
{
    run_state *r = h->data;
    vml_script_trip(r->s, VML_ETIMEOUT);
    if (r->task)
        vml_task_cancel(r->task, VML_ETIMEOUT);
}

static void on_signal(uv_signal_t *h, int sig)
{
    run_state *r = h->data;
    (void)sig;
    if (r->task)
        vml_task_cancel(r->task, VML_ECANCELED);
}

static void noop_close(uv_handle_t *h)
{
    (void)h;
}

/* A message for the person at the terminal: an error raised inside VibeML's own Lua
 * ("lua/vibeml/cli/budget.lua:36: the state database ...") loses the internal location, which
 * says nothing to them; a user script's "file:line: " stays (they need it). */
static const char *user_message(const char *msg)
{
    const char *p = msg;
    if (strncmp(p, "lua/vibeml/", 11) != 0)
        return msg;
    p = strstr(p, ".lua:");
    if (!p)
        return msg;
    p += 5;
    if (*p < '0' || *p > '9')
        return msg;
    while (*p >= '0' && *p <= '9')
        p++;
    if (p[0] != ':' || p[1] != ' ')
        return msg;
    return p + 2;
}

int vml_runner_exec(vml_script *s, int nargs, vml_err *err)
{
    run_state r;
    uv_loop_t *loop = vml_loop();
    int rc;

    memset(&r, 0, sizeof r);
    r.s = s;
    uv_timer_init(loop, &r.timer);
    r.timer.data = &r;
    uv_signal_init(loop, &r.sigint);
    uv_signal_init(loop, &r.sigterm);
    r.sigint.data = r.sigterm.data = &r;
    uv_signal_start(&r.sigint, on_signal, SIGINT);
    uv_signal_start(&r.sigterm, on_signal, SIGTERM);
    uv_unref((uv_handle_t *)&r.sigint);
    uv_unref((uv_handle_t *)&r.sigterm);
    vml_script_arm(s);
    if (s->limits.timeout > 0) {
        uv_timer_start(&r.timer, on_timeout, (uint64_t)(s->limits.timeout * 1000.0) + 1, 0);
        uv_unref((uv_handle_t *)&r.timer);
    }
    rc = vml_task_spawn(s, nargs, on_done, &r, &r.task, &r.err);
    if (rc < 0) {
        r.done = 1;
        r.rc = rc;
        r.exit_code = VML_EXIT_FAIL;
    }
    while (!r.done) {
        /* the timer is unref'd so a finished script never waits for it; while the task still
         * waits on something, keep the loop turning */
        if (!uv_run(loop, UV_RUN_ONCE) && !r.done) {
            vml_err_set(&r.err, VML_ESTATE,
                        "the script is waiting on nothing (a bug: an await "
                        "without an operation)");
            r.rc = r.err.code;
            r.exit_code = VML_EXIT_FAIL;
            if (r.task)
                vml_task_cancel(r.task, VML_ECANCELED);
            break;
        }
    }
    uv_timer_stop(&r.timer);
    uv_close((uv_handle_t *)&r.timer, noop_close);
    uv_close((uv_handle_t *)&r.sigint, noop_close);
    uv_close((uv_handle_t *)&r.sigterm, noop_close);
    uv_run(loop, UV_RUN_NOWAIT);
    if (r.rc < 0) {
        fprintf(stderr, "vibeml: %s\n", user_message(vml_err_msg(&r.err)));
        if (err)
            *err = r.err;
    }
    return r.exit_code;
}
