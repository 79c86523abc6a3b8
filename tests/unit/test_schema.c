/* SPDX-License-Identifier: MIT
 * Unit tests for core/schema.c: the JSON Schema subset that guards MCP tool arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "schema.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    if (!j)
        fail_msg("bad test JSON: %s: %s", text, e.text);
    return j;
}

/* Validates value against schema; returns the error message ("" when valid). */
static const char *check(const char *schema, const char *value, int flags, char *out, size_t n)
{
    json_t *s = J(schema), *v = J(value);
    vml_err err;
    int rc;
    vml_err_clear(&err);
    rc = vml_schema_validate(s, v, "arguments", flags, &err);
    snprintf(out, n, "%s", rc == 0 ? "" : err.msg);
    if (rc != 0)
        assert_int_equal(rc, VML_EINVAL);
    json_decref(s);
    json_decref(v);
    return out;
}

#define OK(schema, value)                                                                          \
    do {                                                                                           \
        char b_[VML_ERR_MSG_MAX];                                                                  \
        assert_string_equal(check(schema, value, 0, b_, sizeof b_), "");                           \
    } while (0)
#define BAD(schema, value, want)                                                                   \
    do {                                                                                           \
        char b_[VML_ERR_MSG_MAX];                                                                  \
        const char *got_ = check(schema, value, 0, b_, sizeof b_);                                 \
        if (!strstr(got_, want))                                                                   \
            fail_msg("for %s against %s: wanted '%s', got '%s'", value, schema, want, got_);       \
    } while (0)

static void test_types(void **state)
{
    (void)state;
    OK("{\"type\":\"integer\"}", "3");
    OK("{\"type\":\"integer\"}", "3.0");
    BAD("{\"type\":\"integer\"}", "3.5", "arguments: expected integer, got number");
    BAD("{\"type\":\"integer\"}", "\"3\"", "expected integer, got string");
    OK("{\"type\":\"number\"}", "3");
    OK("{\"type\":[\"string\",\"null\"]}", "null");
    BAD("{\"type\":[\"string\",\"null\"]}", "true", "expected string or null, got boolean");
    OK("{\"type\":\"boolean\"}", "false");
    BAD("{\"type\":\"object\"}", "[]", "expected object, got array");
    BAD("{\"type\":\"array\"}", "{}", "expected array, got object");
    OK("true", "{\"anything\":1}");
    BAD("false", "1", "no value is allowed");
}

static void test_objects(void **state)
{
    const char *s = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},"
                    "\"b\":{\"type\":\"object\",\"properties\":{\"c\":{\"type\":\"integer\"}},"
                    "\"required\":[\"c\"],\"additionalProperties\":false}},"
                    "\"required\":[\"a\"],\"additionalProperties\":false}";
    (void)state;
    OK(s, "{\"a\":\"x\"}");
    OK(s, "{\"a\":\"x\",\"b\":{\"c\":1}}");
    BAD(s, "{}", "arguments.a: required field missing");
    BAD(s, "{\"a\":\"x\",\"z\":1}", "arguments: unknown field 'z' (allowed: a, b)");
    BAD(s, "{\"a\":\"x\",\"b\":{}}", "arguments.b.c: required field missing");
    BAD(s, "{\"a\":\"x\",\"b\":{\"c\":\"1\"}}", "arguments.b.c: expected integer, got string");
    BAD(s, "{\"a\":\"x\",\"b\":{\"c\":1,\"d\":2}}", "arguments.b: unknown field 'd' (allowed: c)");
    /* additionalProperties as a schema */
    OK("{\"type\":\"object\",\"additionalProperties\":{\"type\":\"number\"}}",
       "{\"x\":1,\"y\":2.5}");
    BAD("{\"type\":\"object\",\"additionalProperties\":{\"type\":\"number\"}}", "{\"x\":\"1\"}",
        "arguments.x: expected number, got string");
    /* open objects allow anything extra */
    OK("{\"type\":\"object\",\"properties\":{}}", "{\"x\":1}");
    BAD("{\"type\":\"object\",\"minProperties\":1}", "{}", "at least 1 fields needed");
    BAD("{\"type\":\"object\",\"maxProperties\":1}", "{\"a\":1,\"b\":2}",
        "at most 1 fields allowed");
}

static void test_numbers(void **state)
{
    (void)state;
    OK("{\"minimum\":1,\"maximum\":3}", "1");
    OK("{\"minimum\":1,\"maximum\":3}", "3");
    BAD("{\"minimum\":1}", "0", "arguments: 0 is below the minimum 1");
    BAD("{\"maximum\":3}", "3.5", "3.5 is above the maximum 3");
    BAD("{\"exclusiveMinimum\":0}", "0", "0 must be greater than 0");
    BAD("{\"exclusiveMaximum\":1}", "1.0", "must be less than 1");
    OK("{\"exclusiveMaximum\":1}", "0.999");
    OK("{\"multipleOf\":0.5}", "2.5");
    BAD("{\"multipleOf\":2}", "3", "3 is not a multiple of 2");
    OK("{\"minimum\":1}", "\"not a number: only numbers are compared\"");
    /* numbers whose arithmetic would overflow (1e308 dollars in cents is inf) are refused, with or
     * without bounds in the schema (issue 16) */
    BAD("{\"type\":\"number\"}", "1e308", "is not a usable number (numbers must be finite");
    BAD("{\"type\":\"number\",\"minimum\":0}", "1e16", "between -2^53 and 2^53");
    BAD("{\"type\":\"number\",\"maximum\":100}", "-1e300", "is not a usable number");
    BAD("{\"type\":\"integer\"}", "4611686018427387904", "is not a usable number");
    BAD("{\"properties\":{\"max_cost\":{\"type\":\"number\"}}}", "{\"max_cost\":1e308}",
        "arguments.max_cost: 1e308 is not a usable number");
    OK("{\"type\":\"number\"}", "9007199254740992");
    OK("{\"type\":\"number\"}", "-0.000001");
}

static void test_strings(void **state)
{
    (void)state;
    OK("{\"minLength\":2,\"maxLength\":3}", "\"\xc3\xa9\xc3\xa9\xc3\xa9\""); /* 3 code points */
    BAD("{\"maxLength\":2}", "\"\xc3\xa9\xc3\xa9\xc3\xa9\"", "too long (3 characters, at most 2)");
    BAD("{\"minLength\":1}", "\"\"", "too short (0 characters, at least 1)");
    OK("{\"pattern\":\"^[a-z]+/[A-Za-z0-9._-]+$\"}", "\"meta/Llama-3.2-1B\"");
    BAD("{\"pattern\":\"^[a-z]+$\"}", "\"ABC\"", "\"ABC\" does not match the pattern ^[a-z]+$");
    OK("{\"pattern\":\"b\"}", "\"abc\""); /* unanchored, like ECMA-262 */
    OK("{\"enum\":[\"a\",1,null]}", "1.0");
    BAD("{\"enum\":[\"fast\",\"slow\"]}", "\"medium\"",
        "\"medium\" is not allowed (one of: \"fast\", \"slow\")");
    OK("{\"const\":\"x\"}", "\"x\"");
    BAD("{\"const\":\"x\"}", "\"y\"", "must be \"x\"");
}

static void test_arrays(void **state)
{
    const char *s = "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"n\":"
                    "{\"type\":\"integer\",\"minimum\":1}},\"required\":[\"n\"]},"
                    "\"minItems\":1,\"maxItems\":2}";
    (void)state;
    OK(s, "[{\"n\":1}]");
    BAD(s, "[]", "arguments: 0 items, at least 1 needed");
    BAD(s, "[{\"n\":1},{\"n\":2},{\"n\":3}]", "3 items, at most 2 allowed");
    BAD(s, "[{\"n\":1},{\"n\":0}]", "arguments[1].n: 0 is below the minimum 1");
    BAD(s, "[{\"n\":1},{}]", "arguments[1].n: required field missing");
    BAD("{\"uniqueItems\":true}", "[1,2,1.0]", "items 0 and 2 are equal");
    OK("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\",\"minimum\":0}]}", "4");
    BAD("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\",\"minimum\":0}]}", "-1",
        "matches none of the allowed forms");
}

static void test_defaults(void **state)
{
    json_t *s = J("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"default\":3},"
                  "\"o\":{\"type\":\"object\",\"properties\":{\"x\":{\"default\":[1]}}},"
                  "\"b\":{\"type\":\"string\"}}}");
    json_t *v = J("{\"o\":{}}");
    vml_err err;
    (void)state;
    assert_int_equal(vml_schema_validate(s, v, "arguments", VML_SCHEMA_FILL_DEFAULTS, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(v, "a")), 3);
    assert_true(json_is_array(json_object_get(json_object_get(v, "o"), "x")));
    assert_null(json_object_get(v, "b"));
    /* the schema's default is copied, not shared */
    json_array_append_new(json_object_get(json_object_get(v, "o"), "x"), json_integer(2));
    {
        json_t *props = json_object_get(s, "properties");
        json_t *o = json_object_get(json_object_get(props, "o"), "properties");
        json_t *d = json_object_get(json_object_get(o, "x"), "default");
        assert_int_equal(json_array_size(d), 1);
    }
    json_decref(s);
    json_decref(v);
}

/* The plugin loader's flags: the innermost description on the failing path ends the message
 * (once), and list items are counted from 1 as in Lua. Without them, messages stay as before. */
static void test_hints_and_lua_index(void **state)
{
    static const char *schema =
        "{\"type\":\"object\",\"description\":\"outer\",\"required\":[\"gpu\"],"
        "\"properties\":{\"gpu\":{\"type\":\"object\",\"description\":\"gpu = {count=int}\","
        "\"properties\":{\"count\":{\"type\":\"integer\"}}},"
        "\"rules\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"id\"]}}}}";
    char b[VML_ERR_MSG_MAX];
    const int f = VML_SCHEMA_HINTS | VML_SCHEMA_LUA_INDEX;
    (void)state;
    assert_string_equal(check(schema, "{\"gpu\":{\"count\":1.5}}", f, b, sizeof b),
                        "arguments.gpu.count: expected integer, got number; gpu = {count=int}");
    assert_string_equal(check(schema, "{}", f, b, sizeof b),
                        "arguments.gpu: required field missing; gpu = {count=int}");
    assert_string_equal(check(schema, "{\"gpu\":{},\"rules\":[{\"id\":1},{}]}", f, b, sizeof b),
                        "arguments.rules[2].id: required field missing; outer");
    assert_string_equal(check(schema, "{\"gpu\":{},\"rules\":[{\"id\":1},{}]}", 0, b, sizeof b),
                        "arguments.rules[1].id: required field missing");
}

static void test_check(void **state)
{
    static const struct {
        const char *schema, *want;
    } cases[] = {
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"int\"}}}",
         "schema.properties.a.type: must be one of"},
        {"{\"type\":\"object\",\"oneOf\":[]}", "schema.oneOf: keyword not supported"},
        {"{\"properties\":{\"a\":{\"pattern\":\"\\\\d+\"}}}", "ECMA-262 syntax"},
        {"{\"pattern\":\"([a-z\"}", "schema.pattern:"},
        {"{\"minimum\":\"1\"}", "schema.minimum: must be a number"},
        {"{\"maxLength\":-1}", "must be an integer >= 0"},
        {"{\"required\":\"a\"}", "schema.required: must be an array of names"},
        {"{\"enum\":[]}", "must be a non-empty array"},
        {"{\"items\":{\"type\":\"string\",\"$ref\":\"#/x\"}}",
         "schema.items.$ref: keyword not supported"},
        {"[]", "schema: must be an object"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *s = J(cases[i].schema);
        vml_err err;
        vml_err_clear(&err);
        assert_int_equal(vml_schema_check(s, &err), VML_EINVAL);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("%s: wanted '%s', got '%s'", cases[i].schema, cases[i].want, err.msg);
        json_decref(s);
    }
    {
        json_t *s = J("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
                      "\"type\":\"object\",\"title\":\"t\",\"description\":\"d\","
                      "\"properties\":{\"a\":{\"type\":[\"string\",\"null\"],\"format\":\"uri\","
                      "\"examples\":[\"x\"],\"pattern\":\"^[[:alnum:]_]+$\",\"default\":null},"
                      "\"b\":{\"anyOf\":[{\"const\":1},{\"enum\":[2,3]}]}},"
                      "\"additionalProperties\":false,\"required\":[\"a\"]}");
        vml_err err;
        assert_int_equal(vml_schema_check(s, &err), 0);
        json_decref(s);
    }
}

static void test_deep(void **state)
{
    /* a schema and a value nested far deeper than the validator goes: refused, no crash */
    char schema[8192], value[8192];
    size_t i, n = 0, m = 0;
    vml_err err;
    json_t *s, *v;
    (void)state;
    for (i = 0; i < 100; i++) {
        n += (size_t)snprintf(schema + n, sizeof schema - n, "{\"items\":");
        m += (size_t)snprintf(value + m, sizeof value - m, "[");
    }
    n += (size_t)snprintf(schema + n, sizeof schema - n, "true");
    for (i = 0; i < 100; i++) {
        n += (size_t)snprintf(schema + n, sizeof schema - n, "}");
        m += (size_t)snprintf(value + m, sizeof value - m, "]");
    }
    s = J(schema);
    v = J(value);
    assert_int_equal(vml_schema_check(s, &err), VML_EINVAL);
    assert_non_null(strstr(err.msg, "too deep"));
    assert_int_equal(vml_schema_validate(s, v, "arguments", 0, &err), VML_EINVAL);
    assert_non_null(strstr(err.msg, "nested more than"));
    json_decref(s);
    json_decref(v);
}

/* A compiled schema is reused: defaults go into each value, never into the schema, and a
 * failure leaves it usable. */
static void test_compiled(void **state)
{
    json_t *s = J("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\","
                  "\"minimum\":1,\"default\":2},\"t\":{\"type\":\"string\","
                  "\"pattern\":\"^[a-z]+$\"}},\"additionalProperties\":false}");
    vml_schema *c = NULL;
    vml_err err;
    int i;
    (void)state;
    assert_int_equal(vml_schema_compile(s, &c, &err), 0);
    json_decref(s); /* the compiled form keeps what it needs */
    for (i = 0; i < 3; i++) {
        json_t *v = J("{\"t\":\"abc\"}"), *bad = J("{\"t\":\"ABC\"}"), *extra = J("{\"x\":1}");
        assert_int_equal(vml_schema_run(c, v, "arguments", VML_SCHEMA_FILL_DEFAULTS, &err), 0);
        assert_int_equal(json_integer_value(json_object_get(v, "n")), 2);
        json_object_set_new(v, "n", json_integer(5)); /* the copy is the value's own */
        assert_int_equal(vml_schema_run(c, bad, "arguments", 0, &err), VML_EINVAL);
        assert_non_null(strstr(err.msg, "arguments.t: \"ABC\" does not match the pattern"));
        assert_int_equal(vml_schema_run(c, extra, "arguments", 0, &err), VML_EINVAL);
        assert_non_null(strstr(err.msg, "unknown field 'x' (allowed: n, t)"));
        json_decref(v);
        json_decref(bad);
        json_decref(extra);
    }
    vml_schema_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),    cmocka_unit_test(test_objects),
        cmocka_unit_test(test_numbers),  cmocka_unit_test(test_strings),
        cmocka_unit_test(test_arrays),   cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_check),    cmocka_unit_test(test_deep),
        cmocka_unit_test(test_compiled), cmocka_unit_test(test_hints_and_lua_index),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc;
}
