/* SPDX-License-Identifier: MIT
 * redact — masking secret values in what this process emits (see redact.h). */
#include "redact.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "secrets.h"
#include "vault.h"

/* Where a file's modification time is: POSIX 2008 names it st_mtim, macOS st_mtimespec. */
#ifdef __APPLE__
#define MTIME(st) ((st).st_mtimespec)
#else
#define MTIME(st) ((st).st_mtim)
#endif

/* A cheap clock is enough for an interval of milliseconds. */
#ifdef CLOCK_MONOTONIC_COARSE
#define LOOK_CLOCK CLOCK_MONOTONIC_COARSE
#else
#define LOOK_CLOCK CLOCK_MONOTONIC
#endif

/* Loads the vault's secrets into the masked set when the vault file changed since the last look
 * (path, size, mtime), so a server masks secrets added while it runs. Quiet: no prompt.
 * It looks at most every VAULT_LOOK_MS: a server writes thousands of messages a second and a
 * path lookup plus stat for each was a tenth of its time. Secrets this process reads are masked
 * at once anyway (core/secrets.c keeps every value it is given); the interval only delays masking
 * a value that another process added to the vault and that reaches this process some other way.
 * One thread looks at a time; the others mask with what is loaded. */
#define VAULT_LOOK_MS 20
static pthread_mutex_t look_lock = PTHREAD_MUTEX_INITIALIZER;

static void look_at_vault(void)
{
    static char last_path[4096];
    static struct stat last;
    static struct timespec looked;
    char path[4096];
    struct stat st;
    struct timespec now;
    if (pthread_mutex_trylock(&look_lock) != 0)
        return;
    if (clock_gettime(LOOK_CLOCK, &now) == 0) {
        long long ms = (long long)(now.tv_sec - looked.tv_sec) * 1000 +
                       (now.tv_nsec - looked.tv_nsec) / 1000000;
        if ((looked.tv_sec || looked.tv_nsec) && ms >= 0 && ms < VAULT_LOOK_MS)
            goto out;
        looked = now;
    }
    if (vml_vault_path(path, sizeof path, NULL) < 0 || stat(path, &st) != 0)
        goto out;
    if (strcmp(path, last_path) == 0 && st.st_size == last.st_size &&
        MTIME(st).tv_sec == MTIME(last).tv_sec && MTIME(st).tv_nsec == MTIME(last).tv_nsec)
        goto out;
    snprintf(last_path, sizeof last_path, "%s", path);
    last = st;
    vml_redact_prime(NULL);
out:
    pthread_mutex_unlock(&look_lock);
}

size_t vml_redact_known(char *buf, size_t len)
{
    return vml_secrets_redact_seen(buf, len);
}

size_t vml_redact(char *buf, size_t len)
{
    look_at_vault();
    return vml_secrets_redact_seen(buf, len);
}

int vml_redact_prime(vml_err *err)
{
    vml_secrets *s = NULL;
    int rc = vml_vault_load_quiet(&s, err); /* every value loaded is kept by core/secrets.c */
    vml_secrets_free(s);
    return rc;
}
