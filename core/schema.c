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

/* ---- patterns --------------------------------------------------------------------------- */
/* Compiles text into re; -1 with the reason in why when it cannot be used. */
static int pattern_compile(const char *text, regex_t *re, char *why, size_t n)
{
    int rc;
    static const char *const ecma_only[] = {"\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "(?",
                                            "*?",  "+?",  "??",  "\\b", "\\p", "\\u", NULL};
    const char *const *e;
    for (e = ecma_only; *e; e++)
        if (strstr(text, *e)) {
            snprintf(why, n,
                     "'%s' is ECMA-262 syntax; patterns here are POSIX extended regular "
                     "expressions (use [0-9], [A-Za-z0-9_], [[:space:]])",
                     *e);
            return -1;
        }
    rc = regcomp(re, text, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        regerror(rc, re, why, n);
        return -1;
    }
    return 0;
}

/* ---- path of the value being looked at ------------------------------------------------------ */
typedef struct vpath {
    char buf[PATH_MAX_LEN];
    size_t len;
    size_t base; /* first array index: 0, or 1 with VML_SCHEMA_LUA_INDEX */
    int hinted;  /* a hint was added to the message (VML_SCHEMA_HINTS) */
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
    int n = snprintf(p->buf + p->len, sizeof p->buf - p->len, "[%zu]", i + p->base);
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
    json_array_foreach (arr, i, e) {
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
    json_object_foreach ((json_t *)obj, k, v) {
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

/* ---- compiled schemas ---------------------------------------------------------------------- */
/* A schema is compiled once (per tool-set change): keyword lookups, type names and patterns are
 * resolved up front, so validating a call touches only what the schema uses. The compiled form
 * borrows the schema's JSON (it holds a reference to the root). */
enum {
    T_OBJECT = 1,
    T_ARRAY = 2,
    T_STRING = 4,
    T_INTEGER = 8,
    T_NUMBER = 16,
    T_BOOLEAN = 32,
    T_NULL = 64
};
enum {
    H_MIN = 1,
    H_MAX = 2,
    H_XMIN = 4,
    H_XMAX = 8,
    H_MULT = 16,
    H_MINLEN = 32,
    H_MAXLEN = 64,
    H_MINITEMS = 128,
    H_MAXITEMS = 256,
    H_MINPROPS = 512,
    H_MAXPROPS = 1024,
    H_PATTERN = 2048,
    H_ANYOF = 4096
};

typedef struct node node;

typedef struct prop {
    const char *name; /* borrowed from the schema */
    size_t len;
    node *schema;
    const json_t *dflt; /* borrowed, or NULL */
} prop;

struct node {
    int never;                /* the schema `false` */
    const json_t *type;       /* borrowed: the type keyword, or NULL (any type) */
    unsigned types;           /* T_* the type keyword allows */
    const json_t *cnst, *enm; /* borrowed, or NULL */
    unsigned has;             /* H_* keywords present */
    double min, max, xmin, xmax, mult;
    json_int_t min_len, max_len, min_items, max_items, min_props, max_props;
    int unique;
    regex_t re;          /* when H_PATTERN and pattern_why is NULL */
    const char *pattern; /* borrowed */
    char *pattern_why;   /* owned: why the pattern cannot be used */
    node *items;         /* owned, or NULL */
    prop *props;         /* owned array */
    size_t n_props;
    const json_t *props_json; /* borrowed: for messages */
    const json_t *required;   /* borrowed array, or NULL */
    int addl_false;
    node *addl;    /* owned, or NULL */
    node **any_of; /* owned */
    size_t n_any;
    const char *hint; /* borrowed: the description, for VML_SCHEMA_HINTS */
};

struct vml_schema {
    json_t *root; /* a reference: the nodes borrow from it */
    node *top;
};

static void node_free(node *n)
{
    size_t i;
    if (!n)
        return;
    if ((n->has & H_PATTERN) && !n->pattern_why)
        regfree(&n->re);
    free(n->pattern_why);
    node_free(n->items);
    for (i = 0; i < n->n_props; i++)
        node_free(n->props[i].schema);
    free(n->props);
    node_free(n->addl);
    for (i = 0; i < n->n_any; i++)
        node_free(n->any_of[i]);
    free(n->any_of);
    free(n);
}

static unsigned type_bit(const char *t)
{
    static const char *const names[] = {"object", "array",   "string", "integer",
                                        "number", "boolean", "null",   NULL};
    unsigned i;
    for (i = 0; names[i]; i++)
        if (strcmp(t, names[i]) == 0)
            return 1u << i;
    return 0;
}

static double num_of(const json_t *s, const char *key, unsigned flag, unsigned *has)
{
    json_t *k = json_object_get(s, key);
    if (!k)
        return 0;
    *has |= flag;
    return json_number_value(k);
}

static json_int_t int_of(const json_t *s, const char *key, unsigned flag, unsigned *has)
{
    json_t *k = json_object_get(s, key);
    if (!k)
        return 0;
    *has |= flag;
    return json_integer_value(k);
}

/* NULL only when out of memory. */
static node *compile(const json_t *s)
{
    node *n = calloc(1, sizeof *n);
    json_t *k, *e;
    const char *key;
    size_t i;
    if (!n)
        return NULL;
    if (json_is_false(s)) {
        n->never = 1;
        return n;
    }
    if (!json_is_object(s))
        return n; /* true (or anything else): any value */
    n->hint = json_string_value(json_object_get(s, "description"));
    if ((k = json_object_get(s, "anyOf"))) {
        n->has |= H_ANYOF;
        if (json_is_array(k) && json_array_size(k)) {
            n->any_of = calloc(json_array_size(k), sizeof *n->any_of);
            if (!n->any_of)
                goto oom;
            json_array_foreach (k, i, e) {
                if (!(n->any_of[i] = compile(e)))
                    goto oom;
                n->n_any++;
            }
        }
    }
    if ((k = json_object_get(s, "type"))) {
        n->type = k;
        if (json_is_string(k))
            n->types = type_bit(json_string_value(k));
        json_array_foreach (k, i, e) {
            if (json_is_string(e))
                n->types |= type_bit(json_string_value(e));
        }
    }
    n->cnst = json_object_get(s, "const");
    n->enm = json_object_get(s, "enum");
    n->min = num_of(s, "minimum", H_MIN, &n->has);
    n->max = num_of(s, "maximum", H_MAX, &n->has);
    n->xmin = num_of(s, "exclusiveMinimum", H_XMIN, &n->has);
    n->xmax = num_of(s, "exclusiveMaximum", H_XMAX, &n->has);
    n->mult = num_of(s, "multipleOf", H_MULT, &n->has);
    n->min_len = int_of(s, "minLength", H_MINLEN, &n->has);
    n->max_len = int_of(s, "maxLength", H_MAXLEN, &n->has);
    n->min_items = int_of(s, "minItems", H_MINITEMS, &n->has);
    n->max_items = int_of(s, "maxItems", H_MAXITEMS, &n->has);
    n->min_props = int_of(s, "minProperties", H_MINPROPS, &n->has);
    n->max_props = int_of(s, "maxProperties", H_MAXPROPS, &n->has);
    n->unique = json_is_true(json_object_get(s, "uniqueItems"));
    if ((k = json_object_get(s, "pattern"))) {
        char why[256];
        n->has |= H_PATTERN;
        n->pattern = json_is_string(k) ? json_string_value(k) : "(not a string)";
        if (!json_is_string(k))
            snprintf(why, sizeof why, "the pattern must be a string");
        if (!json_is_string(k) || pattern_compile(n->pattern, &n->re, why, sizeof why) < 0) {
            if (!(n->pattern_why = strdup(why)))
                goto oom;
        }
    }
    if ((k = json_object_get(s, "items")) && json_is_object(k) && !(n->items = compile(k)))
        goto oom;
    if ((k = json_object_get(s, "properties")) && json_is_object(k)) {
        n->props_json = k;
        n->props = calloc(json_object_size(k) + 1, sizeof *n->props);
        if (!n->props)
            goto oom;
        json_object_foreach (k, key, e) {
            prop *p = &n->props[n->n_props];
            p->name = key;
            p->len = strlen(key);
            p->dflt = json_object_get(e, "default");
            if (!(p->schema = compile(e)))
                goto oom;
            n->n_props++;
        }
    }
    if ((k = json_object_get(s, "required")) && json_is_array(k))
        n->required = k;
    if ((k = json_object_get(s, "additionalProperties"))) {
        if (json_is_false(k))
            n->addl_false = 1;
        else if (json_is_object(k) && !(n->addl = compile(k)))
            goto oom;
    }
    return n;
oom:
    node_free(n);
    return NULL;
}

int vml_schema_compile(const json_t *schema, vml_schema **out, vml_err *err)
{
    vml_schema *c;
    *out = NULL;
    if (!schema)
        return vml_err_set(err, VML_EINVAL, "no schema to compile");
    c = calloc(1, sizeof *c);
    if (!c || !(c->top = compile(schema))) {
        free(c);
        return vml_err_set(err, VML_ENOMEM, "out of memory compiling a schema");
    }
    c->root = json_incref((json_t *)schema);
    *out = c;
    return 0;
}

void vml_schema_free(vml_schema *c)
{
    if (!c)
        return;
    node_free(c->top);
    json_decref(c->root);
    free(c);
}

/* ---- validation ---------------------------------------------------------------------------- */
static int validate(const node *s, json_t *v, vpath *p, int flags, int depth, vml_err *err);

/* With VML_SCHEMA_HINTS: adds the description of the innermost schema that failed (once). */
static int add_hint(const node *s, vpath *p, int flags, int rc, vml_err *err)
{
    if (rc < 0 && (flags & VML_SCHEMA_HINTS) && s && s->hint && !p->hinted && err) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, "; %s", s->hint);
        p->hinted = 1;
    }
    return rc;
}

static int check_type(const node *s, const json_t *v, vpath *p, vml_err *err)
{
    size_t i;
    json_t *e;
    char allowed[256];
    unsigned t = s->types;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (t & T_OBJECT)
            return 0;
        break;
    case JSON_ARRAY:
        if (t & T_ARRAY)
            return 0;
        break;
    case JSON_STRING:
        if (t & T_STRING)
            return 0;
        break;
    case JSON_INTEGER:
        if (t & (T_INTEGER | T_NUMBER))
            return 0;
        break;
    case JSON_REAL:
        if ((t & T_NUMBER) || ((t & T_INTEGER) && is_integral(v)))
            return 0;
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        if (t & T_BOOLEAN)
            return 0;
        break;
    default:
        if (t & T_NULL)
            return 0;
    }
    if (json_is_string(s->type))
        return vml_err_set(err, VML_EINVAL, "%s: expected %s, got %s", where(p),
                           json_string_value(s->type), type_name(v));
    allowed[0] = '\0';
    {
        size_t off = 0;
        json_array_foreach (s->type, i, e) {
            int w = snprintf(allowed + off, sizeof allowed - off, "%s%s", i ? " or " : "",
                             json_is_string(e) ? json_string_value(e) : "?");
            if (w < 0 || (size_t)w >= sizeof allowed - off)
                break;
            off += (size_t)w;
        }
    }
    return vml_err_set(err, VML_EINVAL, "%s: expected %s, got %s", where(p), allowed, type_name(v));
}

static int json_equal_num(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal((json_t *)a, (json_t *)b);
}

static int check_number(const node *s, const json_t *v, vpath *p, vml_err *err)
{
    double d = json_number_value(v), q = s->mult ? d / s->mult : 0;
    char num[64];
    const char *what = NULL;
    double lim = 0;
    /* Beyond 2^53 a double no longer holds every integer, and arithmetic on such values (cents
     * from dollars, hours times rates) overflows to inf: no argument needs that range. */
    if (!isfinite(d) || fabs(d) > 9007199254740992.0) {
        show(v, num, sizeof num);
        return vml_err_set(err, VML_EINVAL,
                           "%s: %s is not a usable number (numbers must be "
                           "finite and between -2^53 and 2^53, about 9e15)",
                           where(p), num);
    }
    if ((s->has & H_MIN) && d < s->min)
        what = "is below the minimum", lim = s->min;
    else if ((s->has & H_MAX) && d > s->max)
        what = "is above the maximum", lim = s->max;
    else if ((s->has & H_XMIN) && d <= s->xmin)
        what = "must be greater than", lim = s->xmin;
    else if ((s->has & H_XMAX) && d >= s->xmax)
        what = "must be less than", lim = s->xmax;
    else if ((s->has & H_MULT) && !(fabs(q - nearbyint(q)) <= 1e-9 * fmax(1.0, fabs(q))))
        what = "is not a multiple of", lim = s->mult;
    if (!what)
        return 0;
    show(v, num, sizeof num); /* only when reporting: it formats the number */
    return vml_err_set(err, VML_EINVAL, "%s: %s %s %g", where(p), num, what, lim);
}

static int check_string(const node *s, const json_t *v, vpath *p, vml_err *err)
{
    const char *str = json_string_value(v);
    size_t n;
    if (s->has & (H_MINLEN | H_MAXLEN)) {
        n = utf8_len(str, json_string_length(v));
        if ((s->has & H_MINLEN) && (json_int_t)n < s->min_len)
            return vml_err_set(err, VML_EINVAL, "%s: too short (%zu characters, at least %lld)",
                               where(p), n, (long long)s->min_len);
        if ((s->has & H_MAXLEN) && (json_int_t)n > s->max_len)
            return vml_err_set(err, VML_EINVAL, "%s: too long (%zu characters, at most %lld)",
                               where(p), n, (long long)s->max_len);
    }
    if (s->has & H_PATTERN) {
        if (strlen(str) != json_string_length(v))
            return vml_err_set(err, VML_EINVAL, "%s: must not contain NUL characters", where(p));
        if (s->pattern_why)
            return vml_err_set(err, VML_EINVAL, "%s: the schema's pattern is not usable: %s",
                               where(p), s->pattern_why);
        if (regexec(&s->re, str, 0, NULL, 0) != 0) {
            char shown[80];
            show(v, shown, sizeof shown);
            return vml_err_set(err, VML_EINVAL, "%s: %s does not match the pattern %s", where(p),
                               shown, s->pattern);
        }
    }
    return 0;
}

static int check_array(const node *s, json_t *v, vpath *p, int flags, int depth, vml_err *err)
{
    size_t n = json_array_size(v), i, j;
    json_t *e;
    if ((s->has & H_MINITEMS) && (json_int_t)n < s->min_items)
        return vml_err_set(err, VML_EINVAL, "%s: %zu item%s, at least %lld needed", where(p), n,
                           n == 1 ? "" : "s", (long long)s->min_items);
    if ((s->has & H_MAXITEMS) && (json_int_t)n > s->max_items)
        return vml_err_set(err, VML_EINVAL, "%s: %zu items, at most %lld allowed", where(p), n,
                           (long long)s->max_items);
    if (s->unique) {
        for (i = 0; i < n; i++)
            for (j = i + 1; j < n; j++)
                if (json_equal_num(json_array_get(v, i), json_array_get(v, j)))
                    return vml_err_set(err, VML_EINVAL,
                                       "%s: items %zu and %zu are equal; items must be unique",
                                       where(p), i, j);
    }
    if (s->items) {
        json_array_foreach (v, i, e) {
            size_t old = path_push_index(p, i);
            int rc = validate(s->items, e, p, flags, depth + 1, err);
            path_pop(p, old);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static const prop *find_prop(const node *s, const char *key, size_t len)
{
    size_t i;
    for (i = 0; i < s->n_props; i++)
        if (s->props[i].len == len && memcmp(s->props[i].name, key, len) == 0)
            return &s->props[i];
    return NULL;
}

static int check_object(const node *s, json_t *v, vpath *p, int flags, int depth, vml_err *err)
{
    json_t *e;
    const char *key;
    size_t i;
    if (s->required) {
        json_array_foreach (s->required, i, e) {
            const char *name = json_string_value(e);
            if (name && !json_object_get(v, name)) {
                const prop *ps = find_prop(s, name, strlen(name));
                size_t old = path_push_key(p, name);
                vml_err_set(err, VML_EINVAL, "%s: required field missing", where(p));
                path_pop(p, old);
                return add_hint(ps ? ps->schema : NULL, p, flags, VML_EINVAL, err);
            }
        }
    }
    if ((s->has & H_MINPROPS) && (json_int_t)json_object_size(v) < s->min_props)
        return vml_err_set(err, VML_EINVAL, "%s: at least %lld fields needed", where(p),
                           (long long)s->min_props);
    if ((s->has & H_MAXPROPS) && (json_int_t)json_object_size(v) > s->max_props)
        return vml_err_set(err, VML_EINVAL, "%s: at most %lld fields allowed", where(p),
                           (long long)s->max_props);
    json_object_foreach (v, key, e) {
        const prop *ps = find_prop(s, key, strlen(key));
        const node *sub = ps ? ps->schema : NULL;
        size_t old;
        int rc;
        if (!sub) {
            if (s->addl_false) {
                char allowed[300];
                show_keys(s->props_json, allowed, sizeof allowed);
                return vml_err_set(err, VML_EINVAL, "%s: unknown field '%.100s' (allowed: %s)",
                                   where(p), key, allowed);
            }
            if (!s->addl)
                continue;
            sub = s->addl;
        }
        old = path_push_key(p, key);
        rc = validate(sub, e, p, flags, depth + 1, err);
        path_pop(p, old);
        if (rc < 0)
            return rc;
    }
    if (flags & VML_SCHEMA_FILL_DEFAULTS) {
        for (i = 0; i < s->n_props; i++) {
            const prop *ps = &s->props[i];
            if (ps->dflt && !json_object_getn(v, ps->name, ps->len))
                json_object_setn_new(v, ps->name, ps->len, json_deep_copy(ps->dflt));
        }
    }
    return 0;
}

static int validate_here(const node *s, json_t *v, vpath *p, int flags, int depth, vml_err *err)
{
    int rc;
    if (depth > MAX_DEPTH)
        return vml_err_set(err, VML_EINVAL, "%s: nested more than %d levels deep", where(p),
                           MAX_DEPTH);
    if (s->never)
        return vml_err_set(err, VML_EINVAL, "%s: no value is allowed here", where(p));
    if (s->has & H_ANYOF) {
        size_t i;
        vml_err first;
        vml_err_clear(&first);
        for (i = 0; i < s->n_any; i++) {
            vml_err e2;
            json_t *copy = json_deep_copy(v); /* an alternative must not fill defaults */
            int ok = validate(s->any_of[i], copy, p, 0, depth + 1, &e2) == 0;
            json_decref(copy);
            if (ok)
                break;
            if (i == 0)
                first = e2;
        }
        if (i == s->n_any)
            return vml_err_set(err, VML_EINVAL, "%s: matches none of the allowed forms (first: %s)",
                               where(p), vml_err_msg(&first));
    }
    if (s->type && (rc = check_type(s, v, p, err)) < 0)
        return rc;
    if (s->cnst && !json_equal_num(s->cnst, v)) {
        char want[80];
        show(s->cnst, want, sizeof want);
        return vml_err_set(err, VML_EINVAL, "%s: must be %s", where(p), want);
    }
    if (s->enm) {
        size_t i;
        json_t *e;
        int found = 0;
        json_array_foreach (s->enm, i, e) {
            if (json_equal_num(e, v)) {
                found = 1;
                break;
            }
        }
        if (!found) {
            char got[80], allowed[400];
            show(v, got, sizeof got);
            show_list(s->enm, allowed, sizeof allowed);
            return vml_err_set(err, VML_EINVAL, "%s: %s is not allowed (one of: %s)", where(p), got,
                               allowed);
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

static int validate(const node *s, json_t *v, vpath *p, int flags, int depth, vml_err *err)
{
    return add_hint(s, p, flags, validate_here(s, v, p, flags, depth, err), err);
}

int vml_schema_run(const vml_schema *c, json_t *value, const char *root, int flags, vml_err *err)
{
    vpath p;
    const char *name = root && *root ? root : "value";
    p.len = strlen(name) < sizeof p.buf - 1 ? strlen(name) : sizeof p.buf - 1;
    memcpy(p.buf, name, p.len);
    p.buf[p.len] = '\0';
    p.base = (flags & VML_SCHEMA_LUA_INDEX) ? 1 : 0;
    p.hinted = 0;
    if (!c || !value)
        return vml_err_set(err, VML_EINVAL, "%s: nothing to validate", p.buf);
    return validate(c->top, value, &p, flags, 0, err);
}

int vml_schema_validate(const json_t *schema, json_t *value, const char *root, int flags,
                        vml_err *err)
{
    vml_schema *c;
    int rc;
    if (!schema || !value)
        return vml_schema_run(NULL, value, root, flags, err);
    if ((rc = vml_schema_compile(schema, &c, err)) < 0)
        return rc;
    rc = vml_schema_run(c, value, root, flags, err);
    vml_schema_free(c);
    return rc;
}

/* ---- checking a schema --------------------------------------------------------------------- */
static int check_schema(const json_t *s, vpath *p, int depth, vml_err *err);

static int is_nonneg_int(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0;
}

static int check_keyword(const char *key, const json_t *val, vpath *p, int depth, vml_err *err)
{
    static const char *const ignored[] = {"$schema",   "$id",      "title",      "description",
                                          "examples",  "format",   "deprecated", "readOnly",
                                          "writeOnly", "$comment", "default",    NULL};
    static const char *const types[] = {"object", "array",   "string", "integer",
                                        "number", "boolean", "null",   NULL};
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
        return n ? 0
                 : vml_err_set(err, VML_EINVAL, "%s: an empty type list allows nothing", p->buf);
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
        return json_is_number(val) ? 0
                                   : vml_err_set(err, VML_EINVAL, "%s: must be a number", p->buf);
    if (!strcmp(key, "multipleOf"))
        return json_is_number(val) && json_number_value(val) > 0
                   ? 0
                   : vml_err_set(err, VML_EINVAL, "%s: must be a number above 0", p->buf);
    if (!strcmp(key, "minLength") || !strcmp(key, "maxLength") || !strcmp(key, "minItems") ||
        !strcmp(key, "maxItems") || !strcmp(key, "minProperties") || !strcmp(key, "maxProperties"))
        return is_nonneg_int(val)
                   ? 0
                   : vml_err_set(err, VML_EINVAL, "%s: must be an integer >= 0", p->buf);
    if (!strcmp(key, "uniqueItems"))
        return json_is_boolean(val) ? 0
                                    : vml_err_set(err, VML_EINVAL, "%s: must be a boolean", p->buf);
    if (!strcmp(key, "pattern")) {
        regex_t re;
        char why[256];
        if (!json_is_string(val))
            return vml_err_set(err, VML_EINVAL, "%s: must be a string", p->buf);
        if (pattern_compile(json_string_value(val), &re, why, sizeof why) < 0)
            return vml_err_set(err, VML_EINVAL, "%s: %s", p->buf, why);
        regfree(&re);
        return 0;
    }
    if (!strcmp(key, "required")) {
        if (!json_is_array(val))
            return vml_err_set(err, VML_EINVAL, "%s: must be an array of names", p->buf);
        json_array_foreach (val, i, e) {
            if (!json_is_string(e))
                return vml_err_set(err, VML_EINVAL, "%s: must be an array of names", p->buf);
        }
        return 0;
    }
    if (!strcmp(key, "properties")) {
        const char *k;
        if (!json_is_object(val))
            return vml_err_set(err, VML_EINVAL, "%s: must be an object of schemas", p->buf);
        json_object_foreach ((json_t *)val, k, e) {
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
            return vml_err_set(err, VML_EINVAL, "%s: must be a non-empty array of schemas", p->buf);
        json_array_foreach (val, i, e) {
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
    json_object_foreach ((json_t *)s, key, val) {
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
    p.base = 0;
    p.hinted = 0;
    if (!json_is_object(schema))
        return vml_err_set(err, VML_EINVAL, "schema: must be an object");
    return check_schema(schema, &p, 0, err);
}
