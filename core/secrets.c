/* SPDX-License-Identifier: MIT
 * secrets — sets of decrypted secrets, their env entries and their masking (see secrets.h). */
#define _GNU_SOURCE /* memmem */
#include "secrets.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFORMS 16 /* raw, 8 base64 (2 alphabets x 4), URL, JSON, 2 hex: 13 at most */

typedef struct secret {
    char name[VML_SECRET_NAME_MAX + 1];
    char *entry;         /* sodium: "NAME=value\0" */
    size_t vlen;         /* value = entry + strlen(name) + 1 */
    char *forms[NFORMS]; /* sodium: encodings for masking (NUL-terminated) */
    size_t flen[NFORMS];
} secret;

struct vml_secrets {
    secret *v;
    size_t n;
};

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static vml_secrets *seen; /* every value added to any set in this process, wiped at exit */

int vml_secrets_name_ok(const char *name)
{
    size_t i;
    if (!name || !name[0] || strlen(name) > VML_SECRET_NAME_MAX)
        return 0;
    if (!(name[0] == '_' || (name[0] >= 'A' && name[0] <= 'Z') ||
          (name[0] >= 'a' && name[0] <= 'z')))
        return 0;
    for (i = 1; name[i]; i++)
        if (!(name[i] == '_' || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')))
            return 0;
    return 1;
}

int vml_secrets_name_error(vml_err *err, const char *name)
{
    return vml_err_set(err, VML_EINVAL,
                       "'%s' is not a valid secret name: use an environment-variable name "
                       "(letters, digits and '_', not starting with a digit, at most %d "
                       "characters), e.g. HF_TOKEN",
                       name ? name : "", VML_SECRET_NAME_MAX);
}

/* {============================================================ one secret */

static void secret_wipe(secret *s)
{
    int i;
    if (s->entry)
        sodium_free(s->entry);
    for (i = 0; i < NFORMS; i++)
        if (s->forms[i])
            sodium_free(s->forms[i]);
    memset(s, 0, sizeof *s);
}

static const char *value_of(const secret *s)
{
    return s->entry + strlen(s->name) + 1;
}

static int add_form(secret *s, int *k, const char *text, size_t n)
{
    int i;
    if (n < VML_SECRET_REDACT_MIN)
        return 0;
    for (i = 0; i < *k; i++)
        if (s->flen[i] == n && memcmp(s->forms[i], text, n) == 0)
            return 0;
    if (*k >= NFORMS)
        return 0;
    s->forms[*k] = sodium_malloc(n + 1);
    if (!s->forms[*k])
        return -1;
    memcpy(s->forms[*k], text, n);
    s->forms[*k][n] = '\0';
    s->flen[*k] = n;
    (*k)++;
    return 0;
}

/* base64 of (k zero bytes + value), keeping only the characters fixed by the value's bytes: what
 * the value looks like inside a longer base64 text at any alignment. */
static int add_b64_forms(secret *s, int *k, const unsigned char *val, size_t n, char *scratch,
                         unsigned char *pre, int variant)
{
    int shift;
    for (shift = 0; shift < 3; shift++) {
        size_t total = (size_t)shift + n, elen, drop_front, keep;
        memset(pre, 0, (size_t)shift);
        memcpy(pre + shift, val, n);
        sodium_bin2base64(scratch, sodium_base64_encoded_len(total, variant), pre, total, variant);
        elen = strlen(scratch);
        drop_front = shift == 0 ? 0 : shift == 1 ? 2 : 3;
        keep = elen - drop_front;
        if (total % 3 != 0 && keep > 0)
            keep--; /* the last character mixes in fill bits */
        if (shift == 0 && add_form(s, k, scratch, elen) < 0)
            return -1; /* the whole unpadded encoding too */
        if (keep > 0 && add_form(s, k, scratch + drop_front, keep) < 0)
            return -1;
    }
    return 0;
}

/* The value in hex written with digits (lower or upper case). */
static int add_hex_form(secret *s, int *k, const char *value, size_t vlen, char *scratch,
                        const char *digits)
{
    size_t i;
    for (i = 0; i < vlen; i++) {
        scratch[2 * i] = digits[(unsigned char)value[i] >> 4];
        scratch[2 * i + 1] = digits[(unsigned char)value[i] & 15];
    }
    return add_form(s, k, scratch, 2 * vlen);
}

/* Makes s->entry for name/value and the masking forms. value is borrowed. */
static int secret_fill(secret *s, const char *name, const char *value, size_t vlen, vml_err *err)
{
    size_t nlen = strlen(name), i, cap = 6 * vlen + 8;
    char *scratch = NULL;
    unsigned char *pre = NULL;
    int k = 0, rc = 0;
    static const char hexlo[] = "0123456789abcdef", hexup[] = "0123456789ABCDEF";

    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->entry = sodium_malloc(nlen + 1 + vlen + 1);
    scratch = sodium_malloc(cap + 8);
    pre = sodium_malloc(vlen + 3);
    if (!s->entry || !scratch || !pre) {
        rc = vml_err_set(err, VML_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(s->entry, name, nlen);
    s->entry[nlen] = '=';
    memcpy(s->entry + nlen + 1, value, vlen);
    s->entry[nlen + 1 + vlen] = '\0';
    s->vlen = vlen;
    if (add_form(s, &k, value, vlen) < 0)
        goto nomem;
    if (add_b64_forms(s, &k, (const unsigned char *)value, vlen, scratch, pre,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) < 0 ||
        add_b64_forms(s, &k, (const unsigned char *)value, vlen, scratch, pre,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) < 0)
        goto nomem;
    /* JSON string escaping (how the value looks inside a JSON document, e.g. an MCP message) */
    {
        size_t o = 0;
        for (i = 0; i < vlen; i++) {
            unsigned char c = (unsigned char)value[i];
            if (c == '"' || c == '\\') {
                scratch[o++] = '\\';
                scratch[o++] = (char)c;
            } else if (c < 0x20) {
                o += (size_t)snprintf(scratch + o, 7, "\\u%04x", c);
            } else {
                scratch[o++] = (char)c;
            }
        }
        if (add_form(s, &k, scratch, o) < 0)
            goto nomem;
    }
    /* URL encoding (RFC 3986 unreserved kept) */
    {
        size_t o = 0;
        for (i = 0; i < vlen; i++) {
            unsigned char c = (unsigned char)value[i];
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '~') {
                scratch[o++] = (char)c;
            } else {
                scratch[o++] = '%';
                scratch[o++] = hexup[c >> 4];
                scratch[o++] = hexup[c & 15];
            }
        }
        if (add_form(s, &k, scratch, o) < 0)
            goto nomem;
    }
    if (add_hex_form(s, &k, value, vlen, scratch, hexlo) < 0 ||
        add_hex_form(s, &k, value, vlen, scratch, hexup) < 0)
        goto nomem;
    goto out;
nomem:
    rc = vml_err_set(err, VML_ENOMEM, "out of memory");
out:
    if (scratch)
        sodium_free(scratch);
    if (pre)
        sodium_free(pre);
    if (rc < 0)
        secret_wipe(s);
    return rc;
}

/* }============================================================ */

/* {============================================================ sets */

vml_secrets *vml_secrets_new(void)
{
    return calloc(1, sizeof(vml_secrets));
}

void vml_secrets_free(vml_secrets *s)
{
    size_t i;
    if (!s)
        return;
    for (i = 0; i < s->n; i++)
        secret_wipe(&s->v[i]);
    free(s->v);
    free(s);
}

/* Appends name=value to s (no process-wide copy). */
static int set_append(vml_secrets *s, const char *name, const char *value, size_t vlen,
                      vml_err *err)
{
    secret *grown;
    int rc;
    if (sodium_init() < 0)
        return vml_err_set(err, VML_ECRYPTO, "libsodium failed to initialise");
    grown = realloc(s->v, (s->n + 1) * sizeof *grown);
    if (!grown)
        return vml_err_set(err, VML_ENOMEM, "out of memory");
    s->v = grown;
    if ((rc = secret_fill(&s->v[s->n], name, value, vlen, err)) < 0)
        return rc;
    s->n++;
    return 0;
}

static int has_value(const vml_secrets *s, const char *value, size_t vlen)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        if (s->v[i].vlen == vlen && sodium_memcmp(value_of(&s->v[i]), value, vlen) == 0)
            return 1;
    return 0;
}

static void seen_free(void)
{
    pthread_mutex_lock(&seen_lock);
    vml_secrets_free(seen);
    seen = NULL;
    pthread_mutex_unlock(&seen_lock);
}

/* Keeps a copy of value in the process-wide set. Best effort: out of memory, it is not kept
 * (the set the caller builds still masks it). */
static void seen_add(const char *name, const char *value, size_t vlen)
{
    pthread_mutex_lock(&seen_lock);
    if (!seen) {
        if (!(seen = vml_secrets_new()))
            goto out;
        atexit(seen_free);
    }
    if (!has_value(seen, value, vlen))
        set_append(seen, name, value, vlen, NULL);
out:
    pthread_mutex_unlock(&seen_lock);
}

int vml_secrets_add(vml_secrets *s, const char *name, const char *value, size_t vlen, vml_err *err)
{
    int rc = set_append(s, name, value, vlen, err);
    if (rc == 0)
        seen_add(name, value, vlen);
    return rc;
}

int vml_secrets_from_environ(const char *const *names, size_t n, vml_secrets **out, vml_err *err)
{
    vml_secrets *s;
    size_t i;
    int rc = 0;
    *out = NULL;
    if (!(s = vml_secrets_new()))
        return vml_err_set(err, VML_ENOMEM, "out of memory");
    for (i = 0; i < n && rc == 0; i++) {
        const char *val;
        if (!vml_secrets_name_ok(names[i])) {
            rc = vml_secrets_name_error(err, names[i]);
            break;
        }
        val = getenv(names[i]);
        if (val && *val)
            rc = vml_secrets_add(s, names[i], val, strlen(val), err);
    }
    if (rc < 0) {
        vml_secrets_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

size_t vml_secrets_count(const vml_secrets *s)
{
    return s ? s->n : 0;
}

const char *vml_secrets_name(const vml_secrets *s, size_t i)
{
    return s && i < s->n ? s->v[i].name : NULL;
}

const char *vml_secrets_env_entry(const vml_secrets *s, size_t i)
{
    return s && i < s->n ? s->v[i].entry : NULL;
}

int vml_secrets_env_apply(const vml_secrets *s, int (*put)(void *ud, const char *entry), void *ud)
{
    size_t i;
    int rc;
    for (i = 0; s && i < s->n; i++)
        if ((rc = put(ud, s->v[i].entry)) < 0)
            return rc;
    return 0;
}

/* }============================================================ */

/* {============================================================ masking */

size_t vml_secrets_redact(const vml_secrets *s, char *buf, size_t len)
{
    size_t i, count = 0;
    int f;
    for (i = 0; s && i < s->n; i++) {
        for (f = 0; f < NFORMS && s->v[i].forms[f]; f++) {
            const char *form = s->v[i].forms[f];
            size_t fl = s->v[i].flen[f];
            char *p = buf, *end = buf + len;
            while ((size_t)(end - p) >= fl) {
                char *hit = memmem(p, (size_t)(end - p), form, fl);
                if (!hit)
                    break;
                memset(hit, '*', fl);
                count++;
                p = hit + fl;
            }
        }
    }
    return count;
}

size_t vml_secrets_redact_seen(char *buf, size_t len)
{
    size_t n;
    pthread_mutex_lock(&seen_lock);
    n = vml_secrets_redact(seen, buf, len);
    pthread_mutex_unlock(&seen_lock);
    return n;
}

/* }============================================================ */
