/* SPDX-License-Identifier: MIT
 * Unit tests for core/paths (VIBEML_HOME, XDG folders, HOME fallback) and core/embed. */
#include "support.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "embed.h"
#include "paths.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vml-paths-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static void test_vibeml_home_wins(void **state)
{
    char buf[512], want[512];
    vml_err e;
    (void)state;
    snprintf(want, sizeof want, "%s/home", tmpdir);
    setenv("VIBEML_HOME", want, 1);
    setenv("XDG_STATE_HOME", "/nonexistent", 1);
    assert_int_equal(vml_paths_get(VML_PATH_STATE, buf, sizeof buf, 1, &e), 0);
    assert_string_equal(buf, want);
    assert_int_equal(vml_paths_get(VML_PATH_CONFIG, buf, sizeof buf, 0, &e), 0);
    assert_string_equal(buf, want);
    {
        struct stat st;
        assert_int_equal(stat(want, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
    }
    assert_int_equal(vml_paths_join(VML_PATH_DATA, "vault", buf, sizeof buf, 0, &e), 0);
    snprintf(want + strlen(want), sizeof want - strlen(want), "/vault");
    assert_string_equal(buf, want);
    unsetenv("VIBEML_HOME");
    unsetenv("XDG_STATE_HOME");
}

static void test_xdg_and_home(void **state)
{
    char buf[512], want[512];
    vml_err e;
    (void)state;
    unsetenv("VIBEML_HOME");
    setenv("XDG_CONFIG_HOME", tmpdir, 1);
    assert_int_equal(vml_paths_get(VML_PATH_CONFIG, buf, sizeof buf, 1, &e), 0);
    snprintf(want, sizeof want, "%s/vibeml", tmpdir);
    assert_string_equal(buf, want);
    /* a relative XDG value is ignored, as the XDG spec says */
    setenv("XDG_CONFIG_HOME", "relative/dir", 1);
    setenv("HOME", tmpdir, 1);
    assert_int_equal(vml_paths_get(VML_PATH_CONFIG, buf, sizeof buf, 0, &e), 0);
    snprintf(want, sizeof want, "%s/.config/vibeml", tmpdir);
    assert_string_equal(buf, want);
    unsetenv("XDG_DATA_HOME");
    assert_int_equal(vml_paths_get(VML_PATH_DATA, buf, sizeof buf, 0, &e), 0);
    snprintf(want, sizeof want, "%s/.local/share/vibeml", tmpdir);
    assert_string_equal(buf, want);
    unsetenv("XDG_STATE_HOME");
    assert_int_equal(vml_paths_get(VML_PATH_STATE, buf, sizeof buf, 0, &e), 0);
    snprintf(want, sizeof want, "%s/.local/state/vibeml", tmpdir);
    assert_string_equal(buf, want);
    unsetenv("HOME");
    assert_int_equal(vml_paths_get(VML_PATH_STATE, buf, sizeof buf, 0, &e), VML_ECONFIG);
    assert_non_null(strstr(e.msg, "VIBEML_HOME"));
    unsetenv("XDG_CONFIG_HOME");
}

static void test_mkdirs_and_limits(void **state)
{
    char deep[512], small[8];
    vml_err e;
    (void)state;
    snprintf(deep, sizeof deep, "%s/a/b/c", tmpdir);
    assert_int_equal(vml_paths_mkdirs(deep, 0700, &e), 0);
    assert_int_equal(vml_paths_mkdirs(deep, 0700, &e), 0); /* idempotent */
    assert_int_equal(access(deep, W_OK), 0);
    assert_int_equal(vml_paths_mkdirs("/proc/nope/x", 0700, &e) < 0, 1);
    setenv("VIBEML_HOME", tmpdir, 1);
    assert_int_equal(vml_paths_get(VML_PATH_STATE, small, sizeof small, 0, &e), VML_EINVAL);
    unsetenv("VIBEML_HOME");
}

static void test_embedded_files(void **state)
{
    const vml_embed_file *f;
    (void)state;
    f = vml_embed_find("lua/vibeml/test.lua");
    assert_non_null(f);
    assert_true(f->len > 100);
    assert_int_equal(f->data[f->len], '\0');
    assert_null(vml_embed_find("lua/vibeml/nope.lua"));
    assert_null(vml_embed_find("../etc/passwd"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vibeml_home_wins),
        cmocka_unit_test(test_xdg_and_home),
        cmocka_unit_test(test_mkdirs_and_limits),
        cmocka_unit_test(test_embedded_files),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
