/* SPDX-License-Identifier: MIT
 *
 * libload — libcurl and libmicrohttpd are loaded on first use (dlopen), not at process start.
 *
 * Why: the two libraries pull in ~30 more (GnuTLS, Kerberos, LDAP, SSH, IDN, brotli...). Mapping
 * and relocating them cost about 30 ms of CPU and 6-8 MB of resident memory in every `vibeml`
 * process, including each `vibeml serve` an MCP client starts and every short CLI command, most
 * of which never make an HTTP request. The binary is therefore not linked against them; this file
 * defines the functions VibeML calls, with the libraries' own names and prototypes (from their
 * headers), and forwards each call to the library, loaded once (thread-safe: libmicrohttpd calls
 * back from its own threads).
 *
 * Adding a call to another libcurl/libmicrohttpd function: add one X(...) line to CURL_FNS or
 * MHD_FNS below (the linker names any missing one: "undefined reference to curl_...").
 *
 * If a library cannot be loaded, the functions fail the way the library reports failure
 * (curl_easy_init -> NULL, curl_global_init -> CURLE_FAILED_INIT, MHD_start_daemon -> NULL...)
 * and one line on stderr names the library and dlerror()'s reason.
 *
 * Uses: libdl, pthread; the libraries' headers only.
 */
#define CURL_DISABLE_TYPECHECK /* the real functions, not the type-checking macros */
#include <curl/curl.h>
#include <dlfcn.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

/* X(return type, name, (parameters), (arguments), value on failure); V(...) for void ones */
#define CURL_FNS(X, V)                                                                               \
    X(CURLcode, curl_global_init, (long flags), (flags), CURLE_FAILED_INIT)                        \
    V(void, curl_global_cleanup, (void), (), )                                                     \
    X(CURL *, curl_easy_init, (void), (), NULL)                                                    \
    V(void, curl_easy_cleanup, (CURL * h), (h), )                                                  \
    X(CURLcode, curl_easy_perform, (CURL * h), (h), CURLE_FAILED_INIT)                             \
    X(const char *, curl_easy_strerror, (CURLcode c), (c), "libcurl could not be loaded")          \
    X(struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s), (l, s),      \
      NULL)                                                                                        \
    V(void, curl_slist_free_all, (struct curl_slist * l), (l), )                                   \
    X(CURLM *, curl_multi_init, (void), (), NULL)                                                  \
    X(CURLMcode, curl_multi_cleanup, (CURLM * m), (m), CURLM_INTERNAL_ERROR)                       \
    X(CURLMcode, curl_multi_add_handle, (CURLM * m, CURL * h), (m, h), CURLM_INTERNAL_ERROR)       \
    X(CURLMcode, curl_multi_remove_handle, (CURLM * m, CURL * h), (m, h), CURLM_INTERNAL_ERROR)    \
    X(CURLMcode, curl_multi_socket_action, (CURLM * m, curl_socket_t s, int ev, int *running),     \
      (m, s, ev, running), CURLM_INTERNAL_ERROR)                                                   \
    X(CURLMcode, curl_multi_assign, (CURLM * m, curl_socket_t s, void *p), (m, s, p),              \
      CURLM_INTERNAL_ERROR)                                                                        \
    X(CURLMsg *, curl_multi_info_read, (CURLM * m, int *left), (m, left), NULL)                    \
    X(const char *, curl_multi_strerror, (CURLMcode c), (c), "libcurl could not be loaded")        \
    X(char *, curl_easy_escape, (CURL * h, const char *s, int n), (h, s, n), NULL)                 \
    V(void, curl_free, (void *p), (p), )                                                           \
    X(char *, curl_version, (void), (), (char *)"libcurl (not loaded)")

#define MHD_FNS(X, V)                                                                                \
    X(const char *, MHD_get_version, (void), (), "(libmicrohttpd not loaded)")                     \
    V(void, MHD_stop_daemon, (struct MHD_Daemon * d), (d), )                                       \
    X(int, MHD_get_connection_values,                                                              \
      (struct MHD_Connection * c, enum MHD_ValueKind k, MHD_KeyValueIterator it, void *cls),       \
      (c, k, it, cls), -1)                                                                         \
    X(const char *, MHD_lookup_connection_value,                                                   \
      (struct MHD_Connection * c, enum MHD_ValueKind k, const char *key), (c, k, key), NULL)       \
    X(enum MHD_Result, MHD_queue_response,                                                         \
      (struct MHD_Connection * c, unsigned int status, struct MHD_Response *r), (c, status, r),    \
      MHD_NO)                                                                                      \
    X(struct MHD_Response *, MHD_create_response_from_callback,                                    \
      (uint64_t size, size_t block, MHD_ContentReaderCallback crc, void *cls,                      \
       MHD_ContentReaderFreeCallback crfc),                                                        \
      (size, block, crc, cls, crfc), NULL)                                                         \
    X(struct MHD_Response *, MHD_create_response_from_buffer,                                      \
      (size_t size, void *buf, enum MHD_ResponseMemoryMode mode), (size, buf, mode), NULL)         \
    V(void, MHD_destroy_response, (struct MHD_Response * r), (r), )                                \
    X(enum MHD_Result, MHD_add_response_header,                                                    \
      (struct MHD_Response * r, const char *h, const char *v), (r, h, v), MHD_NO)                  \
    V(void, MHD_suspend_connection, (struct MHD_Connection * c), (c), )                            \
    V(void, MHD_resume_connection, (struct MHD_Connection * c), (c), )

/* The variadic ones, forwarded by hand below. */
typedef CURLcode (*fn_easy_setopt)(CURL *, CURLoption, ...);
typedef CURLcode (*fn_easy_getinfo)(CURL *, CURLINFO, ...);
typedef CURLMcode (*fn_multi_setopt)(CURLM *, CURLMoption, ...);
typedef struct MHD_Daemon *(*fn_start_daemon_va)(unsigned int, uint16_t, MHD_AcceptPolicyCallback,
                                                 void *, MHD_AccessHandlerCallback, void *,
                                                 va_list);
typedef const union MHD_DaemonInfo *(*fn_get_daemon_info)(struct MHD_Daemon *,
                                                          enum MHD_DaemonInfoType, ...);

#define FIELD(ret, name, params, args, fail) ret(*name) params;
static struct {
    CURL_FNS(FIELD, FIELD)
    fn_easy_setopt curl_easy_setopt;
    fn_easy_getinfo curl_easy_getinfo;
    fn_multi_setopt curl_multi_setopt;
} C;
static struct {
    MHD_FNS(FIELD, FIELD)
    fn_start_daemon_va MHD_start_daemon_va;
    fn_get_daemon_info MHD_get_daemon_info;
} M;
#undef FIELD

static pthread_once_t curl_once = PTHREAD_ONCE_INIT, mhd_once = PTHREAD_ONCE_INIT;

static void *open_lib(const char *const *names, const char *what)
{
    const char *const *n;
    for (n = names; *n; n++) {
        void *h = dlopen(*n, RTLD_NOW | RTLD_LOCAL);
        if (h)
            return h;
    }
    fprintf(stderr, "vibeml: cannot load %s (%s): %s\n", what, names[0], dlerror());
    return NULL;
}

#define RESOLVE(ret, name, params, args, fail) *(void **)&S.name = dlsym(h, #name);

static void load_curl(void)
{
    static const char *const names[] = {"libcurl.so.4", "libcurl.4.dylib", "libcurl.so",
                                        "libcurl.dylib", NULL};
    void *h = open_lib(names, "libcurl");
    if (!h)
        return;
#define S C
    CURL_FNS(RESOLVE, RESOLVE)
    RESOLVE(, curl_easy_setopt, , , )
    RESOLVE(, curl_easy_getinfo, , , )
    RESOLVE(, curl_multi_setopt, , , )
#undef S
}

static void load_mhd(void)
{
    static const char *const names[] = {"libmicrohttpd.so.12", "libmicrohttpd.12.dylib",
                                        "libmicrohttpd.so", "libmicrohttpd.dylib", NULL};
    void *h = open_lib(names, "libmicrohttpd");
    if (!h)
        return;
#define S M
    MHD_FNS(RESOLVE, RESOLVE)
    RESOLVE(, MHD_start_daemon_va, , , )
    RESOLVE(, MHD_get_daemon_info, , , )
#undef S
}
#undef RESOLVE

#define CURL_DEF(ret, name, params, args, fail)                                                  \
    ret name params                                                                                \
    {                                                                                              \
        pthread_once(&curl_once, load_curl);                                                       \
        if (!C.name)                                                                               \
            return fail;                                                                           \
        return C.name args;                                                                        \
    }
#define CURL_DEF_V(ret, name, params, args, fail)                                                \
    void name params                                                                               \
    {                                                                                              \
        pthread_once(&curl_once, load_curl);                                                       \
        if (C.name)                                                                                \
            C.name args;                                                                           \
    }
#define MHD_DEF(ret, name, params, args, fail)                                                   \
    ret name params                                                                                \
    {                                                                                              \
        pthread_once(&mhd_once, load_mhd);                                                         \
        if (!M.name)                                                                               \
            return fail;                                                                           \
        return M.name args;                                                                        \
    }
#define MHD_DEF_V(ret, name, params, args, fail)                                                 \
    void name params                                                                               \
    {                                                                                              \
        pthread_once(&mhd_once, load_mhd);                                                         \
        if (M.name)                                                                                \
            M.name args;                                                                           \
    }
CURL_FNS(CURL_DEF, CURL_DEF_V)
MHD_FNS(MHD_DEF, MHD_DEF_V)
#undef CURL_DEF
#undef CURL_DEF_V
#undef MHD_DEF
#undef MHD_DEF_V

/* Every option takes one argument (long, pointer, function pointer or curl_off_t), passed in
 * one 64-bit slot on the platforms VibeML supports; it is forwarded as such. */
CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
    va_list ap;
    void *arg;
    pthread_once(&curl_once, load_curl);
    if (!C.curl_easy_setopt)
        return CURLE_FAILED_INIT;
    va_start(ap, opt);
    arg = va_arg(ap, void *);
    va_end(ap);
    return C.curl_easy_setopt(h, opt, arg);
}

CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
    va_list ap;
    void *arg;
    pthread_once(&curl_once, load_curl);
    if (!C.curl_easy_getinfo)
        return CURLE_FAILED_INIT;
    va_start(ap, info);
    arg = va_arg(ap, void *);
    va_end(ap);
    return C.curl_easy_getinfo(h, info, arg);
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
    va_list ap;
    void *arg;
    pthread_once(&curl_once, load_curl);
    if (!C.curl_multi_setopt)
        return CURLM_INTERNAL_ERROR;
    va_start(ap, opt);
    arg = va_arg(ap, void *);
    va_end(ap);
    return C.curl_multi_setopt(m, opt, arg);
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
                                    MHD_AcceptPolicyCallback apc, void *apc_cls,
                                    MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    va_list ap;
    struct MHD_Daemon *d;
    pthread_once(&mhd_once, load_mhd);
    if (!M.MHD_start_daemon_va)
        return NULL;
    va_start(ap, dh_cls);
    d = M.MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

/* The info types VibeML asks for take no extra argument. */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *d,
                                                enum MHD_DaemonInfoType type, ...)
{
    pthread_once(&mhd_once, load_mhd);
    if (!M.MHD_get_daemon_info)
        return NULL;
    return M.MHD_get_daemon_info(d, type);
}
