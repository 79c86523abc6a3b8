/* SPDX-License-Identifier: MIT
 * libFuzzer target: one MCP message (or a few lines) through core/mcp.c's dispatch: framing,
 * JSON-RPC envelope checks, lifecycle, tools/list, tools/call with schema validation and the
 * Lua handlers, resources, prompts, completion, cancellation, batches. Two initialized servers
 * (protocol 2025-11-25 and 2025-03-26, the one with batches); the first input byte picks one,
 * the rest is fed as transport bytes, then the loop runs until nothing is in flight (bounded);
 * a server with requests still waiting is replaced by a fresh one.
 * Contract checked: no crash or leak; every line the server writes is a JSON-RPC 2.0 object
 * (or a batch of them).
 * Safety: PATH is empty and VIBEML_HOME private, and inputs naming the launch or terminate
 * tools are skipped, so no process is ever started. Build: tests/fuzz/run.sh mcp. */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "fuzz_lua.h" /* fuzz_home_init */
#include "loop.h"
#include "mcp.h"

static vml_mcp *servers[2];
static const char *const versions[2] = {"2025-11-25", "2025-03-26"};

static int is_jsonrpc(const json_t *msg)
{
    const json_t *v = json_object_get(msg, "jsonrpc");
    return json_is_object(msg) && json_is_string(v) && strcmp(json_string_value(v), "2.0") == 0;
}

static int on_write(void *ud, char *line, size_t len)
{
    json_t *msg = NULL, *m;
    size_t i;
    int ok;
    (void)ud;
    ok = vml_mcp_parse(line, len, &msg, NULL, NULL) == 0;
    if (ok && json_is_array(msg) && json_array_size(msg) > 0) {
        json_array_foreach (msg, i, m)
            ok = ok && is_jsonrpc(m); /* a batch's responses */
    } else if (ok) {
        ok = is_jsonrpc(msg);
    }
    if (!ok) {
        fprintf(stderr, "fuzz: FINDING the server wrote a line that is not JSON-RPC: %.*s\n",
                (int)len, line);
        abort();
    }
    if (getenv("VML_FUZZ_VERBOSE"))
        fprintf(stderr, "< %.*s\n", (int)(len > 300 ? 300 : len - 1), line);
    json_decref(msg);
    free(line);
    return 0;
}

static int guard_fired;

static void on_guard(uv_timer_t *t)
{
    (void)t;
    guard_fired = 1;
}

/* Runs the loop until nothing is in flight, 1 s at most (thread-pool work, e.g. file reads,
 * needs real loop turns, not just a poll). */
static void settle(vml_mcp *m)
{
    static uv_timer_t guard;
    static int init;
    if (!init) {
        uv_timer_init(vml_loop(), &guard);
        init = 1;
    }
    guard_fired = 0;
    uv_timer_start(&guard, on_guard, 1000, 0);
    while (vml_mcp_inflight(m) > 0 && !guard_fired)
        uv_run(vml_loop(), UV_RUN_ONCE);
    uv_timer_stop(&guard);
}

/* (Re)creates server i, initialized. */
static void start(int i)
{
    {
        vml_mcp_opts o;
        vml_err err;
        char init[512];
        memset(&o, 0, sizeof o);
        o.write = on_write;
        o.no_services = 1;
        o.max_message = 1 << 20;
        if (vml_mcp_new(&o, &servers[i], &err) < 0) {
            fprintf(stderr, "fuzz: cannot start the server: %s\n", vml_err_msg(&err));
            exit(2);
        }
        snprintf(init, sizeof init,
                 "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
                 "\"protocolVersion\":\"%s\",\"capabilities\":{},"
                 "\"clientInfo\":{\"name\":\"fuzz\",\"version\":\"1\"}}}\n"
                 "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n",
                 versions[i]);
        vml_mcp_feed(servers[i], init, strlen(init));
        settle(servers[i]);
    }
}

static void setup(void)
{
    fuzz_home_init();
    setenv("PATH", "/nonexistent", 1);
    start(0);
    start(1);
}

/* The launch and terminate tools would start or stop jobs: inputs naming them are skipped
 * (in the raw bytes, or in any string once escapes are decoded). */
static int names_forbidden(const char *s, size_t n)
{
    return memmem(s, n, "launch", 6) || memmem(s, n, "terminat", 8);
}

static int forbidden_json(const json_t *j)
{
    const char *k;
    size_t i;
    json_t *v;
    if (json_is_string(j))
        return names_forbidden(json_string_value(j), json_string_length(j));
    if (json_is_array(j)) {
        json_array_foreach (j, i, v)
            if (forbidden_json(v))
                return 1;
    }
    if (json_is_object(j)) {
        json_object_foreach ((json_t *)j, k, v)
            if (names_forbidden(k, strlen(k)) || forbidden_json(v))
                return 1;
    }
    return 0;
}

static int skip(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    if (names_forbidden(p, size))
        return 1;
    if (!memmem(p, size, "\\u", 2))
        return 0;
    /* escapes: each line decoded; a line we cannot decode here is skipped too */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_t *j = NULL;
        if (memmem(p, len, "\\u", 2)) {
            if (vml_mcp_parse(p, len, &j, NULL, NULL) < 0)
                return 1;
            if (forbidden_json(j)) {
                json_decref(j);
                return 1;
            }
            json_decref(j);
        }
        p += len + 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vml_mcp *m;
    if (!servers[0])
        setup();
    if (size == 0 || skip(data + 1, size - 1))
        return 0;
    m = servers[data[0] & 1];
    vml_mcp_feed(m, (const char *)data + 1, size - 1);
    vml_mcp_feed(m, "\n", 1);
    settle(m);
    if (vml_mcp_inflight(m) > 0) {
        /* something waits (a timer, an answer the client never gives): start afresh rather than
         * let waiting requests pile up across inputs */
        vml_mcp_free(m);
        start(data[0] & 1);
    }
    return 0;
}
