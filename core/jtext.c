/* SPDX-License-Identifier: MIT
 * jtext — JSON text: buffer, compact writer, strict reader (see jtext.h). */
#include "jtext.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {===================================================================== buffer */

void vml_jtext_init(vml_jtext *b)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void vml_jtext_free(vml_jtext *b)
{
    free(b->p);
    vml_jtext_init(b);
}

/* Makes room for n more bytes plus a NUL; 0 or -1 (oom set). */
static int reserve(vml_jtext *b, size_t n)
{
    size_t cap;
    char *np;
    if (b->oom)
        return -1;
    if (b->len + n + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    np = realloc(b->p, cap);
    if (!np) {
        b->oom = 1;
        return -1;
    }
    b->p = np;
    b->cap = cap;
    return 0;
}

char *vml_jtext_take(vml_jtext *b, size_t *len)
{
    char *p;
    if (reserve(b, 0) < 0) {
        vml_jtext_free(b);
        if (len)
            *len = 0;
        return NULL;
    }
    p = b->p;
    p[b->len] = '\0';
    if (len)
        *len = b->len;
    vml_jtext_init(b);
    return p;
}

void vml_jtext_add(vml_jtext *b, const void *data, size_t n)
{
    if (reserve(b, n) < 0)
        return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

/* }===================================================================== */

/* {===================================================================== writer */

/* Lengths of the valid UTF-8 sequence at p (2..4), or 0 (reader and writer share it). */
static int utf8_seq(const unsigned char *p, const unsigned char *end);

/* 1: a byte a JSON string cannot hold raw ('"', '\\', control characters); 2: a byte that
 * starts a multi-byte sequence, to be checked. */
static const unsigned char k_esc[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

void vml_jtext_str(vml_jtext *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run;
    if (reserve(b, n + 2) < 0)
        return;
    b->p[b->len++] = '"';
    while (i < n) {
        unsigned char c;
        for (run = i; run < n && !k_esc[u[run]]; run++)
            ;
        if (run > i) {
            if (reserve(b, run - i + 1) < 0)
                return;
            memcpy(b->p + b->len, s + i, run - i);
            b->len += run - i;
            i = run;
            continue;
        }
        if (reserve(b, 6 + 1) < 0)
            return;
        c = u[i];
        if (c >= 0x80) {
            /* jansson's strings are valid UTF-8; raw bytes from Lua may not be: a bad
             * sequence becomes U+FFFD, so every line we write stays valid UTF-8 */
            int len = utf8_seq(u + i, u + n);
            if (len) {
                memcpy(b->p + b->len, s + i, (size_t)len);
                b->len += (size_t)len;
                i += (size_t)len;
            } else {
                memcpy(b->p + b->len, "\xEF\xBF\xBD", 3);
                b->len += 3;
                i++;
            }
            continue;
        }
        i++;
        b->p[b->len++] = '\\';
        switch (c) {
        case '"':
        case '\\':
            b->p[b->len++] = (char)c;
            break;
        case '\b':
            b->p[b->len++] = 'b';
            break;
        case '\f':
            b->p[b->len++] = 'f';
            break;
        case '\n':
            b->p[b->len++] = 'n';
            break;
        case '\r':
            b->p[b->len++] = 'r';
            break;
        case '\t':
            b->p[b->len++] = 't';
            break;
        default:
            memcpy(b->p + b->len, "u00", 3);
            b->len += 3;
            b->p[b->len++] = hex[c >> 4];
            b->p[b->len++] = hex[c & 15];
        }
    }
    if (reserve(b, 1) == 0)
        b->p[b->len++] = '"';
}

static void add_integer(vml_jtext *b, json_int_t v)
{
    char tmp[24], *e = tmp + sizeof tmp, *q = e;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--q = '-';
    vml_jtext_add(b, q, (size_t)(e - q));
}

/* The shortest of %.15g..%.17g that reads back to d; always recognisable as a real. */
static void add_real(vml_jtext *b, double d)
{
    char tmp[40];
    int prec, n = 0;
    if (!isfinite(d)) { /* jansson never holds these; never write invalid JSON */
        vml_jtext_lit(b, "null");
        return;
    }
    for (prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    if (n <= 0 || (size_t)n >= sizeof tmp - 3)
        n = snprintf(tmp, sizeof tmp, "%.17g", d);
    if (!strpbrk(tmp, ".eEn")) { /* "3" would read back as an integer */
        tmp[n++] = '.';
        tmp[n++] = '0';
        tmp[n] = '\0';
    }
    vml_jtext_add(b, tmp, (size_t)n);
}

static void write_value(vml_jtext *b, const json_t *v)
{
    size_t i, n;
    if (!v) {
        vml_jtext_lit(b, "null");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        void *it;
        int first = 1;
        vml_jtext_lit(b, "{");
        for (it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
            if (!first)
                vml_jtext_lit(b, ",");
            first = 0;
            vml_jtext_str(b, json_object_iter_key(it), json_object_iter_key_len(it));
            vml_jtext_lit(b, ":");
            write_value(b, json_object_iter_value(it));
        }
        vml_jtext_lit(b, "}");
        return;
    }
    case JSON_ARRAY:
        vml_jtext_lit(b, "[");
        n = json_array_size(v);
        for (i = 0; i < n; i++) {
            if (i)
                vml_jtext_lit(b, ",");
            write_value(b, json_array_get(v, i));
        }
        vml_jtext_lit(b, "]");
        return;
    case JSON_STRING:
        vml_jtext_str(b, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        add_integer(b, json_integer_value(v));
        return;
    case JSON_REAL:
        add_real(b, json_real_value(v));
        return;
    case JSON_TRUE:
        vml_jtext_lit(b, "true");
        return;
    case JSON_FALSE:
        vml_jtext_lit(b, "false");
        return;
    default:
        vml_jtext_lit(b, "null");
    }
}

void vml_jtext_value(vml_jtext *b, const json_t *v)
{
    write_value(b, v);
}

/* }===================================================================== */

/* {===================================================================== reader */

typedef struct reader {
    const unsigned char *s, *end, *p;
    vml_jtext scratch; /* unescaped string bytes */
    vml_err *err;
    size_t errpos;
    int code;
} reader;

static int fail(reader *r, const unsigned char *at, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(reader *r, const unsigned char *at, int code, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    if (r->code)
        return r->code;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->code = code;
    r->errpos = (size_t)(at - r->s);
    vml_err_set(r->err, code, "%s at byte %zu", msg, r->errpos);
    return code;
}

static void skip_ws(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t room = (size_t)(end - p);
    if (c >= 0xC2 && c <= 0xDF)
        return room >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return room >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return room >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 &&
                       (p[3] & 0xC0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
    unsigned v = 0;
    int i;
    if (end - p < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        unsigned char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(vml_jtext *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    vml_jtext_add(b, u, n);
}

/* Reads the string at r->p (on the opening quote). Sets out and len to the bytes, either inside the
 * input (no escapes) or in r->scratch. */
static int read_string(reader *r, const char **out, size_t *len)
{
    const unsigned char *p = r->p + 1, *start = p, *open = r->p;
    int escaped = 0;
    r->scratch.len = 0;
    for (;;) {
        const unsigned char *run = p;
        while (p < r->end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (escaped && p > run)
            vml_jtext_add(&r->scratch, run, (size_t)(p - run));
        if (p >= r->end)
            return fail(r, open, VML_EJSON, "unterminated string");
        if (*p == '"')
            break;
        if (*p >= 0x80) {
            int n = utf8_seq(p, r->end);
            if (!n)
                return fail(r, p, VML_EJSON, "invalid UTF-8 in a string");
            if (escaped)
                vml_jtext_add(&r->scratch, p, (size_t)n);
            p += n;
            continue;
        }
        if (*p < 0x20)
            return fail(r, p, VML_EJSON,
                        "control character 0x%02x in a string (escape it, e.g. \\n or \\u00%02x)",
                        *p, *p);
        /* a backslash */
        if (!escaped) {
            escaped = 1;
            vml_jtext_add(&r->scratch, start, (size_t)(p - start));
        }
        if (p + 1 >= r->end)
            return fail(r, open, VML_EJSON, "unterminated string");
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
            vml_jtext_add(&r->scratch, p + 1, 1);
            p += 2;
            break;
        case 'b':
            vml_jtext_lit(&r->scratch, "\b");
            p += 2;
            break;
        case 'f':
            vml_jtext_lit(&r->scratch, "\f");
            p += 2;
            break;
        case 'n':
            vml_jtext_lit(&r->scratch, "\n");
            p += 2;
            break;
        case 'r':
            vml_jtext_lit(&r->scratch, "\r");
            p += 2;
            break;
        case 't':
            vml_jtext_lit(&r->scratch, "\t");
            p += 2;
            break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(p + 2, r->end, &cp) < 0)
                return fail(r, p, VML_EJSON, "\\u needs four hex digits");
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail(r, p, VML_EJSON, "lone low surrogate \\u%04x", cp);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (r->end - (p + 6) < 6 || p[6] != '\\' || p[7] != 'u' ||
                    hex4(p + 8, r->end, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                    return fail(r, p, VML_EJSON,
                                "high surrogate \\u%04x not followed by a low surrogate", cp);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            put_utf8(&r->scratch, cp);
            p += 6;
            break;
        }
        default:
            return fail(r, p, VML_EJSON, "invalid escape '\\%c' (allowed: \\\" \\\\ \\/ \\b \\f "
                                         "\\n \\r \\t \\uXXXX)",
                        p[1] >= 0x20 && p[1] < 0x7f ? p[1] : '?');
        }
    }
    r->p = p + 1;
    if (r->scratch.oom)
        return fail(r, open, VML_ENOMEM, "out of memory reading a string");
    if (escaped) {
        *out = r->scratch.p ? r->scratch.p : "";
        *len = r->scratch.len;
    } else {
        *out = (const char *)start;
        *len = (size_t)(p - start);
    }
    return 0;
}

static int read_number(reader *r, json_t **out)
{
    const unsigned char *p = r->p, *start = p;
    int neg = 0, is_real = 0;
    unsigned long long u = 0;
    int overflow = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p >= r->end || *p < '0' || *p > '9')
        return fail(r, start, VML_EJSON, "invalid number");
    if (*p == '0') {
        p++;
        if (p < r->end && *p >= '0' && *p <= '9')
            return fail(r, start, VML_EJSON, "invalid number (no leading zeros)");
    } else {
        while (p < r->end && *p >= '0' && *p <= '9') {
            unsigned d = (unsigned)(*p - '0');
            if (u > (ULLONG_MAX - d) / 10)
                overflow = 1;
            else
                u = u * 10 + d;
            p++;
        }
    }
    if (p < r->end && *p == '.') {
        is_real = 1;
        p++;
        if (p >= r->end || *p < '0' || *p > '9')
            return fail(r, start, VML_EJSON, "invalid number (digits needed after '.')");
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < r->end && (*p == 'e' || *p == 'E')) {
        is_real = 1;
        p++;
        if (p < r->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= r->end || *p < '0' || *p > '9')
            return fail(r, start, VML_EJSON, "invalid number (digits needed in the exponent)");
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    r->p = p;
    if (!is_real && !overflow &&
        (neg ? u <= (unsigned long long)INT64_MAX + 1ull : u <= (unsigned long long)INT64_MAX)) {
        json_int_t v = neg ? (json_int_t)(0ull - u) : (json_int_t)u;
        *out = json_integer(v);
    } else {
        /* reals, and integers too big for 64 bits: strtod wants a NUL-terminated copy */
        char small[64], *copy = small;
        size_t n = (size_t)(p - start);
        double d;
        if (n >= sizeof small && !(copy = malloc(n + 1)))
            return fail(r, start, VML_ENOMEM, "out of memory reading a number");
        memcpy(copy, start, n);
        copy[n] = '\0';
        d = strtod(copy, NULL);
        if (copy != small)
            free(copy);
        if (!isfinite(d))
            return fail(r, start, VML_EJSON, "number out of range");
        *out = json_real(d);
    }
    if (!*out)
        return fail(r, start, VML_ENOMEM, "out of memory");
    return 0;
}

static int read_value(reader *r, json_t **out, int depth);

static int read_object(reader *r, json_t **out, int depth)
{
    json_t *obj = json_object(), *v;
    const char *key;
    size_t klen;
    int rc;
    if (!obj)
        return fail(r, r->p, VML_ENOMEM, "out of memory");
    r->p++; /* { */
    skip_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        *out = obj;
        return 0;
    }
    for (;;) {
        const unsigned char *kat;
        char kbuf[64], *kcopy = kbuf;
        skip_ws(r);
        kat = r->p;
        if (r->p >= r->end || *r->p != '"') {
            rc = fail(r, r->p, VML_EJSON, r->p >= r->end ? "unexpected end of input in an object"
                                                        : "an object key must be a string");
            goto fail;
        }
        if ((rc = read_string(r, &key, &klen)) < 0)
            goto fail;
        if (json_object_getn(obj, key, klen)) {
            rc = fail(r, kat, VML_EJSON, "duplicate key \"%.*s\"", (int)(klen > 60 ? 60 : klen),
                      key);
            goto fail;
        }
        /* the key may live in scratch, which the value's strings reuse: keep a copy */
        if (klen >= sizeof kbuf && !(kcopy = malloc(klen + 1))) {
            rc = fail(r, kat, VML_ENOMEM, "out of memory");
            goto fail;
        }
        memcpy(kcopy, key, klen);
        skip_ws(r);
        if (r->p >= r->end || *r->p != ':') {
            if (kcopy != kbuf)
                free(kcopy);
            rc = fail(r, r->p, VML_EJSON, "expected ':' after an object key");
            goto fail;
        }
        r->p++;
        rc = read_value(r, &v, depth + 1);
        if (rc == 0 && json_object_setn_new_nocheck(obj, kcopy, klen, v) < 0)
            rc = fail(r, kat, VML_ENOMEM, "out of memory");
        if (kcopy != kbuf)
            free(kcopy);
        if (rc < 0)
            goto fail;
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            *out = obj;
            return 0;
        }
        rc = fail(r, r->p, VML_EJSON, r->p >= r->end ? "unexpected end of input in an object"
                                                    : "expected ',' or '}' in an object");
        goto fail;
    }
fail:
    json_decref(obj);
    return rc;
}

static int read_array(reader *r, json_t **out, int depth)
{
    json_t *arr = json_array(), *v;
    int rc;
    if (!arr)
        return fail(r, r->p, VML_ENOMEM, "out of memory");
    r->p++; /* [ */
    skip_ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        *out = arr;
        return 0;
    }
    for (;;) {
        if ((rc = read_value(r, &v, depth + 1)) < 0)
            goto fail;
        if (json_array_append_new(arr, v) < 0) {
            rc = fail(r, r->p, VML_ENOMEM, "out of memory");
            goto fail;
        }
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            *out = arr;
            return 0;
        }
        rc = fail(r, r->p, VML_EJSON, r->p >= r->end ? "unexpected end of input in an array"
                                                    : "expected ',' or ']' in an array");
        goto fail;
    }
fail:
    json_decref(arr);
    return rc;
}

static int literal(reader *r, const char *word, size_t n, json_t *v, json_t **out)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail(r, r->p, VML_EJSON, "invalid literal (expected %s)", word);
    r->p += n;
    *out = v;
    return 0;
}

static int read_value(reader *r, json_t **out, int depth)
{
    *out = NULL;
    if (depth > VML_JTEXT_MAX_DEPTH)
        return fail(r, r->p, VML_EJSON, "nested more than %d levels deep", VML_JTEXT_MAX_DEPTH);
    skip_ws(r);
    if (r->p >= r->end)
        return fail(r, r->p, VML_EJSON, "unexpected end of input (a value was expected)");
    switch (*r->p) {
    case '{':
        return read_object(r, out, depth);
    case '[':
        return read_array(r, out, depth);
    case '"': {
        const char *s;
        size_t n;
        int rc = read_string(r, &s, &n);
        if (rc < 0)
            return rc;
        if (!(*out = json_stringn_nocheck(s, n)))
            return fail(r, r->p, VML_ENOMEM, "out of memory");
        return 0;
    }
    case 't':
        return literal(r, "true", 4, json_true(), out);
    case 'f':
        return literal(r, "false", 5, json_false(), out);
    case 'n':
        return literal(r, "null", 4, json_null(), out);
    default:
        if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
            return read_number(r, out);
        if (*r->p >= 0x20 && *r->p < 0x7f)
            return fail(r, r->p, VML_EJSON, "unexpected character '%c'", *r->p);
        return fail(r, r->p, VML_EJSON, "unexpected byte 0x%02x", *r->p);
    }
}

int vml_jtext_parse(const char *text, size_t len, json_t **out, size_t *pos, vml_err *err)
{
    reader r;
    json_t *v = NULL;
    int rc;
    memset(&r, 0, sizeof r);
    r.s = r.p = (const unsigned char *)text;
    r.end = r.s + len;
    r.err = err;
    vml_jtext_init(&r.scratch);
    *out = NULL;
    if (pos)
        *pos = 0;
    rc = read_value(&r, &v, 1);
    if (rc == 0) {
        skip_ws(&r);
        if (r.p < r.end)
            rc = fail(&r, r.p, VML_EJSON, "unexpected text after the JSON value");
    }
    vml_jtext_free(&r.scratch);
    if (rc < 0) {
        json_decref(v);
        if (pos)
            *pos = r.errpos;
        return rc;
    }
    *out = v;
    return 0;
}

/* }===================================================================== */
