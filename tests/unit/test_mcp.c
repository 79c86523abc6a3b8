/* SPDX-License-Identifier: MIT
 * Unit tests for the MCP server (core/mcp*.c): line framing, JSON text, JSON-RPC discipline and
 * dispatch, in process (the transport is a capture buffer; waiting tools run on the real
 * loop). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "mcp.h"
#include "mcp_int.h" /* vml__mcp_text */

typedef struct cap {
    json_t *msgs; /* every line written, parsed */
    int bad;      /* lines that were not JSON or lacked the newline */
} cap;

static int cap_write(void *ud, char *line, size_t len)
{
    cap *c = ud;
    json_t *j;
    if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
        c->bad++;
    j = json_loadb(line, len, JSON_DECODE_ANY, NULL);
    if (!j)
        c->bad++;
    else
        json_array_append_new(c->msgs, j);
    free(line);
    return 0;
}

static vml_mcp *server(cap *c, size_t max_message)
{
    vml_mcp_opts o;
    vml_mcp *m = NULL;
    vml_err err;
    memset(&o, 0, sizeof o);
    memset(c, 0, sizeof *c);
    c->msgs = json_array();
    o.write = cap_write;
    o.write_ud = c;
    o.test_tools = 1;
    o.max_message = max_message;
    if (vml_mcp_new(&o, &m, &err) < 0)
        fail_msg("vml_mcp_new: %s", err.msg);
    return m;
}

static void done(vml_mcp *m, cap *c)
{
    vml_mcp_free(m);
    uv_run(vml_loop(), UV_RUN_NOWAIT);
    assert_int_equal(c->bad, 0);
    json_decref(c->msgs);
}

static void feed(vml_mcp *m, const char *s)
{
    vml_mcp_feed(m, s, strlen(s));
}

static json_t *by_id(cap *c, const char *id_json)
{
    size_t i;
    json_t *msg, *want = json_loads(id_json, JSON_DECODE_ANY, NULL);
    json_array_foreach (c->msgs, i, msg) {
        json_t *id = json_is_object(msg) ? json_object_get(msg, "id") : NULL;
        if (id && json_equal(id, want)) {
            json_decref(want);
            return msg;
        }
    }
    json_decref(want);
    return NULL;
}

/* The result of the reply with this id (there may also be an error for a duplicate id). */
static json_t *result_of(cap *c, json_int_t id)
{
    size_t i;
    json_t *msg;
    json_array_foreach (c->msgs, i, msg) {
        json_t *j = json_is_object(msg) ? json_object_get(msg, "id") : NULL;
        if (json_is_integer(j) && json_integer_value(j) == id && json_object_get(msg, "result"))
            return json_object_get(msg, "result");
    }
    return NULL;
}

static int err_code(json_t *msg)
{
    return (int)json_integer_value(json_object_get(json_object_get(msg, "error"), "code"));
}

static void init(vml_mcp *m, const char *version, const char *caps)
{
    char buf[512];
    snprintf(
        buf, sizeof buf,
        "{\"jsonrpc\":\"2.0\",\"id\":\"init\",\"method\":\"initialize\",\"params\":{"
        "\"protocolVersion\":\"%s\",\"capabilities\":%s,\"clientInfo\":{\"name\":\"u\","
        "\"version\":\"1\"}}}\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n",
        version, caps);
    feed(m, buf);
}

static void run_until_idle(vml_mcp *m)
{
    int guard = 0;
    while (vml_mcp_inflight(m) > 0 && guard++ < 100000)
        uv_run(vml_loop(), UV_RUN_ONCE);
}

static void test_framing_split_and_joined(void **state)
{
    cap c;
    vml_mcp *m = server(&c, 0);
    const char *text = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
                       "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\r\n\n"
                       "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}";
    size_t i;
    (void)state;
    for (i = 0; text[i]; i++) /* one byte at a time */
        vml_mcp_feed(m, text + i, 1);
    assert_int_equal(json_array_size(c.msgs), 2);
    vml_mcp_feed_eof(m); /* the last line has no newline */
    assert_int_equal(json_array_size(c.msgs), 3);
    assert_non_null(json_object_get(by_id(&c, "3"), "result"));
    /* several lines in one chunk */
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}\n{\"jsonrpc\":\"2.0\",\"id\":5,"
            "\"method\":\"ping\"}\n");
    assert_non_null(by_id(&c, "5"));
    done(m, &c);
}

static void test_oversized_lines(void **state)
{
    cap c;
    vml_mcp *m = server(&c, 64);
    char big[200];
    (void)state;
    memset(big, 'x', sizeof big);
    /* arrives in pieces, no newline yet: refused as soon as it passes the limit */
    vml_mcp_feed(m, "{\"jsonrpc\":\"2.0\",\"id\":\"big\",\"method\":\"ping\",\"p\":\"", 49);
    vml_mcp_feed(m, big, 100);
    assert_int_equal(json_array_size(c.msgs), 1);
    assert_int_equal(err_code(json_array_get(c.msgs, 0)), -32600);
    assert_true(json_is_null(json_object_get(json_array_get(c.msgs, 0), "id")));
    vml_mcp_feed(m, big, 100);
    feed(m, "\"}\n{\"jsonrpc\":\"2.0\",\"id\":\"ok\",\"method\":\"ping\"}\n");
    assert_int_equal(json_array_size(c.msgs), 2);
    assert_non_null(json_object_get(by_id(&c, "\"ok\""), "result"));
    /* a whole line over the limit in one chunk */
    memcpy(big + 150, "\n", 1);
    vml_mcp_feed(m, big, 151);
    assert_int_equal(json_array_size(c.msgs), 3);
    assert_int_equal(err_code(json_array_get(c.msgs, 2)), -32600);
    assert_null(by_id(&c, "\"big\""));
    done(m, &c);
}

static void test_envelope_errors(void **state)
{
    cap c;
    vml_mcp *m = server(&c, 0);
    (void)state;
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}\n");
    assert_int_equal(err_code(by_id(&c, "1")), -32600); /* before initialize */
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n");
    assert_non_null(json_object_get(by_id(&c, "2"), "result"));
    init(m, "2025-11-25", "{}");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(by_id(&c, "\"init\""), "result"), "protocolVersion")),
                        "2025-11-25");
    /* the instructions are Lua's (vibeml.mcp.instructions), passed through */
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_object_get(by_id(&c, "\"init\""), "result"), "instructions")),
                           "check_setup"));
    feed(m, "{bad\n");
    assert_int_equal(err_code(json_array_get(c.msgs, json_array_size(c.msgs) - 1)), -32700);
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"}\n");
    assert_int_equal(err_code(by_id(&c, "3")), -32601);
    feed(
        m,
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"zzz\"}}\n");
    assert_int_equal(err_code(by_id(&c, "4")), -32602);
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":5}\n");
    assert_int_equal(err_code(by_id(&c, "5")), -32600);
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":5.5,\"method\":\"ping\"}\n");
    assert_int_equal(err_code(json_array_get(c.msgs, json_array_size(c.msgs) - 1)), -32600);
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":123456789012345678901234567890,"
            "\"method\":\"ping\"}\n");
    assert_int_equal(err_code(json_array_get(c.msgs, json_array_size(c.msgs) - 1)), -32600);
    {
        size_t before = json_array_size(c.msgs);
        feed(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/unknown\"}\n");
        feed(m, "{\"jsonrpc\":\"2.0\",\"method\":\"tools/list\"}\n"); /* a request without id */
        assert_int_equal(json_array_size(c.msgs), before);            /* never answered */
    }
    feed(m, "[{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}]\n");
    assert_null(by_id(&c, "6"));
    assert_int_equal(err_code(json_array_get(c.msgs, json_array_size(c.msgs) - 1)), -32600);
    done(m, &c);
}

/* What the server reads as JSON (vml_mcp_parse, also the HTTP bodies) and how it writes text
 * that is not UTF-8. */
static void test_json_text(void **state)
{
    json_t *v = NULL;
    size_t pos = 0;
    vml_err err;
    char deep[2 * 2049 + 1];
    (void)state;
    /* a raw NUL byte: jansson alone would read the value before it and stop */
    assert_int_equal(vml_mcp_parse("{}\0junk", 7, &v, &pos, &err), VML_EJSON);
    assert_null(v);
    assert_int_equal(pos, 2);
    assert_non_null(strstr(err.msg, "NUL"));
    /* an escaped NUL inside a string is JSON and kept */
    assert_int_equal(vml_mcp_parse("\"a\\u0000b\"", 10, &v, NULL, NULL), 0);
    assert_int_equal(json_string_length(v), 3);
    json_decref(v);
    /* refused: duplicate keys, bad UTF-8, trailing text, a lone surrogate */
    assert_int_equal(vml_mcp_parse("{\"a\":1,\"a\":2}", 13, &v, NULL, &err), VML_EJSON);
    assert_non_null(strstr(err.msg, "duplicate"));
    assert_int_equal(vml_mcp_parse("\"\xff\"", 3, &v, NULL, NULL), VML_EJSON);
    assert_int_equal(vml_mcp_parse("{} {}", 5, &v, &pos, NULL), VML_EJSON);
    assert_int_equal(vml_mcp_parse("\"\\ud800\"", 8, &v, NULL, NULL), VML_EJSON);
    /* valid JSON the reader cannot hold: not a parse error but a limit (-32600 on the wire) */
    assert_int_equal(vml_mcp_parse("[123456789012345678901234567890]", 32, &v, NULL, &err),
                     VML_ELIMIT);
    assert_int_equal(vml_mcp_parse("1e400", 5, &v, NULL, NULL), VML_ELIMIT);
    /* nesting: 2048 levels read, 2049 refused */
    memset(deep, '[', 2048);
    memset(deep + 2048, ']', 2048);
    assert_int_equal(vml_mcp_parse(deep, 4096, &v, NULL, NULL), 0);
    json_decref(v);
    memset(deep, '[', 2049);
    memset(deep + 2049, ']', 2049);
    assert_int_equal(vml_mcp_parse(deep, 4098, &v, NULL, NULL), VML_EJSON);
    /* text a tool gave that is not UTF-8: each bad byte becomes U+FFFD, the rest stays */
    v = vml__mcp_text("ok \xc3\xa9 \xff \xe2\x82 end", 14);
    assert_non_null(v);
    assert_string_equal(json_string_value(v),
                        "ok \xc3\xa9 \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd end");
    json_decref(v);
}

static void test_tool_calls_and_cancel(void **state)
{
    cap c;
    vml_mcp *m = server(&c, 0);
    json_t *r;
    (void)state;
    init(m, "2025-06-18", "{}");
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
            "\"test_echo\",\"arguments\":{\"message\":\"hey\"}}}\n");
    r = json_object_get(by_id(&c, "1"), "result");
    assert_non_null(r);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r, "structuredContent"), "count")), 1);
    /* a waiting call, and one cancelled while it waits */
    feed(m,
         "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
         "\"test_sleep\",\"arguments\":{\"seconds\":0.05},\"_meta\":{\"progressToken\":\"t\"}}}\n");
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
            "\"test_sleep\",\"arguments\":{\"seconds\":30}}}\n");
    assert_int_equal(vml_mcp_inflight(m), 2);
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n");
    assert_int_equal(err_code(by_id(&c, "2")), -32600); /* id 2 is still running */
    feed(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/"
            "cancelled\",\"params\":{\"requestId\":3}}\n");
    assert_int_equal(vml_mcp_inflight(m), 1);
    run_until_idle(m);
    {
        size_t i, n3 = 0, progress = 0;
        json_t *msg;
        json_array_foreach (c.msgs, i, msg) {
            json_t *id = json_object_get(msg, "id");
            if (json_is_integer(id) && json_integer_value(id) == 3)
                n3++;
            if (json_is_string(json_object_get(msg, "method")) &&
                strcmp(json_string_value(json_object_get(msg, "method")),
                       "notifications/progress") == 0)
                progress++;
        }
        assert_int_equal(n3, 0);       /* no response after cancellation */
        assert_int_equal(progress, 1); /* one step, one notification */
    }
    assert_non_null(result_of(&c, 2));
    done(m, &c);
}

static void test_batch_2025_03_26(void **state)
{
    cap c;
    vml_mcp *m = server(&c, 0);
    json_t *last;
    (void)state;
    init(m, "2025-03-26", "{}");
    feed(m, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
            "\"test_sleep\",\"arguments\":{\"seconds\":0.02}}},"
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"},"
            "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}]\n");
    last = json_array_get(c.msgs, json_array_size(c.msgs) - 1);
    assert_false(json_is_array(last)); /* held until the sleeping element is done */
    run_until_idle(m);
    last = json_array_get(c.msgs, json_array_size(c.msgs) - 1);
    assert_true(json_is_array(last));
    assert_int_equal(json_array_size(last), 2);
    done(m, &c);
}

static void test_elicitation_correlation(void **state)
{
    cap c;
    vml_mcp *m = server(&c, 0);
    json_t *req, *res;
    (void)state;
    init(m, "2025-11-25", "{\"elicitation\":{\"form\":{}}}");
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
            "\"test_elicit\",\"arguments\":{}}}\n");
    req = json_array_get(c.msgs, json_array_size(c.msgs) - 1);
    assert_string_equal(json_string_value(json_object_get(req, "method")), "elicitation/create");
    assert_string_equal(json_string_value(json_object_get(json_object_get(req, "params"), "mode")),
                        "form");
    assert_int_equal(vml_mcp_inflight(m), 1);
    /* a ping meanwhile is answered at once */
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}\n");
    assert_non_null(by_id(&c, "8"));
    /* the answer to some other id is ignored; then the real one */
    feed(m, "{\"jsonrpc\":\"2.0\",\"id\":\"vml-99\",\"result\":{\"action\":\"accept\"}}\n");
    assert_int_equal(vml_mcp_inflight(m), 1);
    {
        char line[256];
        snprintf(line, sizeof line,
                 "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{\"action\":\"accept\","
                 "\"content\":{\"confirm\":true}}}\n",
                 json_string_value(json_object_get(req, "id")));
        feed(m, line);
    }
    res = json_object_get(json_object_get(by_id(&c, "7"), "result"), "structuredContent");
    assert_non_null(res);
    assert_string_equal(json_string_value(json_object_get(res, "action")), "accept");
    assert_true(json_is_true(json_object_get(json_object_get(res, "content"), "confirm")));
    assert_int_equal(vml_mcp_inflight(m), 0);
    done(m, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing_split_and_joined), cmocka_unit_test(test_oversized_lines),
        cmocka_unit_test(test_envelope_errors),          cmocka_unit_test(test_json_text),
        cmocka_unit_test(test_tool_calls_and_cancel),    cmocka_unit_test(test_batch_2025_03_26),
        cmocka_unit_test(test_elicitation_correlation),
    };
    setenv("VIBEML_HOME", "/tmp", 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
