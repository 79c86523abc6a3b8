/* SPDX-License-Identifier: MIT
 *
 * loop — the process's libuv event loop, tasks, and awaits.
 *
 * A task is a Lua coroutine of a SCRIPT-profile state that the loop drives: vml_task_spawn()
 * resumes it at once; when a C function inside it must wait (a timer, a child process, an HTTP
 * reply, an MCP client's answer) it starts the operation and returns vml_await_yield(); the
 * coroutine yields to the loop, and the operation's callback pushes the results and calls
 * vml_await_resume(). Coroutines that the script makes itself pass such waits through (see the
 * prelude in script.c). Waiting therefore costs no Lua instructions and blocks nothing else:
 * `vibeml run` scripts wait hours on jobs; an MCP server runs many tool calls at once.
 *
 * Rule (libuv's): if a function that takes a callback fails, the callback is never called.
 *
 * Uses: script, err, libuv.
 */
#ifndef VML_LOOP_H
#define VML_LOOP_H

#include <uv.h>

#include "err.h"
#include "script.h"

/* The process's loop (libuv's default loop). Borrowed. */
uv_loop_t *vml_loop(void);

typedef struct vml_task vml_task;
typedef struct vml_await vml_await;

/* Called once when the task's function returns (rc 0, results on the task's thread, see
 * vml_task_thread) or fails (rc < 0, err filled: message, file:line and traceback). The task is
 * freed after this returns. */
typedef void (*vml_task_done_fn)(vml_task *t, int rc, const vml_err *err, void *ud);

/* Runs the function on s->L below nargs arguments as a new task [-(nargs+1), +0, -]. It is
 * resumed at once, so done may be called before this returns. *out (may be NULL) receives the
 * task while it lives. */
int vml_task_spawn(vml_script *s, int nargs, vml_task_done_fn done, void *ud, vml_task **out,
                   vml_err *err);
/* Ends the task with code (VML_ECANCELED, VML_ETIMEOUT...): an operation it waits on is
 * cancelled and the task resumes into an error it cannot catch for good. */
void vml_task_cancel(vml_task *t, int code);
/* The task's coroutine; its stack holds the results inside the done callback. Borrowed. */
lua_State *vml_task_thread(vml_task *t);
/* The task now running Lua code, or NULL. */
vml_task *vml_task_current(void);
/* The task's user pointer (as given to spawn). */
void *vml_task_userdata(vml_task *t);

/* An operation a task waits on. Embed it in the operation's own struct. */
struct vml_await {
    vml_task *task;               /* set by vml_await_yield */
    void (*cancel)(vml_await *a); /* stops the operation; must not call vml_await_resume */
    void *data;                   /* the operation's */
};

/* From a Lua C function: suspends the running task until vml_await_resume(a, ...). Returns what
 * the C function must return: `return vml_await_yield(L, a, cancel);`. cancel may be NULL. Raises
 * if the code does not run inside a task. */
int vml_await_yield(lua_State *L, vml_await *a, void (*cancel)(vml_await *));
/* The thread onto which the completer pushes the results before vml_await_resume. Borrowed. */
lua_State *vml_await_thread(vml_await *a);
/* Resumes the waiting task with the nres values pushed on vml_await_thread(a). Those values
 * become the C function's results. */
void vml_await_resume(vml_await *a, int nres);

/* Runs the loop until *flag becomes non-zero or nothing is left to do. Returns 0. Only for
 * callers outside a loop callback (main, tests). */
int vml_loop_run_until(volatile int *flag);

#endif
