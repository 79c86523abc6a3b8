/* SPDX-License-Identifier: MIT
 * Unit tests for core/jtext.c: the strict JSON reader and compact writer of the MCP hot path.
 * The reader is checked against jansson's own parser on valid documents (same values) and on
 * hostile ones (refused with a position, never a crash); the writer's output must read back to
 * an equal value, stay valid UTF-8 and keep integers and reals apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jtext.h"

#define LIT(s) s, sizeof(s) - 1

static json_t *parse_ok(const char *text, size_t len)
{
    json_t *v = NULL;
    size_t pos = 0;
    vml_err err;
    vml_err_clear(&err);
    if (vml_jtext_parse(text, len, &v, &pos, &err) != 0)
        fail_msg("refused valid JSON %.*s: %s", (int)len, text, err.msg);
    return v;
}

/* Expects text to be refused with a message containing want, at byte at (or any when -1). */
static void parse_bad(const char *text, size_t len, const char *want, long at)
{
    json_t *v = (json_t *)1;
    size_t pos = 999;
    vml_err err;
    vml_err_clear(&err);
    assert_int_equal(vml_jtext_parse(text, len, &v, &pos, &err), VML_EJSON);
    assert_null(v);
    if (!strstr(err.msg, want))
        fail_msg("for %.*s: wanted '%s', got '%s'", (int)len, text, want, err.msg);
    if (at >= 0 && (long)pos != at)
        fail_msg("for %.*s: error at %zu, wanted %ld (%s)", (int)len, text, pos, at, err.msg);
}

static char *dump(const json_t *v, size_t *len)
{
    vml_jtext t;
    char *s;
    vml_jtext_init(&t);
    vml_jtext_value(&t, v);
    s = vml_jtext_take(&t, len);
    assert_non_null(s);
    return s;
}

static void test_same_as_jansson(void **state)
{
    static const char *const docs[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"x\","
        "\"arguments\":{\"a\":[1,2.5,-3e2,true,false,null,\"\"],\"b\":{}}}}",
        "  [ ]  ",
        "\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00 \xf0\x9f\x98\x80 \\n\\t\\\\\\\"\\/\"",
        "-0",
        "0.1",
        "9223372036854775807",
        "-9223372036854775808",
        "1E+2",
        "{\"nested\":[[[[{\"k\":[]}]]]],\"z\":-1.5e-7}",
        "123",
        "true",
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof docs / sizeof *docs; i++) {
        json_error_t je;
        json_t *ours = parse_ok(docs[i], strlen(docs[i]));
        json_t *theirs = json_loads(docs[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        char *text;
        json_t *back;
        size_t len;
        assert_non_null(theirs);
        if (!json_equal(ours, theirs))
            fail_msg("differs from jansson: %s", docs[i]);
        assert_int_equal(json_typeof(ours), json_typeof(theirs));
        /* writer: reads back equal, through both parsers */
        text = dump(ours, &len);
        assert_int_equal(strlen(text), len);
        back = parse_ok(text, len);
        assert_true(json_equal(ours, back));
        json_decref(back);
        back = json_loads(text, JSON_DECODE_ANY, &je);
        assert_non_null(back);
        assert_true(json_equal(ours, back));
        json_decref(back);
        free(text);
        json_decref(ours);
        json_decref(theirs);
    }
}

static void test_strings(void **state)
{
    json_t *v;
    (void)state;
    /* an escaped NUL stays inside the string, with the right length */
    v = parse_ok("\"a\\u0000b\"", 10);
    assert_int_equal(json_string_length(v), 3);
    assert_memory_equal(json_string_value(v), "a\0b", 3);
    json_decref(v);
    /* a supplementary character from a surrogate pair */
    v = parse_ok("\"\\uD83D\\uDE00\"", 14);
    assert_string_equal(json_string_value(v), "\xf0\x9f\x98\x80");
    json_decref(v);
    /* a key after an escaped string value must not be overwritten by the next value */
    v = parse_ok(LIT("{\"k\\u0031\":\"v\\u0032\",\"k2\":\"\\u0033\"}"));
    assert_string_equal(json_string_value(json_object_get(v, "k1")), "v2");
    assert_string_equal(json_string_value(json_object_get(v, "k2")), "3");
    json_decref(v);
}

static void test_hostile(void **state)
{
    char *deep;
    size_t i, n = 10000;
    (void)state;
    parse_bad("", 0, "unexpected end of input", 0);
    parse_bad("   ", 3, "unexpected end of input", 3);
    parse_bad("{\"a\":1,}", 8, "an object key must be a string", 7);
    parse_bad("{\"a\" 1}", 7, "expected ':'", 5);
    parse_bad("[1 2]", 5, "expected ',' or ']'", 3);
    parse_bad("[1,]", 4, "unexpected character ']'", 3);
    parse_bad("{\"a\":1,\"a\":2}", 13, "duplicate key \"a\"", 7);
    parse_bad("01", 2, "no leading zeros", 0);
    parse_bad("1.", 2, "digits needed after '.'", 0);
    parse_bad("1e", 2, "digits needed in the exponent", 0);
    parse_bad("-", 1, "invalid number", 0);
    parse_bad("1e400", 5, "number out of range", 0);
    parse_bad("nul", 3, "expected null", 0);
    parse_bad("truex", 5, "unexpected text after the JSON value", 4);
    parse_bad("{} {}", 5, "unexpected text after", 3);
    parse_bad("\"abc", 4, "unterminated string", 0);
    parse_bad("\"a\nb\"", 5, "control character 0x0a", 2);
    parse_bad("\"\\x\"", 4, "invalid escape", 1);
    parse_bad("\"\\u12g4\"", 8, "four hex digits", 1);
    parse_bad("\"\\udc00\"", 8, "lone low surrogate", 1);
    parse_bad("\"\\ud800x\"", 9, "not followed by a low surrogate", 1);
    parse_bad("\"\\ud800\\u0041\"", 14, "not followed by a low surrogate", 1);
    /* invalid UTF-8: stray continuation, overlong, surrogate, above U+10FFFF, truncated */
    parse_bad("\"\x80\"", 3, "invalid UTF-8", 1);
    parse_bad("\"\xc0\xaf\"", 4, "invalid UTF-8", 1);
    parse_bad("\"\xe0\x80\xaf\"", 5, "invalid UTF-8", 1);
    parse_bad("\"\xed\xa0\x80\"", 5, "invalid UTF-8", 1);
    parse_bad("\"\xf4\x90\x80\x80\"", 6, "invalid UTF-8", 1);
    parse_bad("\"\xe2\x82\"", 4, "invalid UTF-8", 1);
    parse_bad("\xff", 1, "unexpected byte 0xff", 0);
    parse_bad("[1]\0", 4, "unexpected text after", 3);
    /* 10,000 levels: refused at the limit, no stack overflow */
    deep = malloc(2 * n);
    for (i = 0; i < n; i++) {
        deep[i] = '[';
        deep[2 * n - 1 - i] = ']';
    }
    parse_bad(deep, 2 * n, "nested more than 2048 levels", VML_JTEXT_MAX_DEPTH);
    for (i = 0; i < n; i++)
        deep[i] = i % 2 ? '[' : '{';
    parse_bad(deep, 2 * n, "an object key must be a string", 1);
    free(deep);
}

static void test_numbers(void **state)
{
    json_t *v;
    char *s;
    (void)state;
    v = parse_ok("9223372036854775808", 19); /* past int64: kept, as a real */
    assert_true(json_is_real(v));
    json_decref(v);
    v = parse_ok("-9223372036854775808", 20);
    assert_true(json_is_integer(v));
    assert_true(json_integer_value(v) == INT64_MIN);
    s = dump(v, NULL);
    assert_string_equal(s, "-9223372036854775808");
    free(s);
    json_decref(v);
    /* reals: shortest form that reads back, always recognisable as a real */
    v = json_real(0.1);
    s = dump(v, NULL);
    assert_string_equal(s, "0.1");
    free(s);
    json_decref(v);
    v = json_real(3.0);
    s = dump(v, NULL);
    assert_string_equal(s, "3.0");
    free(s);
    json_decref(v);
    v = json_real(1.0 / 3.0);
    s = dump(v, NULL);
    assert_true(strtod(s, NULL) == 1.0 / 3.0);
    free(s);
    json_decref(v);
    v = json_real(1e300);
    s = dump(v, NULL);
    assert_string_equal(s, "1e+300");
    free(s);
    json_decref(v);
}

static void test_writer(void **state)
{
    vml_jtext t;
    char *s;
    size_t len;
    json_t *v;
    (void)state;
    /* escapes, and raw bytes that are not UTF-8 become U+FFFD: the line stays valid */
    vml_jtext_init(&t);
    vml_jtext_str(&t, LIT("q\"b\\c\n\x01\x7f \xc3\xa9 \xff \xe2\x82 end"));
    s = vml_jtext_take(&t, &len);
    assert_string_equal(s, "\"q\\\"b\\\\c\\n\\u0001\x7f \xc3\xa9 \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd"
                           " end\"");
    v = parse_ok(s, len);
    assert_true(json_is_string(v));
    json_decref(v);
    free(s);
    /* keys in insertion order, compact */
    v = json_pack("{s:i, s:[b, n], s:{}}", "z", 1, "a", 1, "m");
    s = dump(v, NULL);
    assert_string_equal(s, "{\"z\":1,\"a\":[true,null],\"m\":{}}");
    free(s);
    json_decref(v);
    /* a key with an embedded NUL survives a round trip */
    v = json_object();
    json_object_setn_new(v, "a\0b", 3, json_integer(7));
    s = dump(v, &len);
    assert_int_equal(len, strlen("{\"a\\u0000b\":7}"));
    assert_string_equal(s, "{\"a\\u0000b\":7}");
    json_decref(v);
    v = parse_ok(s, len);
    assert_non_null(json_object_getn(v, "a\0b", 3));
    json_decref(v);
    free(s);
    /* NULL writes null; an empty buffer takes as "" */
    vml_jtext_init(&t);
    vml_jtext_value(&t, NULL);
    s = vml_jtext_take(&t, NULL);
    assert_string_equal(s, "null");
    free(s);
    vml_jtext_init(&t);
    s = vml_jtext_take(&t, &len);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_jansson), cmocka_unit_test(test_strings),
        cmocka_unit_test(test_hostile),         cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
