/* SPDX-License-Identifier: MIT
 *
 * watchdog — worker threads that can be given up (see watchdog.h).
 */
#include "watchdog.h"

#include <pthread.h>
#include <stdlib.h>
#include <uv.h>

#include "script.h"

uint64_t vml_watchdog_grace_ns = 3000000000ull;

typedef struct worker {
    uv_mutex_t mu;
    uv_cond_t cv; /* signals both ways: a job came, the job is done */
    void (*fn)(void *);
    void (*release)(void *);
    void *arg;
    int has_job, done, given_up;
    uint64_t watch;      /* the job state's deadline (uv_hrtime ns), written atomically */
    struct worker *next; /* idle list */
} worker;

static pthread_mutex_t g_pool_mu = PTHREAD_MUTEX_INITIALIZER;
static worker *g_idle;
static int g_stuck;

static void worker_free(worker *w)
{
    uv_cond_destroy(&w->cv);
    uv_mutex_destroy(&w->mu);
    free(w);
}

static void *worker_main(void *ud)
{
    worker *w = ud;
    vml__script_watch = &w->watch;
    uv_mutex_lock(&w->mu);
    for (;;) {
        while (!w->has_job)
            uv_cond_wait(&w->cv, &w->mu);
        uv_mutex_unlock(&w->mu);
        w->fn(w->arg);
        uv_mutex_lock(&w->mu);
        w->has_job = 0;
        w->done = 1;
        if (w->given_up) {
            /* the waiter left long ago: what the job owns is ours to release */
            uv_mutex_unlock(&w->mu);
            if (w->release)
                w->release(w->arg);
            /* release: whoever sees the count drop (vml_watchdog_stuck) sees all it did */
            __atomic_sub_fetch(&g_stuck, 1, __ATOMIC_RELEASE);
            worker_free(w);
            return NULL;
        }
        uv_cond_signal(&w->cv);
    }
}

static worker *worker_take(void)
{
    worker *w;
    pthread_attr_t attr;
    pthread_t t;
    pthread_mutex_lock(&g_pool_mu);
    if ((w = g_idle))
        g_idle = w->next;
    pthread_mutex_unlock(&g_pool_mu);
    if (w)
        return w;
    if (!(w = calloc(1, sizeof *w)))
        return NULL;
    if (uv_mutex_init(&w->mu) < 0) {
        free(w);
        return NULL;
    }
    if (uv_cond_init(&w->cv) < 0) {
        uv_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 8u << 20); /* Lua's C recursion limits assume a big stack */
    if (pthread_create(&t, &attr, worker_main, w) != 0) {
        pthread_attr_destroy(&attr);
        worker_free(w);
        return NULL;
    }
    pthread_attr_destroy(&attr);
    return w;
}

int vml_watchdog_run(void (*fn)(void *), void (*release)(void *), void *arg, vml_err *err)
{
    worker *w = worker_take();
    if (!w) { /* no thread: run here, without the last resort */
        fn(arg);
        return 0;
    }
    uv_mutex_lock(&w->mu);
    w->fn = fn;
    w->release = release;
    w->arg = arg;
    w->done = 0;
    __atomic_store_n(&w->watch, uv_hrtime() + (uint64_t)(VML_WATCHDOG_START_S * 1e9),
                     __ATOMIC_RELAXED);
    w->has_job = 1;
    uv_cond_signal(&w->cv);
    while (!w->done) {
        uint64_t limit = __atomic_load_n(&w->watch, __ATOMIC_RELAXED) + vml_watchdog_grace_ns;
        uint64_t now = uv_hrtime();
        if (now >= limit) {
            w->given_up = 1;
            __atomic_add_fetch(&g_stuck, 1, __ATOMIC_RELAXED);
            uv_mutex_unlock(&w->mu);
            return vml_err_set(err, VML_ETIMEOUT,
                               "it did not stop at its time limit (it ran "
                               "code the limit cannot interrupt) and its "
                               "thread was abandoned");
        }
        uv_cond_timedwait(&w->cv, &w->mu, limit - now);
    }
    uv_mutex_unlock(&w->mu);
    pthread_mutex_lock(&g_pool_mu);
    w->next = g_idle;
    g_idle = w;
    pthread_mutex_unlock(&g_pool_mu);
    return 0;
}

int vml_watchdog_stuck(void)
{
    return __atomic_load_n(&g_stuck, __ATOMIC_ACQUIRE);
}
