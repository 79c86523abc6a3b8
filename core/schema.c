/* SPDX-License-Identifier: MIT
 * schema — JSON Schema subset validation (see schema.h). */
#include "schema.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 512
#define MAX_DEPTH 64

/* ---- compiled patterns, cached by text (tool schemas reuse a handful of patterns) ---------- */
typedef struct pat {
    struct pat *next;
    regex_t re;
    char *text;
} pat;
static pat *g_pats;
static int g_npats;

static int pattern_get(const char *text, regex_t **out, char *why, size_t n)
{
    pat *p;
    int rc;
    static const char *const ecma_only[] = {"\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "(?", "*?",
                                            "+?", "??", "\\b", "\\p", "\\u", NULL};
    const char *const *e;
    for (p = g_pats; p; p = p->next)
        if (strcmp(p->text, text) == 0) {
            *out = &p->re;
            return 0;
        }
    for (e = ecma_only; *e; e++)
        if (strstr(text, *e)) {
            snprintf(why, n, "'%s' is ECMA-262 syntax; patterns here are POSIX extended regular "
                             "expressions (use [0-9], [A-Za-z0-9_], [[:space:]])", *e);
            return -1;
        }
    p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    rc = regcomp(&p->re, text, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        regerror(rc, &p->re, why, n);
        free(p);
        return -1;
    }
    p->text = strdup(text);
    if (!p->text) {
        regfree(&p->re);
        free(p);
        snprintf(why, n, "out of memory");
        return -1;
    }
    if (g_npats >= 256) { /* a hostile stream of schemas cannot grow the cache without bound */
        vml_schema_cleanup();
    }
    p->next = g_pats;
    g_pats = p;
    g_npats++;
    *out = &p->re;
    return 0;
}

void vml_schema_cleanup(void)
{
    while (g_pats) {
        pat *p = g_pats;
        g_pats = p->next;
        regfree(&p->re);
        free(p->text);
        free(p);
    }
    g_npats = 0;
}

/* ---- path of the value being looked at ------------------------------------------------------ */
typedef struct vpath {
    char buf[PATH_MAX_LEN];
    size_t len;
} vpath;

static size_t path_push_key(vpath *p, const char *key)
{
    size_t old = p->len, n = strlen(key), room = sizeof p->buf - 1 - p->len;
    if (room > 0) { /* runs for every property checked: no printf */
        p->buf[p->len++] = '.';
        room--;
        if (n > room)
            n = room;
        memcpy(p->buf + p->len, key, n);
        p->len += n;
        p->buf[p->len] = '\0';
    }
    return old;
}

static size_t path_push_index(vpath *p, size_t i)
{
    size_t old = p->len;
    int n = snprintf(p->buf + p->len, sizeof p->buf - p->len, "[%zu]", i);
    if (n > 0)
        p->len = p->len + (size_t)n >= sizeof p->buf ? sizeof p->buf - 1 : p->len + (size_t)n;
    return old;
}

static void path_pop(vpath *p, size_t old)
{
    p->len = old;
    p->buf[old] = '\0';
}

/* ---- helpers ------------------------------------------------------------------------------- */
static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

static int is_integral(const json_t *v)
{
    double d;
    if (json_is_integer(v))
        return 1;
    if (!json_is_real(v))
        return 0;
    d = json_real_value(v);
    return isfinite(d) && floor(d) == d;
}

static int type_matches(const char *t, const json_t *v)
{
    if (strcmp(t, "integer") == 0)
        return is_integral(v);
    if (strcmp(t, "number") == 0)
        return json_is_number(v);
    return strcmp(t, type_name(v)) == 0;
}

static size_t utf8_len(const char *s, size_t n)
{
    size_t i, cps = 0;
    for (i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            cps++;
    return cps;
}

/* A short rendering of a JSON value for messages (truncated). */
static void show(const json_t *v, char *buf, size_t n)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        snprintf(buf, n, "(value)");
        return;
    }
    if (strlen(s) > 60)
        snprintf(buf, n, "%.57s...", s);
    else
        snprintf(buf, n, "%s", s);
    free(s);
}

static void show_list(const json_t *arr, char *buf, size_t n)
{
    size_t i, off = 0;
    json_t *e;
    buf[0] = '\0';
    json_array_foreach(arr, i, e) {
        char one[80];
        int w;
        show(e, one, sizeof one);
        w = snprintf(buf + off, n - off, "%s%s", i ? ", " : "", one);
        if (w < 0 || (size_t)w >= n - off) {
            if (n > 4)
                snprintf(buf + n - 4, 4, "...");
            return;
        }
        off += (size_t)w;
    }
}

static void show_keys(const json_t *obj, char *buf, size_t n)
{
    const char *k;
    json_t *v;
    size_t off = 0, i = 0;
    buf[0] = '\0';
    json_object_foreach((json_t *)obj, k, v) {
        int w = snprintf(buf + off, n - off, "%s%s", i++ ? ", " : "", k);
        (void)v;
        if (w < 0 || (size_t)w >= n - off) {
            if (n > 4)
                snprintf(buf + n - 4, 4, "...");
            return;
        }
        off += (size_t)w;
    }
    if (i == 0)
        snprintf(buf, n, "none");
}

static const char *where(const vpath *p)
{
    return p->buf;
}

/* ---- validation ---------------------------------------------------------------------------- */
static int validate(const json_t *s, json_t *v, vpath *p, int flags, int depth, vml_err *err);

static int check_type(const json_t *s, const json_t *v, vpath *p, vml_err *err)
{
    json_t *t = json_object_get(s, "type");
    size_t i;
    json_t *e;
    char allowed[256];
    if (!t)
        return 0;
    if (json_is_string(t)) {
        if (type_matches(json_string_value(t), v))
            return 0;
        return vml_err_set(err, VML_EINVAL, "%s: expected %s, got %s", where(p),
                           json_string_value(t), type_name(v));
    }
    json_array_foreach(t, i, e) {
        if (json_is_string(e) && type_matches(json_string_value(e), v))
            return 0;
    }
    allowed[0] = '\0';
    {
        size_t off = 0;
        json_array_foreach(t, i, e) {
            int w = snprintf(allowed + off, sizeof allowed - off, "%s%s", i ? " or " : "",
                             json_is_string(e) ? json_string_value(e) : "?");
            if (w < 0 || (size_t)w >= sizeof allowed - off)
                break;
            off += (size_t)w;
        }
    }
    return vml_err_set(err, VML_EINVAL, "%s: expected %s, got %s", where(p), allowed,
                       type_name(v));
}

static int json_equal_num(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal((json_t *)a, (json_t *)b);
}

static int check_number(const json_t *s, const json_t *v, vpath *p, vml_err *err)
{
    double d = json_number_value(v), lim;
    json_t *k;
    char num[64];
    show(v, num, sizeof num);
    if ((k = json_object_get(s, "minimum")) && d < (lim = json_number_value(k)))
        return vml_err_set(err, VML_EINVAL, "%s: %s is below the minimum %g", where(p), num, lim);
    if ((k = json_object_get(s, "maximum")) && d > (lim = json_number_value(k)))
        return vml_err_set(err, VML_EINVAL, "%s: %s is above the maximum %g", where(p), num, lim);
    if ((k = json_object_get(s, "exclusiveMinimum")) && d <= (lim = json_number_value(k)))
        return vml_err_set(err, VML_EINVAL, "%s: %s must be greater than %g", where(p), num, lim);
    if ((k = json_object_get(s, "exclusiveMaximum")) && d >= (lim = json_number_value(k)))
        return vml_err_set(err, VML_EINVAL, "%s: %s must be less than %g", where(p), num, lim);
    if ((k = json_object_get(s, "multipleOf"))) {
        double m = json_number_value(k), q = d / m;
        if (!(fabs(q - nearbyint(q)) <= 1e-9 * fmax(1.0, fabs(q))))
            return vml_err_set(err, VML_EINVAL, "%s: %s is not a multiple of %g", where(p), num,
                               m);
    }
    return 0;
}

static int check_string(const json_t *s, const json_t *v, vpath *p, vml_err *err)
{
    const char *str = json_string_value(v);
    size_t n = utf8_len(str, json_string_length(v));
    json_t *k;
    if ((k = json_object_get(s, "minLength")) && (json_int_t)n < json_integer_value(k))
        return vml_err_set(err, VML_EINVAL, "%s: too short (%zu characters, at least %lld)",
                           where(p), n, (long long)json_integer_value(k));
    if ((k = json_object_get(s, "maxLength")) && (json_int_t)n > json_integer_value(k))
        return vml_err_set(err, VML_EINVAL, "%s: too long (%zu characters, at most %lld)",
                           where(p), n, (long long)json_integer_value(k));
    if ((k = json_object_get(s, "pattern"))) {
        regex_t *re;
        char why[256];
        if (strlen(str) != json_string_length(v))
            return vml_err_set(err, VML_EINVAL, "%s: must not contain NUL characters", where(p));
        if (pattern_get(json_string_value(k), &re, why, sizeof why) < 0)
            return vml_err_set(err, VML_EINVAL, "%s: the schema's pattern is not usable: %s",
                               where(p), why);
        if (regexec(re, str, 0, NULL, 0) != 0) {
            char shown[80];
            show(v, shown, sizeof shown);
            return vml_err_set(err, VML_EINVAL, "%s: %s does not match the pattern %s", where(p),
                               shown, json_string_value(k));
        }
    }
    return 0;
}

static int check_array(const json_t *s, json_t *v, vpath *p, int flags, int depth, vml_err *err)
{
    size_t n = json_array_size(v), i, j;
    json_t *k, *e;
    if ((k = json_object_get(s, "minItems")) && (json_int_t)n < json_integer_value(k))
        return vml_err_set(err, VML_EINVAL, "%s: %zu item%s, at least %lld needed", where(p), n,
                           n == 1 ? "" : "s", (long long)json_integer_value(k));
    if ((k = json_object_get(s, "maxItems")) && (json_int_t)n > json_integer_value(k))
        return vml_err_set(err, VML_EINVAL, "%s: %zu items, at most %lld allowed", where(p), n,
                           (long long)json_integer_value(k));
    if ((k = json_object_get(s, "uniqueItems")) && json_is_true(k)) {
        for (i = 0; i < n; i++)
            for (j = i + 1; j < n; j++)
                if (json_equal_num(json_array_get(v, i), json_array_get(v, j)))
                    return vml_err_set(err, VML_EINVAL,
                                       "%s: items %zu and %zu are equal; items must be unique",
                                       where(p), i, j);
    }
    if ((k = json_object_get(s, "items")) && json_is_object(k)) {
        json_array_foreach(v, i, e) {
            size_t old = path_push_index(p, i);
            int rc = validate(k, e, p, flags, depth + 1, err);
            path_pop(p, old);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int check_object(const json_t *s, json_t *v, vpath *p, int flags, int depth, vml_err *err)
{
    json_t *props = json_object_get(s, "properties");
    json_t *req = json_object_get(s, "required");
    json_t *addl = json_object_get(s, "additionalProperties");
    json_t *k, *e;
    const char *key;
    size_t i;
    if (json_is_array(req)) {
        json_array_foreach(req, i, e) {
            const char *name = json_string_value(e);
            if (name && !json_object_get(v, name)) {
                size_t old = path_push_key(p, name);
                vml_err_set(err, VML_EINVAL, "%s: required field missing", where(p));
                path_pop(p, old);
                return VML_EINVAL;
            }
        }
    }
    if ((k = json_object_get(s, "minProperties")) &&
        (json_int_t)json_object_size(v) < json_integer_value(k))
        return vml_err_set(err, VML_EINVAL, "%s: at least %lld fields needed", where(p),
                           (long long)json_integer_value(k));
    if ((k = json_object_get(s, "maxProperties")) &&
        (json_int_t)json_object_size(v) > json_integer_value(k))
        return vml_err_set(err, VML_EINVAL, "%s: at most %lld fields allowed", where(p),
                           (long long)json_integer_value(k));
    json_object_foreach(v, key, e) {
        json_t *ps = props ? json_object_get(props, key) : NULL;
        size_t old;
        int rc;
        if (!ps) {
            if (json_is_false(addl)) {
                char allowed[300];
                show_keys(props, allowed, sizeof allowed);
                return vml_err_set(err, VML_EINVAL, "%s: unknown field '%.100s' (allowed: %s)",
                                   where(p), key, allowed);
            }
            if (!json_is_object(addl))
                continue;
            ps = addl;
        }
        old = path_push_key(p, key);
        rc = validate(ps, e, p, flags, depth + 1, err);
        path_pop(p, old);
        if (rc < 0)
            return rc;
    }
    if ((flags & VML_SCHEMA_FILL_DEFAULTS) && json_is_object(props)) {
        json_object_foreach(props, key, e) {
            json_t *d = json_object_get(e, "default");
            if (d && !json_object_get(v, key))
                json_object_set_new(v, key, json_deep_copy(d));
        }
    }
    return 0;
}

static int validate(const json_t *s, json_t *v, vpath *p, int flags, int depth, vml_err *err)
{
    json_t *k;
    int rc;
    if (depth > MAX_DEPTH)
        return vml_err_set(err, VML_EINVAL, "%s: nested more than %d levels deep", where(p),
                           MAX_DEPTH);
    if (json_is_true(s))
        return 0;
    if (json_is_false(s))
        return vml_err_set(err, VML_EINVAL, "%s: no value is allowed here", where(p));
    if ((k = json_object_get(s, "anyOf"))) {
        size_t i;
        json_t *alt;
        vml_err first;
        vml_err_clear(&first);
        json_array_foreach(k, i, alt) {
            vml_err e2;
            json_t *copy = json_deep_copy(v);
            int ok = validate(alt, copy, p, 0, depth + 1, &e2) == 0;
            json_decref(copy);
            if (ok)
                break;
            if (i == 0)
                first = e2;
        }
        if (i == json_array_size(k))
            return vml_err_set(err, VML_EINVAL, "%s: matches none of the allowed forms (first: %s)",
                               where(p), vml_err_msg(&first));
    }
    if ((rc = check_type(s, v, p, err)) < 0)
        return rc;
    if ((k = json_object_get(s, "const")) && !json_equal_num(k, v)) {
        char want[80];
        show(k, want, sizeof want);
        return vml_err_set(err, VML_EINVAL, "%s: must be %s", where(p), want);
    }
    if ((k = json_object_get(s, "enum"))) {
        size_t i;
        json_t *e;
        int found = 0;
        json_array_foreach(k, i, e) {
            if (json_equal_num(e, v)) {
                found = 1;
                break;
            }
        }
        if (!found) {
            char got[80], allowed[400];
            show(v, got, sizeof got);
            show_list(k, allowed, sizeof allowed);
            return vml_err_set(err, VML_EINVAL, "%s: %s is not allowed (one of: %s)", where(p),
                               got, allowed);
        }
    }
    if (json_is_number(v))
        return check_number(s, v, p, err);
    if (json_is_string(v))
        return check_string(s, v, p, err);
    if (json_is_array(v))
        return check_array(s, v, p, flags, depth, err);
    if (json_is_object(v))
        return check_object(s, v, p, flags, depth, err);
    return 0;
}

int vml_schema_validate(const json_t *schema, json_t *value, const char *root, int flags,
                        vml_err *err)
{
    vpath p;
    snprintf(p.buf, sizeof p.buf, "%s", root && *root ? root : "value");
    p.len = strlen(p.buf);
    if (!schema || !value)
        return vml_err_set(err, VML_EINVAL, "%s: nothing to validate", p.buf);
    return validate(schema, value, &p, flags, 0, err);
}

/* ---- checking a schema --------------------------------------------------------------------- */
static int check_schema(const json_t *s, vpath *p, int depth, vml_err *err);

static int is_nonneg_int(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0;
}

static int check_keyword(const char *key, const json_t *val, vpath *p, int depth, vml_err *err)
{
    static const char *const ignored[] = {"$schema", "$id", "title", "description", "examples",
                                          "format", "deprecated", "readOnly", "writeOnly",
                                          "$comment", "default", NULL};
    static const char *const types[] = {"object", "array", "string", "integer", "number",
                                        "boolean", "null", NULL};
    const char *const *q;
    size_t i;
    json_t *e;
    for (q = ignored; *q; q++)
        if (strcmp(key, *q) == 0)
            return 0;
    if (strcmp(key, "type") == 0) {
        json_t *one = (json_t *)val;
        size_t n = json_is_array(val) ? json_array_size(val) : 1;
        for (i = 0; i < n; i++) {
            if (json_is_array(val))
                one = json_array_get(val, i);
            if (!json_is_string(one))
                goto badtype;
            for (q = types; *q; q++)
                if (strcmp(json_string_value(one), *q) == 0)
                    break;
            if (!*q)
                goto badtype;
        }
        return n ? 0 : vml_err_set(err, VML_EINVAL, "%s: an empty type list allows nothing",
                                   p->buf);
    badtype:
        return vml_err_set(err, VML_EINVAL,
                           "%s: must be one of object, array, string, integer, number, boolean, "
                           "null (or an array of them)",
                           p->buf);
    }
    if (strcmp(key, "enum") == 0)
        return json_is_array(val) && json_array_size(val)
                   ? 0
                   : vml_err_set(err, VML_EINVAL, "%s: must be a non-empty array", p->buf);
    if (strcmp(key, "const") == 0)
        return 0;
    if (!strcmp(key, "minimum") || !strcmp(key, "maximum") || !strcmp(key, "exclusiveMinimum") ||
        !strcmp(key, "exclusiveMaximum"))
        return json_is_number(val) ? 0 : vml_err_set(err, VML_EINVAL, "%s: must be a number",
                                                     p->buf);
    if (!strcmp(key, "multipleOf"))
        return json_is_number(val) && json_number_value(val) > 0
                   ? 0
                   : vml_err_set(err, VML_EINVAL, "%s: must be a number above 0", p->buf);
    if (!strcmp(key, "minLength") || !strcmp(key, "maxLength") || !strcmp(key, "minItems") ||
        !strcmp(key, "maxItems") || !strcmp(key, "minProperties") ||
        !strcmp(key, "maxProperties"))
        return is_nonneg_int(val) ? 0 : vml_err_set(err, VML_EINVAL,
                                                    "%s: must be an integer >= 0", p->buf);
    if (!strcmp(key, "uniqueItems"))
        return json_is_boolean(val) ? 0 : vml_err_set(err, VML_EINVAL, "%s: must be a boolean",
                                                      p->buf);
    if (!strcmp(key, "pattern")) {
        regex_t *re;
        char why[256];
        if (!json_is_string(val))
            return vml_err_set(err, VML_EINVAL, "%s: must be a string", p->buf);
        if (pattern_get(json_string_value(val), &re, why, sizeof why) < 0)
            return vml_err_set(err, VML_EINVAL, "%s: %s", p->buf, why);
        return 0;
    }
    if (!strcmp(key, "required")) {
        if (!json_is_array(val))
            return vml_err_set(err, VML_EINVAL, "%s: must be an array of names", p->buf);
        json_array_foreach(val, i, e) {
            if (!json_is_string(e))
                return vml_err_set(err, VML_EINVAL, "%s: must be an array of names", p->buf);
        }
        return 0;
    }
    if (!strcmp(key, "properties")) {
        const char *k;
        if (!json_is_object(val))
            return vml_err_set(err, VML_EINVAL, "%s: must be an object of schemas", p->buf);
        json_object_foreach((json_t *)val, k, e) {
            size_t old = path_push_key(p, k);
            int rc = check_schema(e, p, depth + 1, err);
            path_pop(p, old);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    if (!strcmp(key, "additionalProperties") || !strcmp(key, "items"))
        return json_is_boolean(val) ? 0 : check_schema(val, p, depth + 1, err);
    if (!strcmp(key, "anyOf")) {
        if (!json_is_array(val) || !json_array_size(val))
            return vml_err_set(err, VML_EINVAL, "%s: must be a non-empty array of schemas",
                               p->buf);
        json_array_foreach(val, i, e) {
            size_t old = path_push_index(p, i);
            int rc = check_schema(e, p, depth + 1, err);
            path_pop(p, old);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    return vml_err_set(err, VML_EINVAL,
                       "%s: keyword not supported by VibeML's validator (supported: type, enum, "
                       "const, properties, required, additionalProperties, items, min/maxItems, "
                       "uniqueItems, minimum, maximum, exclusiveMinimum/Maximum, multipleOf, "
                       "min/maxLength, pattern, anyOf, default)",
                       p->buf);
}

static int check_schema(const json_t *s, vpath *p, int depth, vml_err *err)
{
    const char *key;
    json_t *val;
    if (depth > MAX_DEPTH)
        return vml_err_set(err, VML_EINVAL, "%s: schema nested too deep", p->buf);
    if (json_is_boolean(s))
        return 0;
    if (!json_is_object(s))
        return vml_err_set(err, VML_EINVAL, "%s: a schema must be an object", p->buf);
    json_object_foreach((json_t *)s, key, val) {
        size_t old = path_push_key(p, key);
        int rc = check_keyword(key, val, p, depth, err);
        path_pop(p, old);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int vml_schema_check(const json_t *schema, vml_err *err)
{
    vpath p;
    snprintf(p.buf, sizeof p.buf, "schema");
    p.len = strlen(p.buf);
    if (!json_is_object(schema))
        return vml_err_set(err, VML_EINVAL, "schema: must be an object");
    return check_schema(schema, &p, 0, err);
}
