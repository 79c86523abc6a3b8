/* SPDX-License-Identifier: MIT
 * Unit tests for core/err: the code table, formatted messages, conversions. */
#include "support.h"

#include <errno.h>
#include <string.h>
#include <uv.h>

static void test_names_and_messages(void **state)
{
    (void)state;
    assert_string_equal(vml_errname(VML_EINVAL), "VML_EINVAL");
    assert_string_equal(vml_strerror(VML_ENOMEM), "out of memory");
    assert_string_equal(vml_errname(VML_OK), "VML_OK");
    assert_string_equal(vml_errname(-9999), "VML_EUNKNOWN");
    assert_string_equal(vml_strerror(-9999), "unknown error");
    /* every code has a distinct name */
#define CHECK(name, val, msg) assert_string_equal(vml_errname(val), "VML_" #name);
    VML_ERRNO_MAP(CHECK)
#undef CHECK
}

static void test_set_and_prefix(void **state)
{
    vml_err e;
    (void)state;
    vml_err_clear(&e);
    assert_int_equal(e.code, 0);
    assert_int_equal(vml_err_set(&e, VML_EINVAL, "bad '%s' (%d)", "x", 3), VML_EINVAL);
    assert_string_equal(vml_err_msg(&e), "bad 'x' (3)");
    assert_int_equal(vml_err_prefix(&e, "loading %s", "a.lua"), VML_EINVAL);
    assert_string_equal(vml_err_msg(&e), "loading a.lua: bad 'x' (3)");
    /* a NULL err is allowed everywhere */
    assert_int_equal(vml_err_set(NULL, VML_EIO, "ignored"), VML_EIO);
    /* the code's text when no message was set */
    e.code = VML_ENOENT;
    e.msg[0] = '\0';
    assert_string_equal(vml_err_msg(&e), "not found");
}

static void test_long_message_truncates(void **state)
{
    vml_err e;
    char big[4000];
    (void)state;
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    vml_err_set(&e, VML_EIO, "%s", big);
    assert_int_equal(strlen(e.msg), VML_ERR_MSG_MAX - 1);
    vml_err_prefix(&e, "%s", big);
    assert_true(strlen(e.msg) < VML_ERR_MSG_MAX);
}

static void test_conversions(void **state)
{
    vml_err e;
    (void)state;
    assert_int_equal(vml_err_from_errno(&e, ENOENT, "/x"), VML_ENOENT);
    assert_non_null(strstr(e.msg, "/x: "));
    assert_int_equal(vml_err_from_errno(&e, EACCES, "f"), VML_EPERM);
    assert_int_equal(vml_err_from_uv(&e, UV_ENOENT, "spawn"), VML_ENOENT);
    assert_non_null(strstr(e.msg, "spawn: "));
    assert_int_equal(vml_err_from_errno(&e, EPIPE, "w"), VML_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_messages),
        cmocka_unit_test(test_set_and_prefix),
        cmocka_unit_test(test_long_message_truncates),
        cmocka_unit_test(test_conversions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
