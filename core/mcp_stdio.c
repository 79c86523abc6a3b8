/* SPDX-License-Identifier: MIT
 * mcp_stdio — stdio transport (see mcp_stdio.h).
 *
 * Ownership: every line handed to out_write is freed here, once written or when the output is
 * gone. The transport's handles live in the stdio_state on serve's stack and are closed before
 * it returns. */
#include "mcp_stdio.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"

typedef struct wreq {
    uv_write_t req;
    char *line;
} wreq;

typedef struct stdio_state {
    vml_mcp *m;
    int in_fd, out_fd;
    uv_handle_type in_kind, out_kind;
    union {
        uv_pipe_t pipe;
        uv_tty_t tty;
    } in, out;
    int in_open, out_open;
    uv_fs_t fs_req;
    char *fs_buf;
    int64_t fs_off;
    int fs_busy;
    int paused, eof, out_broken, exiting, done;
    size_t pending_bytes; /* bytes queued on the output stream */
    int batching;         /* inside one read callback: replies gather in obuf */
    char *obuf;           /* replies gathered for one write (owned) */
    size_t olen, ocap;
    uv_signal_t sigterm, sigint;
    uv_timer_t grace, force;
} stdio_state;

#define FS_CHUNK 65536

static int is_stream(uv_handle_type k)
{
    return k == UV_NAMED_PIPE || k == UV_TCP || k == UV_TTY;
}

static void begin_exit(stdio_state *st);
static void start_reading(stdio_state *st);
static void on_grace(uv_timer_t *t);

static void check_done(stdio_state *st)
{
    if (st->exiting && (st->pending_bytes == 0 || st->out_broken))
        st->done = 1;
}

static int should_pause(stdio_state *st)
{
    return st->pending_bytes > VML_MCP_STDIO_HIGH_WATER || (st->m && vml_mcp_busy(st->m));
}

static void maybe_resume(stdio_state *st)
{
    if (st->paused && !st->eof && !st->exiting && !should_pause(st)) {
        st->paused = 0;
        start_reading(st);
    }
}

/* ---- output -------------------------------------------------------------------------------- */
static void on_written(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    stdio_state *st = req->data;
    free(w->line);
    free(w);
    if (status < 0 && !st->out_broken && st->m) {
        st->out_broken = 1;
        fprintf(stderr, "vibeml serve: the client stopped reading (%s); shutting down\n",
                uv_strerror(status));
        begin_exit(st);
    }
    st->pending_bytes = uv_stream_get_write_queue_size((uv_stream_t *)&st->out);
    check_done(st);
    maybe_resume(st);
}

/* Writes buf (taken) to the output stream: at once if the pipe has room, else queued. */
static int stream_write(stdio_state *st, char *line, size_t len)
{
    uv_buf_t b = uv_buf_init(line, (unsigned)len);
    int w = uv_try_write((uv_stream_t *)&st->out, &b, 1);
    wreq *q;
    int rc;
    if (w == (int)len) {
        free(line);
        return 0;
    }
    if (w < 0 && w != UV_EAGAIN) {
        free(line);
        st->out_broken = 1;
        uv_timer_start(&st->grace, on_grace, 0, 0); /* not from inside the server's call */
        return VML_EIO;
    }
    if (w < 0)
        w = 0;
    q = malloc(sizeof *q);
    if (!q) {
        free(line);
        return VML_ENOMEM;
    }
    q->line = line;
    q->req.data = st;
    b = uv_buf_init(line + w, (unsigned)(len - (size_t)w));
    rc = uv_write(&q->req, (uv_stream_t *)&st->out, &b, 1, on_written);
    if (rc < 0) {
        free(line);
        free(q);
        st->out_broken = 1;
        uv_timer_start(&st->grace, on_grace, 0, 0);
        return VML_EIO;
    }
    st->pending_bytes = uv_stream_get_write_queue_size((uv_stream_t *)&st->out);
    return 0;
}

/* Sends what one read callback produced as one write (one syscall for many replies). */
static void flush_out(stdio_state *st)
{
    char *buf = st->obuf;
    size_t len = st->olen;
    if (!len)
        return;
    st->obuf = NULL;
    st->olen = st->ocap = 0;
    stream_write(st, buf, len);
}

static int out_write(void *ud, char *line, size_t len)
{
    stdio_state *st = ud;
    if (st->out_broken) {
        free(line);
        return VML_EIO;
    }
    if (!is_stream(st->out_kind)) {
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(st->out_fd, line + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                st->out_broken = 1;
                free(line);
                return VML_EIO;
            }
            off += (size_t)w;
        }
        free(line);
        return 0;
    }
    if (st->batching && len < 65536) {
        if (st->olen + len > st->ocap) {
            size_t cap = st->ocap ? st->ocap : 16384;
            char *nb;
            while (cap < st->olen + len)
                cap *= 2;
            nb = realloc(st->obuf, cap);
            if (!nb) {
                flush_out(st);
                return stream_write(st, line, len);
            }
            st->obuf = nb;
            st->ocap = cap;
        }
        memcpy(st->obuf + st->olen, line, len);
        st->olen += len;
        free(line);
        if (st->olen >= (1u << 20))
            flush_out(st);
        return 0;
    }
    flush_out(st); /* keep the order */
    return stream_write(st, line, len);
}

/* ---- input --------------------------------------------------------------------------------- */
static void on_input_end(stdio_state *st)
{
    if (st->eof)
        return;
    st->eof = 1;
    vml_mcp_feed_eof(st->m);
    if (vml_mcp_inflight(st->m) == 0) {
        begin_exit(st);
        return;
    }
    uv_timer_start(&st->grace, on_grace, VML_MCP_STDIO_GRACE_MS, 0);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = malloc(FS_CHUNK);
    buf->len = buf->base ? FS_CHUNK : 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    stdio_state *st = s->data;
    if (n > 0) {
        st->batching = 1;
        vml_mcp_feed(st->m, buf->base, (size_t)n);
        st->batching = 0;
        flush_out(st);
    }
    free(buf->base);
    if (n < 0) {
        if (n != UV_EOF)
            fprintf(stderr, "vibeml serve: reading stdin failed: %s\n", uv_strerror((int)n));
        uv_read_stop(s);
        on_input_end(st);
        return;
    }
    if (!st->exiting && should_pause(st)) {
        st->paused = 1;
        uv_read_stop(s);
    }
}

static void on_fs_read(uv_fs_t *req)
{
    stdio_state *st = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    st->fs_busy = 0;
    if (st->exiting)
        return;
    if (n > 0) {
        st->fs_off += n;
        st->batching = 1;
        vml_mcp_feed(st->m, st->fs_buf, (size_t)n);
        st->batching = 0;
        flush_out(st);
        if (should_pause(st)) {
            st->paused = 1;
            return;
        }
        start_reading(st);
        return;
    }
    if (n < 0)
        fprintf(stderr, "vibeml serve: reading stdin failed: %s\n", uv_strerror((int)n));
    on_input_end(st);
}

static void start_reading(stdio_state *st)
{
    if (st->eof || st->exiting)
        return;
    if (is_stream(st->in_kind)) {
        uv_read_start((uv_stream_t *)&st->in, alloc_cb, on_read);
        return;
    }
    if (st->fs_busy)
        return;
    {
        uv_buf_t b = uv_buf_init(st->fs_buf, FS_CHUNK);
        st->fs_req.data = st;
        st->fs_busy = 1;
        /* offset -1: read at the current position (works for pipes given as files, /dev/null) */
        if (uv_fs_read(vml_loop(), &st->fs_req, st->in_fd, &b, 1, -1, on_fs_read) < 0) {
            st->fs_busy = 0;
            on_input_end(st);
        }
    }
}

/* ---- shutdown ------------------------------------------------------------------------------ */
static void on_grace(uv_timer_t *t)
{
    stdio_state *st = t->data;
    if (st->m && vml_mcp_inflight(st->m) > 0)
        fprintf(stderr, "vibeml serve: cancelling %zu request(s) still running\n",
                vml_mcp_inflight(st->m));
    begin_exit(st);
}

static void on_force(uv_timer_t *t)
{
    stdio_state *st = t->data;
    st->done = 1;
}

static void begin_exit(stdio_state *st)
{
    if (st->exiting)
        return;
    st->exiting = 1;
    if (is_stream(st->in_kind) && st->in_open && !st->eof)
        uv_read_stop((uv_stream_t *)&st->in);
    vml_mcp_cancel_all(st->m);
    uv_timer_stop(&st->grace);
    uv_timer_start(&st->force, on_force, 2000, 0);
    check_done(st);
}

static void on_signal(uv_signal_t *h, int sig)
{
    stdio_state *st = h->data;
    fprintf(stderr, "vibeml serve: %s received; stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    begin_exit(st);
}

static void on_wake(void *ud)
{
    stdio_state *st = ud;
    if (st->eof && !st->exiting && vml_mcp_inflight(st->m) == 0)
        uv_timer_start(&st->grace, on_grace, 0, 0); /* not from inside the server's call */
    maybe_resume(st);
}

static void noop_close(uv_handle_t *h)
{
    (void)h;
}

static int open_stream(stdio_state *st, int fd, uv_handle_type kind, void *h, int readable)
{
    uv_loop_t *loop = vml_loop();
    int rc;
    if (kind == UV_TTY)
        rc = uv_tty_init(loop, h, fd, readable);
    else {
        rc = uv_pipe_init(loop, h, 0);
        if (rc == 0 && (rc = uv_pipe_open(h, fd)) < 0)
            uv_close(h, noop_close);
    }
    ((uv_handle_t *)h)->data = st;
    return rc;
}

int vml_mcp_stdio_serve(vml_mcp_opts *opts, int in_fd, int out_fd)
{
    stdio_state st;
    uv_loop_t *loop = vml_loop();
    vml_err err;
    int code = 0;

    memset(&st, 0, sizeof st);
    st.in_fd = in_fd;
    st.out_fd = out_fd;
    signal(SIGPIPE, SIG_IGN);
    st.in_kind = uv_guess_handle(in_fd);
    st.out_kind = uv_guess_handle(out_fd);
    if (is_stream(st.out_kind)) {
        if (open_stream(&st, out_fd, st.out_kind, &st.out, 0) < 0)
            st.out_kind = UV_FILE;
        else
            st.out_open = 1;
    }
    if (is_stream(st.in_kind)) {
        if (open_stream(&st, in_fd, st.in_kind, &st.in, 1) < 0)
            st.in_kind = UV_FILE;
        else
            st.in_open = 1;
    }
    st.fs_buf = malloc(FS_CHUNK);
    uv_timer_init(loop, &st.grace);
    uv_timer_init(loop, &st.force);
    st.grace.data = st.force.data = &st;
    uv_signal_init(loop, &st.sigterm);
    uv_signal_init(loop, &st.sigint);
    st.sigterm.data = st.sigint.data = &st;
    uv_signal_start(&st.sigterm, on_signal, SIGTERM);
    uv_signal_start(&st.sigint, on_signal, SIGINT);

    opts->write = out_write;
    opts->write_ud = &st;
    opts->wake = on_wake;
    if (!st.fs_buf || vml_mcp_new(opts, &st.m, &err) < 0) {
        fprintf(stderr, "vibeml serve: %s\n", st.fs_buf ? vml_err_msg(&err) : "out of memory");
        code = 1;
        st.exiting = st.done = 1;
    } else {
        start_reading(&st);
    }
    while (!st.done && uv_run(loop, UV_RUN_ONCE))
        check_done(&st);

    /* teardown: the server first (its tasks close their own handles), then ours */
    vml_mcp_free(st.m);
    st.m = NULL;
    if (st.in_open) {
        uv_read_stop((uv_stream_t *)&st.in);
        uv_close((uv_handle_t *)&st.in, noop_close);
    }
    if (st.fs_busy)
        uv_cancel((uv_req_t *)&st.fs_req);
    if (st.out_open)
        uv_close((uv_handle_t *)&st.out, noop_close); /* pending writes complete with ECANCELED */
    uv_close((uv_handle_t *)&st.grace, noop_close);
    uv_close((uv_handle_t *)&st.force, noop_close);
    uv_close((uv_handle_t *)&st.sigterm, noop_close);
    uv_close((uv_handle_t *)&st.sigint, noop_close);
    while (st.fs_busy && uv_run(loop, UV_RUN_ONCE))
        ;
    uv_run(loop, UV_RUN_NOWAIT);
    uv_run(loop, UV_RUN_NOWAIT);
    free(st.fs_buf);
    free(st.obuf);
    return code;
}
