/* SPDX-License-Identifier: MIT
 *
 * proc — child processes on the libuv loop (see proc.h).
 *
 * A vml_proc owns up to four libuv handles (process, stdin/stdout/stderr pipes) and two timers
 * (the SIGKILL after the grace period, and the drain limit: a grandchild that keeps our pipe open
 * after the child exited must not hold the exit report forever). It is freed when every handle
 * closed and the owner released it.
 *
 * Uses: loop, err, libuv.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "loop.h"

#define DRAIN_MS 3000 /* after exit, how long a stream may stay open before we stop reading */

struct vml_proc {
    uv_process_t proc;
    uv_pipe_t pipes[3]; /* stdin, stdout, stderr */
    int pipe_open[3];
    uv_timer_t kill_timer, drain_timer;
    uv_write_t wreq;
    char *stdin_copy;
    int handles; /* open libuv handles */
    int exited, reported, released, group;
    int64_t code;
    int sig;
    pid_t pid;
    vml_proc_data_fn on_data;
    vml_proc_exit_fn on_exit;
    void *ud;
};

static void maybe_free(vml_proc *p)
{
    if (p->handles == 0 && p->released) {
        free(p->stdin_copy);
        free(p);
    }
}

static void handle_closed(uv_handle_t *h)
{
    vml_proc *p = h->data;
    p->handles--;
    maybe_free(p);
}

static void close_handle(vml_proc *p, uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, handle_closed);
    (void)p;
}

static void close_pipe(vml_proc *p, int i)
{
    if (!p->pipe_open[i])
        return;
    p->pipe_open[i] = 0;
    close_handle(p, (uv_handle_t *)&p->pipes[i]);
}

/* Reports the exit once the process exited and both output streams ended. */
static void maybe_report(vml_proc *p)
{
    if (!p->exited || p->reported || p->pipe_open[1] || p->pipe_open[2])
        return;
    p->reported = 1;
    uv_timer_stop(&p->drain_timer);
    close_handle(p, (uv_handle_t *)&p->drain_timer);
    /* keep the kill timer: a stop's SIGKILL still has to reach the rest of the group */
    if (!uv_is_active((uv_handle_t *)&p->kill_timer))
        close_handle(p, (uv_handle_t *)&p->kill_timer);
    close_handle(p, (uv_handle_t *)&p->proc);
    close_pipe(p, 0);
    if (p->on_exit && !p->released)
        p->on_exit(p, p->code, p->sig, p->ud);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = malloc(65536);
    buf->len = buf->base ? 65536 : 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    vml_proc *p = s->data;
    int i = (uv_pipe_t *)s == &p->pipes[1] ? 1 : 2;
    if (n > 0 && p->on_data && !p->released)
        p->on_data(p, i, buf->base, (size_t)n, p->ud);
    free(buf->base);
    if (n < 0) {
        close_pipe(p, i);
        if (p->on_data && !p->released)
            p->on_data(p, i, NULL, 0, p->ud);
        maybe_report(p);
    }
}

static void on_drain_timeout(uv_timer_t *t)
{
    vml_proc *p = t->data;
    int i;
    for (i = 1; i <= 2; i++)
        if (p->pipe_open[i]) {
            close_pipe(p, i);
            if (p->on_data && !p->released)
                p->on_data(p, i, NULL, 0, p->ud);
        }
    maybe_report(p);
}

static void on_exit_cb(uv_process_t *h, int64_t code, int sig)
{
    vml_proc *p = h->data;
    p->exited = 1;
    p->code = code;
    p->sig = sig;
    if (p->pipe_open[1] || p->pipe_open[2])
        uv_timer_start(&p->drain_timer, on_drain_timeout, DRAIN_MS, 0);
    maybe_report(p);
}

static void on_kill_timer(uv_timer_t *t)
{
    vml_proc *p = t->data;
    if (p->group)
        kill(-p->pid, SIGKILL);
    else if (!p->exited)
        kill(p->pid, SIGKILL);
    if (p->reported)
        close_handle(p, (uv_handle_t *)&p->kill_timer);
}

static void on_stdin_written(uv_write_t *req, int status)
{
    vml_proc *p = req->data;
    (void)status;
    close_pipe(p, 0);
}

static int open_sink(vml_proc_sink sink, const char *path, int *fd, vml_err *err)
{
    *fd = -1;
    if (sink == VML_PROC_NULL)
        *fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    else if (sink == VML_PROC_FILE)
        *fd = open(path ? path : "", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    else
        return 0;
    if (*fd < 0)
        return vml_err_from_errno(err, errno, sink == VML_PROC_FILE ? path : "/dev/null");
    return 0;
}

int vml_proc_spawn(const vml_proc_opts *o, vml_proc **out, vml_err *err)
{
    uv_loop_t *loop = vml_loop();
    uv_process_options_t po;
    uv_stdio_container_t stdio[3];
    vml_proc *p;
    int fds[3] = {-1, -1, -1}, rc = 0, i;
    vml_proc_sink sinks[3];

    *out = NULL;
    if (!o->argv || !o->argv[0] || !o->argv[0][0])
        return vml_err_set(err, VML_EINVAL, "spawn: an argv with a program is required");
    p = calloc(1, sizeof *p);
    if (!p)
        return vml_err_set(err, VML_ENOMEM, "spawn: out of memory");
    p->on_data = o->on_data;
    p->on_exit = o->on_exit;
    p->ud = o->ud;
    p->group = o->new_group || o->detached;
    memset(&po, 0, sizeof po);
    memset(stdio, 0, sizeof stdio);
    sinks[0] = o->stdin_data ? VML_PROC_PIPE : VML_PROC_NULL;
    sinks[1] = o->out;
    sinks[2] = o->err;
    for (i = 0; i < 3; i++) {
        if (sinks[i] == VML_PROC_PIPE) {
            uv_pipe_init(loop, &p->pipes[i], 0);
            p->pipes[i].data = p;
            p->pipe_open[i] = 1;
            p->handles++;
            stdio[i].flags = UV_CREATE_PIPE | (i == 0 ? UV_READABLE_PIPE : UV_WRITABLE_PIPE);
            stdio[i].data.stream = (uv_stream_t *)&p->pipes[i];
        } else if (sinks[i] == VML_PROC_INHERIT) {
            stdio[i].flags = UV_INHERIT_FD;
            stdio[i].data.fd = i;
        } else {
            if ((rc = open_sink(sinks[i], i == 1 ? o->out_path : o->err_path, &fds[i], err)) < 0)
                goto fail;
            stdio[i].flags = UV_INHERIT_FD;
            stdio[i].data.fd = fds[i];
        }
    }
    uv_timer_init(loop, &p->kill_timer);
    p->kill_timer.data = p;
    uv_timer_init(loop, &p->drain_timer);
    p->drain_timer.data = p;
    p->handles += 2;
    po.file = o->argv[0];
    po.args = (char **)o->argv;
    po.env = (char **)o->env;
    po.cwd = o->cwd;
    po.stdio = stdio;
    po.stdio_count = 3;
    po.exit_cb = on_exit_cb;
    po.flags = p->group ? UV_PROCESS_DETACHED : 0;
    p->proc.data = p;
    rc = uv_spawn(loop, &p->proc, &po);
    for (i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (rc < 0) {
        /* the process handle is initialised even on failure and must be closed */
        p->handles++;
        rc = vml_err_set(err, rc == UV_ENOENT ? VML_ENOENT : VML_EPROC, "cannot run '%s': %s",
                         o->argv[0],
                         rc == UV_ENOENT ? "no such program (not found on PATH)" : uv_strerror(rc));
        p->released = 1;
        for (i = 0; i < 3; i++)
            close_pipe(p, i);
        close_handle(p, (uv_handle_t *)&p->kill_timer);
        close_handle(p, (uv_handle_t *)&p->drain_timer);
        close_handle(p, (uv_handle_t *)&p->proc);
        return rc;
    }
    p->handles++;
    p->pid = p->proc.pid;
    if (o->detached)
        uv_unref((uv_handle_t *)&p->proc);
    for (i = 1; i <= 2; i++)
        if (p->pipe_open[i])
            uv_read_start((uv_stream_t *)&p->pipes[i], on_alloc, on_read);
    if (p->pipe_open[0]) {
        uv_buf_t b;
        p->stdin_copy = malloc(o->stdin_len ? o->stdin_len : 1);
        if (p->stdin_copy && o->stdin_len)
            memcpy(p->stdin_copy, o->stdin_data, o->stdin_len);
        b = uv_buf_init(p->stdin_copy, (unsigned)o->stdin_len);
        p->wreq.data = p;
        if (!p->stdin_copy || o->stdin_len == 0 ||
            uv_write(&p->wreq, (uv_stream_t *)&p->pipes[0], &b, 1, on_stdin_written) < 0)
            close_pipe(p, 0);
    }
    *out = p;
    return 0;
fail:
    for (i = 0; i < 3; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
    }
    p->released = 1;
    if (p->handles == 0) {
        free(p);
        return rc;
    }
    for (i = 0; i < 3; i++)
        close_pipe(p, i);
    return rc;
}

pid_t vml_proc_pid(const vml_proc *p)
{
    return p->pid;
}

int vml_proc_exited(const vml_proc *p)
{
    return p->exited;
}

int vml_proc_kill(vml_proc *p, int sig, vml_err *err)
{
    int rc;
    if (p->group) {
        rc = kill(-p->pid, sig);
        if (rc == 0)
            return 0;
        if (errno != ESRCH)
            return vml_err_from_errno(err, errno, "kill");
    }
    if (p->exited)
        return vml_err_set(err, VML_ENOENT, "process %d already exited", (int)p->pid);
    if (kill(p->pid, sig) < 0)
        return vml_err_from_errno(err, errno, "kill");
    return 0;
}

int vml_proc_stop(vml_proc *p, double grace, vml_err *err)
{
    int rc = vml_proc_kill(p, SIGTERM, err);
    if (rc < 0 && rc != VML_ENOENT)
        return rc;
    if (grace < 0)
        grace = 0;
    if (!uv_is_closing((uv_handle_t *)&p->kill_timer))
        uv_timer_start(&p->kill_timer, on_kill_timer, (uint64_t)(grace * 1000.0), 0);
    return 0;
}

void vml_proc_release(vml_proc *p)
{
    if (!p)
        return;
    p->released = 1;
    if (p->reported && !uv_is_active((uv_handle_t *)&p->kill_timer))
        close_handle(p, (uv_handle_t *)&p->kill_timer);
    maybe_free(p);
}

uint64_t vml_proc_start_time(pid_t pid)
{
    char path[64], buf[1024], *q;
    unsigned long long start = 0;
    char state = 0;
    FILE *f;
    size_t n;
    int field;
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the command name may hold spaces and parentheses: fields start after the last ')' */
    q = strrchr(buf, ')');
    if (!q)
        return 0;
    q += 2;
    state = *q;
    for (field = 3; field < 22 && q; field++) {
        q = strchr(q, ' ');
        if (q)
            q++;
    }
    if (!q || sscanf(q, "%llu", &start) != 1)
        return 0;
    if (state == 'Z' || state == 'X')
        return 0;
    return (uint64_t)start;
}

int vml_proc_alive(pid_t pid, uint64_t start)
{
    uint64_t now = vml_proc_start_time(pid);
    if (now == 0)
        return 0;
    return start == 0 || now == start;
}

int vml_proc_signal_group(pid_t pgid, int sig, vml_err *err)
{
    if (pgid <= 1)
        return vml_err_set(err, VML_EINVAL, "refusing to signal process group %d", (int)pgid);
    if (kill(-pgid, sig) == 0)
        return 0;
    if (kill(pgid, sig) == 0)
        return 0;
    if (errno == ESRCH)
        return vml_err_set(err, VML_ENOENT, "process %d is gone", (int)pgid);
    return vml_err_from_errno(err, errno, "kill");
}

int vml_proc_self_exe(char *buf, size_t n, vml_err *err)
{
    size_t len = n;
    int rc = uv_exepath(buf, &len);
    if (rc < 0)
        return vml_err_from_uv(err, rc, "executable path");
    return 0;
}
