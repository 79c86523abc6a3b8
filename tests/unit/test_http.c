/* SPDX-License-Identifier: MIT
 * Unit tests for core/http: the curl multi interface on the libuv loop. A small blocking server
 * thread on 127.0.0.1 answers one connection per scenario while the test's main thread runs the
 * loop through vml_http_fetch / vml_http_start: a whole reply, a reply cut short, one over the
 * size limit, a server that never answers (time-out), cancellation, output files, bad URLs. */
#include "support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "loop.h"

typedef enum { S_OK, S_TRUNCATED, S_BIG, S_SILENT, S_ECHO_AUTH } scenario;

typedef struct server {
    int fd;
    int port;
    scenario sc;
    char request[4096];
    pthread_t thread;
} server;

static void *server_main(void *arg)
{
    server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    ssize_t n;
    char buf[8192];
    if (c < 0)
        return NULL;
    n = recv(c, s->request, sizeof s->request - 1, 0);
    if (n > 0)
        s->request[n] = '\0';
    switch (s->sc) {
    case S_OK:
        snprintf(buf, sizeof buf,
                 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Two: a\r\n"
                 "X-Two: b\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        send(c, buf, strlen(buf), 0);
        break;
    case S_TRUNCATED:
        snprintf(buf, sizeof buf,
                 "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close"
                 "\r\n\r\nonly-part");
        send(c, buf, strlen(buf), 0);
        break;
    case S_BIG: {
        size_t i;
        snprintf(buf, sizeof buf,
                 "HTTP/1.1 200 OK\r\nContent-Length: 40000\r\nConnection: close"
                 "\r\n\r\n");
        send(c, buf, strlen(buf), 0);
        memset(buf, 'x', sizeof buf);
        for (i = 0; i < 5; i++)
            if (send(c, buf, 8000, MSG_NOSIGNAL) < 0)
                break;
        break;
    }
    case S_SILENT:
        /* read until the client gives up */
        while (recv(c, buf, sizeof buf, 0) > 0)
            ;
        break;
    case S_ECHO_AUTH: {
        const char *a = strstr(s->request, "Authorization: ");
        char body[256];
        size_t len = a ? strcspn(a, "\r") : 0;
        snprintf(body, sizeof body, "%.*s", (int)len, a ? a : "");
        snprintf(buf, sizeof buf,
                 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close"
                 "\r\n\r\n%s",
                 strlen(body), body);
        send(c, buf, strlen(buf), 0);
        break;
    }
    }
    close(c);
    return NULL;
}

static void server_start(server *s, scenario sc)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(s, 0, sizeof *s);
    s->sc = sc;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 4), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(server *s)
{
    shutdown(s->fd, SHUT_RDWR);
    pthread_join(s->thread, NULL);
    close(s->fd);
}

/* The set-up every case but test_bad_urls shares: a server thread playing the scenario given as
 * the test's prestate, and a request for its URL that follows no redirects. */
typedef struct fixture {
    server s;
    char url[128];
    vml_http_req req;
} fixture;

static const scenario scenarios[] = {S_OK, S_TRUNCATED, S_BIG, S_SILENT, S_ECHO_AUTH};
#define SERVED(test, sc)                                                                           \
    cmocka_unit_test_prestate_setup_teardown(test, setup, teardown, (void *)&scenarios[sc])

static void serve(fixture *f, scenario sc)
{
    server_start(&f->s, sc);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/path?q=1", f->s.port);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    serve(f, *(const scenario *)*state);
    f->req.url = f->url;
    f->req.max_redirects = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    server_stop(&f->s);
    free(f);
    return 0;
}

static void test_ok(void **state)
{
    fixture *f = *state;
    vml_http_resp resp;
    vml_err err;
    size_t i;
    int two = 0;
    assert_int_equal(vml_http_fetch(&f->req, &resp, &err), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body_len, 5);
    assert_string_equal(resp.body, "hello");
    for (i = 0; i < resp.nheaders; i++) {
        if (strcmp(resp.headers[i].name, "content-type") == 0)
            assert_string_equal(resp.headers[i].value, "text/plain");
        if (strcmp(resp.headers[i].name, "x-two") == 0)
            two++;
    }
    assert_int_equal(two, 2);
    assert_non_null(strstr(f->s.request, "GET /path?q=1 HTTP/1.1"));
    vml_http_resp_free(&resp);
}

static void test_headers_sent(void **state)
{
    fixture *f = *state;
    const char *hdrs[] = {"Authorization: Bearer abc", NULL};
    vml_http_resp resp;
    vml_err err;
    f->req.headers = hdrs;
    assert_int_equal(vml_http_fetch(&f->req, &resp, &err), 0);
    assert_string_equal(resp.body, "Authorization: Bearer abc");
    vml_http_resp_free(&resp);
}

static void test_truncated(void **state)
{
    fixture *f = *state;
    vml_http_resp resp;
    vml_err err;
    assert_int_equal(vml_http_fetch(&f->req, &resp, &err), VML_EHTTP);
    assert_non_null(strstr(err.msg, "127.0.0.1"));
    assert_null(strstr(err.msg, "q=1")); /* query strings stay out of messages */
    assert_null(resp.body);
}

static void test_too_big(void **state)
{
    fixture *f = *state;
    vml_http_resp resp;
    vml_err err;
    f->req.max_bytes = 1000;
    assert_int_equal(vml_http_fetch(&f->req, &resp, &err), VML_ELIMIT);
    assert_non_null(strstr(err.msg, "1000 bytes"));
}

static void test_timeout(void **state)
{
    fixture *f = *state;
    vml_http_resp resp;
    vml_err err;
    f->req.timeout = 0.3;
    assert_int_equal(vml_http_fetch(&f->req, &resp, &err), VML_ETIMEOUT);
    assert_non_null(strstr(err.msg, "0.3 s"));
}

static int cancel_called;
static void never(vml_http_op *op, int rc, const vml_err *err, const vml_http_resp *resp, void *ud)
{
    (void)op;
    (void)rc;
    (void)err;
    (void)resp;
    (void)ud;
    cancel_called++;
}

static void on_timer(uv_timer_t *t)
{
    vml_http_op **op = t->data;
    vml_http_cancel(*op);
    uv_close((uv_handle_t *)t, NULL);
}

static void test_cancel(void **state)
{
    fixture *f = *state;
    vml_http_op *op = NULL;
    vml_err err;
    uv_timer_t t;
    f->req.timeout = 30;
    cancel_called = 0;
    assert_int_equal(vml_http_start(&f->req, never, NULL, &op, &err), 0);
    assert_non_null(op);
    uv_timer_init(vml_loop(), &t);
    t.data = &op;
    uv_timer_start(&t, on_timer, 100, 0);
    uv_run(vml_loop(), UV_RUN_DEFAULT); /* ends once the request is cancelled: nothing left */
    assert_int_equal(cancel_called, 0);
    assert_null(op);
}

static void test_output_file(void **state)
{
    fixture *f = *state;
    char path[256];
    vml_http_resp resp;
    vml_err err;
    FILE *out;
    char got[16] = {0};
    snprintf(path, sizeof path, "/tmp/vml-test-http-%d.out", (int)getpid());
    f->req.output_file = path;
    assert_int_equal(vml_http_fetch(&f->req, &resp, &err), 0);
    assert_null(resp.body);
    assert_int_equal(resp.body_len, 5);
    out = fopen(path, "rb");
    assert_non_null(out);
    assert_int_equal(fread(got, 1, sizeof got, out), 5);
    fclose(out);
    assert_string_equal(got, "hello");
    vml_http_resp_free(&resp);
    /* a failed download leaves no file behind */
    server_stop(&f->s);
    serve(f, S_TRUNCATED);
    assert_int_equal(vml_http_fetch(&f->req, &resp, &err), VML_EHTTP);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_bad_urls(void **state)
{
    vml_http_req req = {0};
    vml_http_resp resp;
    vml_err err;
    const char *bad_hdr[] = {"X-A: a\r\nX-B: b", NULL};
    (void)state;
    req.url = "file:///etc/passwd";
    assert_int_equal(vml_http_fetch(&req, &resp, &err), VML_EINVAL);
    req.url = "gopher://127.0.0.1/";
    assert_int_equal(vml_http_fetch(&req, &resp, &err), VML_EINVAL);
    req.url = "http://127.0.0.1:9/";
    req.method = "get";
    assert_int_equal(vml_http_fetch(&req, &resp, &err), VML_EINVAL);
    req.method = NULL;
    req.headers = bad_hdr;
    assert_int_equal(vml_http_fetch(&req, &resp, &err), VML_EINVAL);
    req.headers = NULL;
    req.max_redirects = -1;
    assert_int_equal(vml_http_fetch(&req, &resp, &err), VML_EHTTP); /* refused */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SERVED(test_ok, S_OK),
        SERVED(test_headers_sent, S_ECHO_AUTH),
        SERVED(test_truncated, S_TRUNCATED),
        SERVED(test_too_big, S_BIG),
        SERVED(test_timeout, S_SILENT),
        SERVED(test_cancel, S_SILENT),
        SERVED(test_output_file, S_OK),
        cmocka_unit_test(test_bad_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
