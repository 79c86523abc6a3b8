/* SPDX-License-Identifier: MIT
 * Unit tests for core/luajson: the Lua <-> JSON rules (core/luajson.h). */
#include "support.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "luajson.h"

static vml_script *S;

static int setup(void **state)
{
    vml_err e;
    (void)state;
    return vml_script_new(VML_PROFILE_SCRIPT, NULL, &S, &e);
}

static int teardown(void **state)
{
    (void)state;
    vml_script_free(S);
    return 0;
}

/* Encodes the value returned by expr; returns malloc'd text or NULL (err filled). */
static char *enc(const char *expr, vml_err *e)
{
    char code[1024], *out = NULL;
    snprintf(code, sizeof code, "return %s", expr);
    if (vml_test_eval(S, code, 1, e) < 0)
        return NULL;
    if (vml_luajson_encode(S->L, -1, JSON_COMPACT | JSON_SORT_KEYS, &out, e) < 0)
        out = NULL;
    lua_pop(S->L, 1);
    return out;
}

static void expect(const char *expr, const char *json)
{
    vml_err e;
    char *got = enc(expr, &e);
    if (!got)
        fail_msg("%s: %s", expr, e.msg);
    if (strcmp(got, json) != 0)
        fail_msg("%s: expected %s, got %s", expr, json, got);
    free(got);
}

static void expect_fail(const char *expr, const char *needle)
{
    vml_err e;
    char *got = enc(expr, &e);
    if (got)
        fail_msg("%s: expected an error, got %s", expr, got);
    if (!strstr(e.msg, needle))
        fail_msg("%s: expected '%s' in '%s'", expr, needle, e.msg);
}

static void test_scalars_and_shapes(void **state)
{
    (void)state;
    expect("1", "1");
    expect("-7", "-7");
    expect("2.5", "2.5");
    expect("true", "true");
    expect("vibeml.null", "null");
    expect("'caf\\u{e9}'", "\"caf\xc3\xa9\"");
    expect("{1, 2, 3}", "[1,2,3]");
    expect("{a = 1, b = {c = vibeml.null}}", "{\"a\":1,\"b\":{\"c\":null}}");
    expect("{}", "{}");
    expect("vibeml.array{}", "[]");
    expect("vibeml.object{}", "{}");
    expect("{math.maxinteger}", "[9223372036854775807]");
    expect("{x = {1, {y = 2}}}", "{\"x\":[1,{\"y\":2}]}");
}

static void test_rejections(void **state)
{
    (void)state;
    expect_fail("0/0", "NaN");
    expect_fail("{v = 1/0}", "$.v: an infinite number");
    expect_fail("{[true] = 1}", "keys must be strings");
    expect_fail("{[1] = 1, [3] = 3}", "sparse array");
    expect_fail("{1, 2, x = 3}", "mixes array items");
    expect_fail("{f = print}", "$.f: a function");
    expect_fail("{a = {b = {coroutine.create(print)}}}", "$.a.b[0]: a thread");
    expect_fail("'\\xff\\xfe'", "not valid UTF-8");
    expect_fail("(function() local t = {} t.self = t return t end)()", "nested deeper");
    expect_fail("vibeml.array{x = 1}", "cannot have string keys");
}

static void test_decode_roundtrip(void **state)
{
    const char *docs[] = {
        "{\"a\":[1,2.5,null,{}],\"b\":[],\"c\":\"\xc3\xa9\",\"d\":false}",
        "[[],{},[[]]]",
        "\"x\"",
        "9007199254740993",
        NULL,
    };
    int i;
    (void)state;
    for (i = 0; docs[i]; i++) {
        vml_err e;
        char *out = NULL;
        assert_int_equal(vml_luajson_decode(S->L, docs[i], strlen(docs[i]), &e), 0);
        assert_int_equal(vml_luajson_encode(S->L, -1, JSON_COMPACT | JSON_SORT_KEYS, &out, &e), 0);
        lua_pop(S->L, 1);
        assert_string_equal(out, docs[i]);
        free(out);
    }
}

static void test_decode_errors_and_depth(void **state)
{
    vml_err e;
    char deep[400];
    int i;
    (void)state;
    assert_int_equal(vml_luajson_decode(S->L, "{\"a\":", 5, &e), VML_EJSON);
    assert_non_null(strstr(e.msg, "line 1"));
    for (i = 0; i < 100; i++)
        deep[i] = '[';
    for (i = 100; i < 200; i++)
        deep[i] = ']';
    assert_int_equal(vml_luajson_decode(S->L, deep, 200, &e), VML_EJSON);
    assert_non_null(strstr(e.msg, "deeper than"));
    assert_int_equal(lua_gettop(S->L), 0);
}

static void test_lua_api(void **state)
{
    vml_err e;
    (void)state;
    assert_int_equal(vml_test_eval(S,
                                   "local j = vibeml.json\n"
                                   "local v, msg, code = j.decode('{bad')\n"
                                   "assert(v == nil and msg:find('invalid JSON') and "
                                   "code == 'VML_EJSON')\n"
                                   "local ok, err = pcall(j.encode, {f = print})\n"
                                   "assert(not ok and err:find('a function'))\n"
                                   "assert(j.encode({b = 1, a = 2}, {sort_keys = true}) == "
                                   "'{\"a\":2,\"b\":1}')\n"
                                   "assert(j.encode({1}, {indent = 2}):find('\\n'))\n"
                                   "local t = j.decode('[1,2]') assert(math.type(t[1]) == "
                                   "'integer')\n"
                                   "assert(j.encode(j.decode('{}')) == '{}' and "
                                   "j.encode(j.decode('[]')) == '[]')\n",
                                   0, &e),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_and_shapes),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_decode_roundtrip),
        cmocka_unit_test(test_decode_errors_and_depth),
        cmocka_unit_test(test_lua_api),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
