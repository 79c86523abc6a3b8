/* SPDX-License-Identifier: MIT
 * paths — XDG folders and VIBEML_HOME (see paths.h). */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int vml_paths_read(const char *path, size_t max, char **out, size_t *len, vml_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    int rc = 0;
    *out = NULL;
    if (!f)
        return vml_err_from_errno(err, errno, path);
    for (;;) {
        size_t got;
        if (n + 4096 + 1 > cap) {
            char *nb;
            cap = cap ? cap * 2 : 16384;
            nb = realloc(buf, cap);
            if (!nb) {
                rc = vml_err_set(err, VML_ENOMEM, "%s: out of memory", path);
                goto out;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (max && n > max) {
            rc = vml_err_set(err, VML_ELIMIT, "%s: larger than %zu bytes", path, max);
            goto out;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = vml_err_from_errno(err, errno, path);
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}

int vml_paths_mkdirs(const char *path, int mode, vml_err *err)
{
    char tmp[4096];
    size_t i, n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return vml_err_set(err, VML_EINVAL, "path too long or empty: '%s'", path);
    memcpy(tmp, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
                return vml_err_from_errno(err, errno, tmp);
            tmp[i] = c;
        }
    }
    return 0;
}

int vml_paths_get(vml_path_kind kind, char *buf, size_t n, int create, vml_err *err)
{
    const char *home = getenv("VIBEML_HOME");
    const char *xdg_var = kind == VML_PATH_CONFIG ? "XDG_CONFIG_HOME"
                          : kind == VML_PATH_DATA ? "XDG_DATA_HOME"
                                                  : "XDG_STATE_HOME";
    const char *fallback = kind == VML_PATH_CONFIG ? ".config"
                           : kind == VML_PATH_DATA ? ".local/share"
                                                   : ".local/state";
    int w;
    if (home && *home) {
        w = snprintf(buf, n, "%s", home);
    } else {
        const char *xdg = getenv(xdg_var);
        if (xdg && xdg[0] == '/') {
            w = snprintf(buf, n, "%s/vibeml", xdg);
        } else {
            const char *uhome = getenv("HOME");
            if (!uhome || !*uhome)
                return vml_err_set(err, VML_ECONFIG,
                                   "neither VIBEML_HOME nor HOME is set; set "
                                   "VIBEML_HOME to a folder VibeML may use");
            w = snprintf(buf, n, "%s/%s/vibeml", uhome, fallback);
        }
    }
    if (w < 0 || (size_t)w >= n)
        return vml_err_set(err, VML_EINVAL, "state folder path is too long");
    if (create)
        return vml_paths_mkdirs(buf, 0700, err);
    return 0;
}

int vml_paths_join(vml_path_kind kind, const char *name, char *buf, size_t n, int create,
                   vml_err *err)
{
    char dir[4096];
    int rc = vml_paths_get(kind, dir, sizeof dir, create, err);
    if (rc < 0)
        return rc;
    if ((size_t)snprintf(buf, n, "%s/%s", dir, name) >= n)
        return vml_err_set(err, VML_EINVAL, "path too long: %s/%s", dir, name);
    return 0;
}
