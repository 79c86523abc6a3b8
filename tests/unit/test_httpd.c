/* SPDX-License-Identifier: MIT
 * Unit tests for core/httpd: whole and streamed responses over loopback, headers, a body over
 * the size limit (announced: 413; chunked: dropped), a request refused on its headers before
 * its body, many requests at once. A client thread uses libcurl while the test's main
 * thread runs the loop, as in the server. */
#include "support.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "loop.h"

typedef struct client {
    int port;
    const char *path;
    const char *body;
    size_t body_len;
    size_t body_off;
    int chunked; /* send the body chunked, without Content-Length */
    long status;
    char resp[65536];
    size_t resp_len;
    char ctype[128];
    volatile int done;
} client;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    client *c = ud;
    size_t len = sz * n;
    if (c->resp_len + len < sizeof c->resp) {
        memcpy(c->resp + c->resp_len, p, len);
        c->resp_len += len;
        c->resp[c->resp_len] = '\0';
    }
    return len;
}

static size_t on_read(char *p, size_t sz, size_t n, void *ud)
{
    client *c = ud;
    size_t len = sz * n;
    if (len > c->body_len - c->body_off)
        len = c->body_len - c->body_off;
    memcpy(p, c->body + c->body_off, len);
    c->body_off += len;
    return len;
}

static void *client_main(void *arg)
{
    client *c = arg;
    char url[256];
    CURL *h = curl_easy_init();
    struct curl_slist *hs = curl_slist_append(NULL, "X-Test: yes");
    char *ct = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", c->port, c->path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    if (c->body && c->chunked) {
        hs = curl_slist_append(hs, "Transfer-Encoding: chunked");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, c);
    } else if (c->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)c->body_len);
    }
    curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        snprintf(c->ctype, sizeof c->ctype, "%s", ct);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    __atomic_store_n(&c->done, 1, __ATOMIC_RELEASE); /* the loop thread polls it */
    return NULL;
}

typedef struct streamer {
    uv_timer_t timer;
    vml_httpd_req *r;
    int step;
} streamer;

static void stream_tick(uv_timer_t *t)
{
    streamer *s = t->data;
    if (s->step < 3) {
        char line[32];
        snprintf(line, sizeof line, "data: %d\n\n", s->step++);
        vml_httpd_stream_write(s->r, line, strlen(line));
        return;
    }
    vml_httpd_stream_end(s->r);
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

static int handled_forbidden; /* requests to /forbidden that reached the handler */

static void handler(vml_httpd_req *r, void *ud)
{
    const char *path = vml_httpd_req_path(r);
    (void)ud;
    if (strcmp(path, "/forbidden") == 0)
        handled_forbidden++;
    if (strcmp(path, "/echo") == 0) {
        size_t len;
        const char *body = vml_httpd_req_body(r, &len);
        const char *hv = vml_httpd_req_header(r, "x-test");
        static const char *const hs[] = {"X-Seen", "1", NULL};
        char out[256];
        snprintf(out, sizeof out, "%s %s %.*s", vml_httpd_req_method(r), hv ? hv : "-", (int)len,
                 body);
        vml_httpd_respond(r, 200, "text/plain", out, strlen(out), hs);
    } else if (strcmp(path, "/stream") == 0) {
        streamer *s = calloc(1, sizeof *s);
        s->r = r;
        vml_httpd_stream_begin(r, 200, "text/event-stream", NULL);
        uv_timer_init(vml_loop(), &s->timer);
        s->timer.data = s;
        uv_timer_start(&s->timer, stream_tick, 5, 5);
    } else {
        vml_httpd_respond(r, 404, "text/plain", "nope\n", 5, NULL);
    }
}

/* refuses /forbidden on its headers */
static int check(const vml_httpd_req *r, void *ud, const char **body, const char *const **hs)
{
    static const char *const h[] = {"X-Refused", "1", NULL};
    (void)ud;
    if (strcmp(vml_httpd_req_path(r), "/forbidden") != 0)
        return 0;
    *body = "{\"error\":\"forbidden\"}";
    *hs = h;
    return 403;
}

static void run_clients(client *cs, int n)
{
    pthread_t th[64];
    int i, all = 0;
    for (i = 0; i < n; i++)
        pthread_create(&th[i], NULL, client_main, &cs[i]);
    while (!all) {
        all = 1;
        for (i = 0; i < n; i++)
            all &= __atomic_load_n(&cs[i].done, __ATOMIC_ACQUIRE);
        uv_run(vml_loop(), UV_RUN_NOWAIT);
        if (!all)
            uv_sleep(1);
    }
    for (i = 0; i < n; i++)
        pthread_join(th[i], NULL);
}

static void test_full_and_stream(void **state)
{
    vml_httpd *d = NULL;
    vml_err e;
    client cs[3];
    (void)state;
    assert_int_equal(vml_httpd_start("127.0.0.1", 0, handler, NULL, NULL, NULL, &d, &e), 0);
    assert_true(vml_httpd_port(d) > 0);
    memset(cs, 0, sizeof cs);
    cs[0].port = cs[1].port = cs[2].port = vml_httpd_port(d);
    cs[0].path = "/echo";
    cs[0].body = "hello";
    cs[0].body_len = 5;
    cs[1].path = "/stream";
    cs[2].path = "/missing";
    run_clients(cs, 3);
    assert_int_equal(cs[0].status, 200);
    assert_string_equal(cs[0].resp, "POST yes hello");
    assert_int_equal(cs[1].status, 200);
    assert_string_equal(cs[1].ctype, "text/event-stream");
    assert_string_equal(cs[1].resp, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
    assert_int_equal(cs[2].status, 404);
    vml_httpd_stop(d);
    uv_run(vml_loop(), UV_RUN_NOWAIT);
}

static void test_many_at_once_and_limits(void **state)
{
    vml_httpd *d = NULL;
    vml_err e;
    client cs[33];
    char *big = malloc(VML_HTTPD_MAX_BODY + 10);
    int i;
    (void)state;
    memset(big, 'x', VML_HTTPD_MAX_BODY + 10);
    assert_int_equal(vml_httpd_start("127.0.0.1", 0, handler, NULL, NULL, NULL, &d, &e), 0);
    memset(cs, 0, sizeof cs);
    for (i = 0; i < 32; i++) {
        cs[i].port = vml_httpd_port(d);
        cs[i].path = i % 2 ? "/stream" : "/echo";
    }
    cs[32].port = vml_httpd_port(d);
    cs[32].path = "/echo";
    cs[32].body = big;
    cs[32].body_len = VML_HTTPD_MAX_BODY + 10;
    run_clients(cs, 33);
    for (i = 0; i < 32; i++)
        assert_int_equal(cs[i].status, 200);
    assert_int_equal(cs[32].status, 413);
    vml_httpd_stop(d);
    uv_run(vml_loop(), UV_RUN_NOWAIT);
    free(big);
    assert_int_equal(vml_httpd_start("not-an-ip", 0, handler, NULL, NULL, NULL, &d, &e),
                     VML_EINVAL);
    assert_int_equal(vml_httpd_start("127.0.0.1", 70000, handler, NULL, NULL, NULL, &d, &e),
                     VML_EINVAL);
}

static void test_refused_before_the_body(void **state)
{
    vml_httpd *d = NULL;
    vml_err e;
    client cs[4];
    vml_httpd_limits lim;
    static char body[3000];
    (void)state;
    memset(body, 'y', sizeof body);
    memset(&lim, 0, sizeof lim);
    lim.max_body = 1000;
    assert_int_equal(vml_httpd_start("127.0.0.1", 0, handler, check, NULL, &lim, &d, &e), 0);
    memset(cs, 0, sizeof cs);
    cs[0].path = "/forbidden"; /* refused on its headers: the handler never sees it */
    cs[0].body = body;
    cs[0].body_len = 900;
    cs[1].path = "/echo"; /* announced too large: 413 before the body */
    cs[1].body = body;
    cs[1].body_len = 1001;
    cs[2].path = "/echo"; /* chunked, grows past the limit: the connection is dropped */
    cs[2].body = body;
    cs[2].body_len = sizeof body;
    cs[2].chunked = 1;
    cs[3].path = "/echo"; /* within the limit, chunked */
    cs[3].body = body;
    cs[3].body_len = 1000;
    cs[3].chunked = 1;
    cs[0].port = cs[1].port = cs[2].port = cs[3].port = vml_httpd_port(d);
    handled_forbidden = 0;
    run_clients(cs, 4);
    assert_int_equal(cs[0].status, 403);
    assert_string_equal(cs[0].resp, "{\"error\":\"forbidden\"}");
    assert_int_equal(handled_forbidden, 0);
    assert_int_equal(cs[1].status, 413);
    assert_non_null(strstr(cs[1].resp, "limit is 1000 bytes"));
    assert_true(cs[2].status != 200);
    assert_int_equal(cs[3].status, 200);
    assert_int_equal(strncmp(cs[3].resp, "POST yes yyyy", 13), 0); /* (the echo is cut at 255) */
    vml_httpd_stop(d);
    uv_run(vml_loop(), UV_RUN_NOWAIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_and_stream),
        cmocka_unit_test(test_many_at_once_and_limits),
        cmocka_unit_test(test_refused_before_the_body),
    };
    int rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
