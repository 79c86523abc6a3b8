/* SPDX-License-Identifier: MIT
 * Shared test support for the unit tests (docs/style.md): a private VIBEML_HOME per test. */
#include "support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void vml_test_home(char *dir, size_t n, const char *name)
{
    snprintf(dir, n, "/tmp/vml_%s_XXXXXX", name);
    assert_non_null(mkdtemp(dir));
    setenv("VIBEML_HOME", dir, 1);
}

void vml_test_rm_rf(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char p[1024];
    if (!d) {
        unlink(path);
        return;
    }
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", path, de->d_name);
        vml_test_rm_rf(p);
    }
    closedir(d);
    rmdir(path);
}
