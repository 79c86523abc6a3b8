/* SPDX-License-Identifier: MIT
 *
 * log — a bounded, non-blocking stderr (see log.h).
 */
#define _GNU_SOURCE /* fopencookie */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* data came (writer waits) / data went (flush waits) */
    char *buf;             /* ring of VML_LOG_BUFFER bytes */
    size_t head, len;      /* start of unwritten data, its length */
    size_t writing;        /* bytes at head the writer is writing now */
    unsigned long dropped; /* lines dropped since the last notice */
    unsigned long dropped_all;
    int started;
} g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, 0, 0, 0};

/* Caller holds mu. Copies n bytes in at the tail; the caller checked the room. */
static void ring_put(const char *p, size_t n)
{
    size_t tail = (g.head + g.len) % VML_LOG_BUFFER, first = VML_LOG_BUFFER - tail;
    if (first > n)
        first = n;
    memcpy(g.buf + tail, p, first);
    memcpy(g.buf, p + first, n - first);
    g.len += n;
}

static size_t count_lines(const char *p, size_t n)
{
    size_t k = 0, i;
    for (i = 0; i < n; i++)
        k += p[i] == '\n';
    return k ? k : 1;
}

/* Caller holds mu. Puts the "N log lines dropped" notice in when it fits with `more` bytes
 * after it, in the place of the lines it stands for. */
static void put_note(size_t more)
{
    char note[128];
    int k = snprintf(note, sizeof note,
                     "vibeml: %lu log lines dropped (stderr was not read "
                     "fast enough)\n",
                     g.dropped);
    if (k > 0 && VML_LOG_BUFFER - g.len >= (size_t)k + more) {
        ring_put(note, (size_t)k);
        g.dropped = 0;
    }
}

/* The stream's write function: never blocks on fd 2. */
static ssize_t log_write(void *cookie, const char *p, size_t n)
{
    (void)cookie;
    pthread_mutex_lock(&g.mu);
    if (g.dropped)
        put_note(n);
    if (!g.dropped && VML_LOG_BUFFER - g.len >= n) {
        ring_put(p, n);
        pthread_cond_broadcast(&g.cv);
    } else {
        size_t k = count_lines(p, n);
        g.dropped += k;
        g.dropped_all += k;
    }
    pthread_mutex_unlock(&g.mu);
    return (ssize_t)n; /* taken (or counted as dropped): the caller never retries or blocks */
}

#ifdef __APPLE__
static int log_write_bsd(void *cookie, const char *p, int n)
{
    return (int)log_write(cookie, p, (size_t)n);
}
#endif

static void *writer_main(void *ud)
{
    (void)ud;
    pthread_mutex_lock(&g.mu);
    for (;;) {
        size_t n, done = 0;
        while (g.len == 0)
            pthread_cond_wait(&g.cv, &g.mu);
        n = g.len;
        if (n > VML_LOG_BUFFER - g.head)
            n = VML_LOG_BUFFER - g.head; /* up to the end of the ring; the rest next turn */
        g.writing = n;
        pthread_mutex_unlock(&g.mu);
        while (done < n) { /* may block: only this thread waits for the reader */
            ssize_t w = write(STDERR_FILENO, g.buf + g.head + done, n - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break; /* stderr closed or broken: what is left is lost */
            done += (size_t)w;
        }
        pthread_mutex_lock(&g.mu);
        g.head = (g.head + n) % VML_LOG_BUFFER;
        g.len -= n;
        g.writing = 0;
        if (g.len == 0 && g.dropped) /* drained: say so even if the server has gone quiet */
            put_note(0);
        pthread_cond_broadcast(&g.cv);
    }
    return NULL;
}

int vml_log_start(void)
{
    pthread_t t;
    pthread_attr_t attr;
    FILE *f;
#ifndef __APPLE__
    static cookie_io_functions_t io = {NULL, log_write, NULL, NULL};
#endif
    if (g.started)
        return 0;
    if (!(g.buf = malloc(VML_LOG_BUFFER)))
        return -1;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, writer_main, NULL) != 0) {
        pthread_attr_destroy(&attr);
        free(g.buf);
        g.buf = NULL;
        return -1;
    }
    pthread_attr_destroy(&attr);
#ifdef __APPLE__
    f = funopen(NULL, NULL, log_write_bsd, NULL, NULL);
#else
    f = fopencookie(NULL, "w", io);
#endif
    if (!f)
        return -1;               /* the idle writer stays; stderr as before */
    setvbuf(f, NULL, _IOLBF, 0); /* whole lines reach log_write, so whole lines are dropped */
    fflush(stderr);
    stderr = f;
    g.started = 1;
    return 0;
}

size_t vml_log_flush(int timeout_ms)
{
    struct timespec until;
    size_t left;
    if (!g.started)
        return 0;
    fflush(stderr);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g.mu);
    while (g.len > 0 && pthread_cond_timedwait(&g.cv, &g.mu, &until) == 0)
        ;
    left = g.len;
    pthread_mutex_unlock(&g.mu);
    return left;
}

unsigned long vml_log_dropped(void)
{
    unsigned long n;
    pthread_mutex_lock(&g.mu);
    n = g.dropped_all;
    pthread_mutex_unlock(&g.mu);
    return n;
}
