/* SPDX-License-Identifier: MIT
 *
 * plugin — discovery, sandboxed load, validation, swap and hot reload of plugins (see plugin.h).
 *
 * Uses: script, schema, conv, embed, paths, watchdog, err, libuv, libsodium, jansson, pthreads,
 * Lua 5.4.
 */
#include "plugin.h"

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <uv.h>

#include "luajson.h"
#include "embed.h"
#include "loop.h"
#include "paths.h"
#include "schema.h"
#include "script.h"
#include "watchdog.h"

#define HASH_LEN 32
#define PATH_MAX_LEN 1024
#define MAX_FILES_PER_PLUGIN 256
#define MAX_FILE_BYTES (4u << 20)

struct vml_plugin {
    char name[VML_PLUGIN_NAME_MAX];
    char kind[16];
    char version[32];
    char source[8];          /* "shipped" | "user" */
    char path[PATH_MAX_LEN]; /* file or folder; shipped: the embedded path */
    unsigned char hash[HASH_LEN];
    double loaded_at;
    vml_script *s;   /* the plugin's own state (owned); NULL once a data-only
                        plugin validated */
    int fnref;       /* registry ref in s->L: table dotted path -> function */
    json_t *desc;    /* descriptor data, functions removed (owned reference), while
                        the version is loaded and validated; then NULL and: */
    char *desc_text; /* the same as compact JSON text (owned): an idle server keeps
                        ~40 kB of text instead of ~230 kB of jansson trees */
    size_t desc_len;
    json_t *functions; /* array of dotted paths (owned reference) */
    char *broken;      /* why the watchdog gave up its state (malloc'd): s is gone and
                          calls are refused until a new version loads */
};

/* One name in the registry. */
typedef struct entry {
    char name[VML_PLUGIN_NAME_MAX];
    vml_plugin *live;    /* the serving version, or NULL (failed first load) */
    vml_plugin *shipped; /* a shipped version kept while a user version overrides it */
    int user_on_disk;    /* seen in the user folders at the last scan */
    char user_path[PATH_MAX_LEN];
    unsigned char tried[HASH_LEN]; /* content hash of the last user version attempted */
    int has_tried;
    char *error; /* last failure (malloc'd) or NULL */
    double error_at;
} entry;

typedef struct watcher {
    uv_fs_event_t ev;
    char path[PATH_MAX_LEN];
    int seen; /* mark during refresh */
    struct watcher *next;
} watcher;

static struct {
    int inited;
    entry *entries;
    size_t n, cap;
    char *dirs[VML_PLUGIN_MAX_DIRS];
    int ndirs;
    int dirs_set;    /* set explicitly (else: the default config folder) */
    json_t *changes; /* pending change records */
    void (*on_change)(void *);
    void *on_change_ud;
    int watching;
    watcher *watchers;
    uv_timer_t debounce;
    int debounce_init;
    long reloads, failures;
} g;

static int call_here(vml_plugin *p, const char *fn, const json_t *args, json_t **out, vml_err *err);
static entry *find_entry(const char *name);
static void set_error(entry *e, const char *msg);

void (*vml__plugin_test_open)(lua_State *L) = NULL;

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* {===================================================================== names and hashing */

/* Cleans a file name (without extension) into [a-z0-9_]. Returns 0 if the result is empty. */
static int clean_name(const char *in, size_t len, char *out, size_t n)
{
    size_t i, j = 0;
    for (i = 0; i < len && j + 1 < n; i++) {
        char c = in[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '_';
        out[j++] = c;
    }
    out[j] = '\0';
    return j > 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int read_all(const char *path, char **out, size_t *len, vml_err *err)
{
    return vml_paths_read(path, MAX_FILE_BYTES, out, len, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir (no dotfiles). *out is an array of malloc'd strings; free with free_names.
 * Returns the count or a VML code. */
static int list_dir(const char *dir, char ***out, vml_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    int n = 0, cap = 0;
    *out = NULL;
    if (!d)
        return vml_err_from_errno(err, errno, dir);
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **nn;
            cap = cap ? cap * 2 : 16;
            nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof *names, cmp_str);
    *out = names;
    return n;
}

static void free_names(char **names, int n)
{
    int i;
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Feeds every file under dir (sorted, recursive, no dotfiles) into the hash: relative name and
 * content. */
static int hash_tree(crypto_generichash_state *st, const char *dir, const char *rel, int depth,
                     int *count, vml_err *err)
{
    char **names;
    int n = list_dir(dir, &names, err), i, rc = 0;
    if (n < 0)
        return n;
    for (i = 0; i < n && rc == 0; i++) {
        char path[PATH_MAX_LEN], relp[PATH_MAX_LEN];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(relp, sizeof relp, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        if (is_dir(path)) {
            if (depth < 4)
                rc = hash_tree(st, path, relp, depth + 1, count, err);
        } else if (is_file(path)) {
            char *text;
            size_t len;
            if (++*count > MAX_FILES_PER_PLUGIN) {
                rc = vml_err_set(err, VML_ELIMIT, "%s: more than %d files", dir,
                                 MAX_FILES_PER_PLUGIN);
                break;
            }
            rc = read_all(path, &text, &len, err);
            if (rc == 0) {
                crypto_generichash_update(st, (const unsigned char *)relp, strlen(relp) + 1);
                crypto_generichash_update(st, (const unsigned char *)text, len);
                free(text);
            }
        }
    }
    free_names(names, n);
    return rc;
}

/* Content hash of a plugin on disk: a file, or a folder's whole tree. */
static int hash_plugin(const char *path, int folder, unsigned char out[HASH_LEN], vml_err *err)
{
    crypto_generichash_state st;
    int rc, count = 0;
    crypto_generichash_init(&st, NULL, 0, HASH_LEN);
    if (folder) {
        rc = hash_tree(&st, path, "", 0, &count, err);
    } else {
        char *text;
        size_t len;
        rc = read_all(path, &text, &len, err);
        if (rc == 0) {
            crypto_generichash_update(&st, (const unsigned char *)text, len);
            free(text);
        }
    }
    crypto_generichash_final(&st, out, HASH_LEN);
    return rc;
}

/* out must hold 2 * HASH_LEN + 1 bytes. */
static void hex(const unsigned char *h, char *out, size_t n)
{
    sodium_bin2hex(out, n, h, HASH_LEN);
}

/* }===================================================================== */

/* {===================================================================== load and validate */

/* Run inside the plugin's state after its chunk returned the descriptor: copies the data out
 * without functions and collects the functions by dotted path. Returns data, fns, sorted names. */
static const char strip_chunk[] =
    "local desc = ...\n"
    "if type(desc) ~= 'table' then\n"
    "  error('the plugin must return a table (its descriptor), got ' .. type(desc), 0)\n"
    "end\n"
    "local fns, seen, keys = {}, {}, {}\n"
    /* the dotted path of the value at depth, built only when needed (a function, an error):
     * building it for every value was most of a plugin's load time */
    "local function path(depth)\n"
    "  local parts = {}\n"
    "  for i = 1, depth do parts[i] = tostring(keys[i]) end\n"
    "  return table.concat(parts, '.')\n"
    "end\n"
    "local function copy(v, depth)\n"
    "  local t = type(v)\n"
    "  if t == 'function' then fns[path(depth)] = v return nil end\n"
    "  if t ~= 'table' then return v end\n"
    "  if seen[v] then error('the descriptor refers to itself at ' .. path(depth), 0) end\n"
    "  if depth > 32 then error('the descriptor is nested too deeply at ' .. path(depth), 0) end\n"
    "  seen[v] = true\n"
    "  local out = {}\n"
    "  for k, x in next, v do\n"
    "    keys[depth + 1] = k\n"
    "    out[k] = copy(x, depth + 1)\n"
    "  end\n"
    "  keys[depth + 1] = nil\n"
    "  local mt = getmetatable(v)\n"
    "  if type(mt) == 'table' and rawget(mt, '__jsontype') then setmetatable(out, mt) end\n"
    "  seen[v] = nil\n"
    "  return out\n"
    "end\n"
    "local data = copy(desc, 0)\n"
    "local names = {}\n"
    "for k in next, fns do names[#names + 1] = k end\n"
    "table.sort(names)\n"
    "return data, fns, names\n";

/* strip_chunk, compiled once per process (see vml_script_load_cached) */
static vml_chunk_cache strip_bc;

static int want_string(const json_t *o, const char *key, size_t maxlen, vml_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return vml_err_set(err, VML_EINVAL, "descriptor: field '%s' is missing (a string)", key);
    if (!json_is_string(v))
        return vml_err_set(err, VML_EINVAL, "descriptor: field '%s' must be a string", key);
    if (json_string_length(v) > maxlen)
        return vml_err_set(err, VML_EINVAL,
                           "descriptor: field '%s' is longer than %zu "
                           "characters",
                           key, maxlen);
    return 0;
}

static int has_function(const vml_plugin *p, const char *path)
{
    size_t i;
    json_t *v;
    json_array_foreach (p->functions, i, v)
        if (strcmp(json_string_value(v), path) == 0)
            return 1;
    return 0;
}

/* {===================================================================== kinds */

/* What each kind's descriptor must hold is Lua data (lua/vibeml/plugin_kinds.lua). This chunk,
 * run in a fresh PLUGIN state, returns the kinds as data (schema, functions, which hooks) sorted
 * by name, and the hooks by dotted name ("workflow.check"). */
static const char kinds_chunk[] =
    "local kinds = require 'vibeml.plugin_kinds'\n"
    "local list, hooks = {}, {}\n"
    "for name, k in pairs(kinds) do\n"
    "  local has = {}\n"
    "  for _, h in ipairs({ 'check', 'sample', 'check_build' }) do\n"
    "    if k[h] then hooks[name .. '.' .. h], has[h] = k[h], true end\n"
    "  end\n"
    "  list[#list + 1] = { name = name, schema = k.schema, functions = k.functions or {},\n"
    "                      hooks = has }\n"
    "end\n"
    "table.sort(list, function(a, b) return a.name < b.name end)\n"
    "return list, hooks\n";

static vml_chunk_cache kinds_bc;

enum { HOOK_CHECK = 1, HOOK_SAMPLE = 2, HOOK_CHECK_BUILD = 4 };
#define MAX_KINDS 16

typedef struct kind_rules {
    char name[16];
    vml_schema *schema; /* compiled from the kind's Lua table (owned) */
    json_t *functions;  /* {dotted path -> hint}, "*" = every index (owned reference) */
    unsigned hooks;     /* HOOK_* the kind defines */
} kind_rules;

/* Compiled once, on first use by whichever thread loads a plugin first (loads run on the loop
 * thread, libuv's pool and watchdog workers), then read-only until the process exits. The state
 * that read them stays to run the hooks (a fresh one per load cost ~4 ms): the lock guards it,
 * and is never held while a plugin's own code runs. */
static pthread_mutex_t g_kinds_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int loaded;
    int n;
    kind_rules k[MAX_KINDS];
    char names[MAX_KINDS * 18]; /* "error_rules, gpu_map, ..." for messages */
    vml_plugin chk;             /* chk.s: the hooks' state (owned) or NULL; chk.fnref: hooks */
} g_kinds;

/* Runs kinds_chunk in a fresh state: [list, hooks] on its stack. */
static int kinds_state(vml_script **out, vml_err *err)
{
    int rc;
    if ((rc = vml_script_new(VML_PROFILE_PLUGIN, &vml_limits_plugin, out, err)) < 0)
        return rc;
    snprintf((*out)->name, sizeof(*out)->name, "plugin kinds");
    vml_script_arm(*out);
    if ((rc = vml_script_load_cached(*out, &kinds_bc, kinds_chunk, sizeof kinds_chunk - 1,
                                     "=plugin kinds", err)) < 0 ||
        (rc = vml_script_pcall(*out, 0, 2, err)) < 0) {
        vml_script_free(*out);
        *out = NULL;
        return vml_err_prefix(err, "reading lua/vibeml/plugin_kinds.lua");
    }
    return 0;
}

/* With g_kinds_mu held. */
static int kinds_load(vml_err *err)
{
    vml_script *s = NULL;
    json_t *list = NULL, *e;
    size_t i;
    int rc;
    if ((rc = kinds_state(&s, err)) < 0)
        return rc;
    if ((rc = vml_luajson_to_json(s->L, -2, &list, err)) < 0)
        goto out;
    json_array_foreach (list, i, e) {
        kind_rules *k = &g_kinds.k[g_kinds.n];
        const char *name = json_string_value(json_object_get(e, "name"));
        json_t *schema = json_object_get(e, "schema"), *hooks = json_object_get(e, "hooks");
        size_t off = strlen(g_kinds.names);
        if (g_kinds.n == MAX_KINDS || !name || strlen(name) >= sizeof k->name) {
            rc = vml_err_set(err, VML_EINVAL,
                             "plugin kinds: at most %d, names under 16 "
                             "characters",
                             MAX_KINDS);
            goto out;
        }
        if ((rc = vml_schema_check(schema, err)) < 0 ||
            (rc = vml_schema_compile(schema, &k->schema, err)) < 0) {
            vml_err_prefix(err, "plugin kind '%s'", name);
            goto out;
        }
        snprintf(k->name, sizeof k->name, "%s", name);
        k->functions = json_incref(json_object_get(e, "functions"));
        k->hooks = (json_is_true(json_object_get(hooks, "check")) ? HOOK_CHECK : 0) |
                   (json_is_true(json_object_get(hooks, "sample")) ? HOOK_SAMPLE : 0) |
                   (json_is_true(json_object_get(hooks, "check_build")) ? HOOK_CHECK_BUILD : 0);
        snprintf(g_kinds.names + off, sizeof g_kinds.names - off, "%s%s", off ? ", " : "", name);
        g_kinds.n++;
    }
    g_kinds.loaded = 1;
    snprintf(g_kinds.chk.name, sizeof g_kinds.chk.name, "vibeml.plugin_kinds");
    g_kinds.chk.fnref = luaL_ref(s->L, LUA_REGISTRYINDEX); /* [list] */
    lua_pop(s->L, 1);
    g_kinds.chk.s = s;
    s = NULL;
out:
    if (rc < 0) {
        while (g_kinds.n > 0) {
            kind_rules *k = &g_kinds.k[--g_kinds.n];
            vml_schema_free(k->schema);
            json_decref(k->functions);
        }
        memset(&g_kinds, 0, sizeof g_kinds);
    }
    json_decref(list);
    vml_script_free(s);
    return rc;
}

/* The rules of kind (borrowed: they live as long as the process). */
static int kinds_find(const char *kind, const kind_rules **out, vml_err *err)
{
    int rc = 0, i;
    *out = NULL;
    pthread_mutex_lock(&g_kinds_mu);
    if (!g_kinds.loaded)
        rc = kinds_load(err);
    pthread_mutex_unlock(&g_kinds_mu);
    if (rc < 0)
        return rc;
    for (i = 0; i < g_kinds.n; i++)
        if (strcmp(g_kinds.k[i].name, kind) == 0)
            *out = &g_kinds.k[i];
    if (!*out)
        return vml_err_set(err, VML_EINVAL, "descriptor: kind '%s' is not one of %s", kind,
                           g_kinds.names);
    return 0;
}

/* The functions the kind names ("tools.*.handler": one per item of the list tools). */
static int check_functions(const vml_plugin *p, const json_t *fns, vml_err *err)
{
    const char *path;
    json_t *hint;
    json_object_foreach ((json_t *)fns, path, hint) {
        const char *star = strstr(path, ".*.");
        char list[64], fn[128];
        size_t n = 1, i;
        if (star) {
            snprintf(list, sizeof list, "%.*s", (int)(star - path), path);
            n = json_array_size(json_object_get(p->desc, list));
        }
        for (i = 1; i <= n; i++) {
            if (star)
                snprintf(fn, sizeof fn, "%s.%zu.%s", list, i, star + 3);
            else
                snprintf(fn, sizeof fn, "%s", path);
            if (!has_function(p, fn))
                return vml_err_set(err, VML_EINVAL, "descriptor.%s: missing or not a function; %s",
                                   fn, json_string_value(hint));
        }
    }
    return 0;
}

/* Calls hook kind.name with args (a new reference, taken), with g_kinds_mu held. With prefix,
 * its `true | nil, message` becomes 0 or VML_EINVAL "prefix: message"; with out, *out is its
 * first result (a new reference). */
static int call_hook(const kind_rules *k, const char *name, json_t *args, const char *prefix,
                     json_t **out, vml_err *err)
{
    json_t *res = NULL;
    char fn[48];
    int rc = 0;
    if (!g_kinds.chk.s) { /* dropped after a failure: a fresh one */
        if ((rc = kinds_state(&g_kinds.chk.s, err)) < 0)
            goto out;
        g_kinds.chk.fnref = luaL_ref(g_kinds.chk.s->L, LUA_REGISTRYINDEX);
        lua_pop(g_kinds.chk.s->L, 1);
    }
    snprintf(fn, sizeof fn, "%s.%s", k->name, name);
    if ((rc = call_here(&g_kinds.chk, fn, args, &res, err)) < 0) {
        vml_script_free(g_kinds.chk.s); /* a limit may have tripped in it: start afresh */
        g_kinds.chk.s = NULL;
        goto out;
    }
    if (prefix && !json_is_true(json_array_get(res, 0))) {
        const char *msg = json_string_value(json_array_get(res, 1));
        rc = vml_err_set(err, VML_EINVAL, "%s: %s", prefix, msg ? msg : "refused");
    }
    if (out)
        *out = json_incref(json_array_get(res, 0));
out:
    json_decref(args);
    json_decref(res);
    return rc;
}

/* The kind's Lua hooks: check, then (workflows) a trial build() in the plugin's own state with
 * the sample parameters, its task judged by check_build. The hooks run in the kinds' state, not
 * the plugin's: the plugin's code ran there and could have changed what a hook relies on. */
static int run_hooks(vml_plugin *p, const kind_rules *k, vml_err *err)
{
    json_t *res = NULL, *sample = NULL, *task, *args;
    int rc = 0;
    pthread_mutex_lock(&g_kinds_mu);
    if (k->hooks & HOOK_CHECK)
        rc = call_hook(k, "check", json_pack("[O]", p->desc), "descriptor", NULL, err);
    if (rc == 0 && (k->hooks & HOOK_SAMPLE))
        rc = call_hook(k, "sample", json_pack("[O]", p->desc), NULL, &sample, err);
    pthread_mutex_unlock(&g_kinds_mu);
    if (rc < 0 || !(k->hooks & HOOK_SAMPLE))
        goto out;
    args = json_pack("[O]", sample ? sample : json_null());
    rc = call_here(p, "build", args, &res, err);
    json_decref(args);
    if (rc < 0) {
        vml_err_prefix(err, "trial build with sample parameters");
        goto out;
    }
    task = json_array_get(res, 0);
    if (!json_is_object(task)) {
        const char *msg = json_string_value(json_array_get(res, 1));
        rc = vml_err_set(err, VML_EINVAL, "trial build with sample parameters failed: %s",
                         msg ? msg : "build() returned no task");
        goto out;
    }
    if (k->hooks & HOOK_CHECK_BUILD) {
        pthread_mutex_lock(&g_kinds_mu);
        rc = call_hook(k, "check_build", json_pack("[OO]", task, sample ? sample : json_null()),
                       "trial build with sample parameters: the task", NULL, err);
        pthread_mutex_unlock(&g_kinds_mu);
    }
out:
    json_decref(res);
    json_decref(sample);
    return rc;
}

/* }===================================================================== */

/* The envelope (kind, name, version), in C; the rest by the kind's rules. */
static int validate(vml_plugin *p, vml_err *err)
{
    const json_t *d = p->desc;
    const char *kind, *name;
    const kind_rules *k;
    int rc;
    if (!json_is_object(d))
        return vml_err_set(err, VML_EINVAL,
                           "the plugin must return a table with kind=, name=, "
                           "version=");
    if ((rc = want_string(d, "kind", sizeof p->kind - 1, err)) < 0 ||
        (rc = want_string(d, "name", VML_PLUGIN_NAME_MAX - 1, err)) < 0 ||
        (rc = want_string(d, "version", sizeof p->version - 1, err)) < 0)
        return rc;
    kind = json_string_value(json_object_get(d, "kind"));
    name = json_string_value(json_object_get(d, "name"));
    if (strcmp(name, p->name) != 0)
        return vml_err_set(err, VML_EINVAL,
                           "descriptor: name '%s' does not match the plugin's "
                           "file name '%s'",
                           name, p->name);
    snprintf(p->kind, sizeof p->kind, "%s", kind);
    snprintf(p->version, sizeof p->version, "%s", json_string_value(json_object_get(d, "version")));
    if ((rc = kinds_find(kind, &k, err)) < 0 ||
        (rc = vml_schema_run(k->schema, p->desc, "descriptor",
                             VML_SCHEMA_HINTS | VML_SCHEMA_LUA_INDEX, err)) < 0 ||
        (rc = check_functions(p, k->functions, err)) < 0)
        return rc;
    return k->hooks ? run_hooks(p, k, err) : 0;
}

void vml_plugin_free(vml_plugin *p)
{
    if (!p)
        return;
    if (p->s)
        vml_script_free(p->s); /* the fn table goes with the state */
    json_decref(p->desc);
    free(p->desc_text);
    json_decref(p->functions);
    free(p->broken);
    free(p);
}

/* Loads text, or a shipped plugin's embedded file ef (its build-time bytecode when it has some;
 * text stays NULL), into a fresh state and validates it. Runs on a watchdog worker. */
static int plugin_load_here(const char *name, const char *text, size_t len,
                            const vml_embed_file *ef, const char *chunkname, const char *dir,
                            vml_plugin **out, vml_err *err)
{
    vml_plugin *p = calloc(1, sizeof *p);
    lua_State *L;
    int rc;

    *out = NULL;
    if (!p)
        return vml_err_set(err, VML_ENOMEM, "out of memory loading plugin '%s'", name);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->fnref = LUA_NOREF;
    if ((rc = vml_script_new(VML_PROFILE_PLUGIN, &vml_limits_plugin, &p->s, err)) < 0)
        goto out;
    snprintf(p->s->name, sizeof p->s->name, "plugin %s", name);
    if (vml__plugin_test_open)
        vml__plugin_test_open(p->s->L);
    if (dir && (rc = vml_script_set_dir(p->s, dir, err)) < 0)
        goto out;
    L = p->s->L;
    vml_script_arm(p->s);
    if ((rc = ef ? vml_script_load_embedded(p->s, ef, chunkname, err)
                 : vml_script_load(p->s, text, len, chunkname, err)) < 0)
        goto out;
    if ((rc = vml_script_pcall(p->s, 0, 1, err)) < 0) /* [desc] */
        goto out;
    if ((rc = vml_script_load_cached(p->s, &strip_bc, strip_chunk, sizeof strip_chunk - 1,
                                     "=descriptor", err)) < 0) {
        lua_pop(L, 1);
        goto out;
    }
    lua_insert(L, -2);                                /* [strip, desc] */
    if ((rc = vml_script_pcall(p->s, 1, 3, err)) < 0) /* [data, fns, names] */
        goto out;
    if ((rc = vml_luajson_to_json(L, -1, &p->functions, err)) < 0 ||
        (rc = vml_luajson_to_json(L, -3, &p->desc, err)) < 0) {
        lua_pop(L, 3);
        vml_err_prefix(err, "the descriptor cannot be copied as JSON");
        goto out;
    }
    if (json_is_object(p->functions) && json_object_size(p->functions) == 0) {
        json_decref(p->functions); /* an empty Lua table converts as {} */
        p->functions = json_array();
    }
    lua_pop(L, 1);                             /* [data, fns] */
    p->fnref = luaL_ref(L, LUA_REGISTRYINDEX); /* [data] */
    lua_pop(L, 1);
    p->loaded_at = now_s();
    rc = validate(p, err);
    if (rc == 0) {
        p->desc_text = json_dumps(p->desc, JSON_COMPACT);
        p->desc_len = p->desc_text ? strlen(p->desc_text) : 0;
        if (!p->desc_text)
            rc = vml_err_set(err, VML_ENOMEM, "out of memory keeping plugin '%s'", name);
        json_decref(p->desc);
        p->desc = NULL;
    }
    if (rc == 0 && json_array_size(p->functions) == 0) {
        /* data only (gpu maps, rule sets without functions): everything lives in desc, nothing
         * will ever run in the state, so it goes now (~20-40 kB each in an idle server) */
        vml_script_free(p->s);
        p->s = NULL;
        p->fnref = LUA_NOREF;
    } else if (rc == 0) {
        lua_gc(L, LUA_GCCOLLECT); /* drop what loading and the trial build left behind: the
                                     state stays alive as long as this version serves */
    }
out:
    if (rc < 0) {
        vml_plugin_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* A load on a watchdog worker: the job owns copies of everything it reads. */
typedef struct plugin_job {
    char name[VML_PLUGIN_NAME_MAX];
    char *text; /* copy (owned), or NULL for an embedded file */
    size_t len;
    const vml_embed_file *ef; /* static */
    char chunk[PATH_MAX_LEN + 24];
    char dir[PATH_MAX_LEN];
    vml_plugin *p; /* the result (owned until handed out) */
    int rc;
    vml_err err;
} plugin_job;

static void load_job_run(void *ud)
{
    plugin_job *j = ud;
    vml_err_clear(&j->err);
    j->rc = plugin_load_here(j->name, j->text, j->len, j->ef, j->chunk, j->dir[0] ? j->dir : NULL,
                             &j->p, &j->err);
}

static void load_job_free(void *ud)
{
    plugin_job *j = ud;
    vml_plugin_free(j->p);
    free(j->text);
    free(j);
}

/* plugin_load_here under the watchdog: a plugin that escapes its limits while loading is given
 * up (its thread left spinning) and reported as failed; later loads go on. Shipped plugins
 * (embedded, ours) load on the calling thread. */
static int plugin_load(const char *name, const char *text, size_t len, const vml_embed_file *ef,
                       const char *chunkname, const char *dir, vml_plugin **out, vml_err *err)
{
    plugin_job *j;
    int rc;
    *out = NULL;
    if (ef) /* shipped: compiled into this binary, trusted; no thread hand-off at start-up */
        return plugin_load_here(name, text, len, ef, chunkname, dir, out, err);
    j = calloc(1, sizeof *j);
    if (!j || (text && !(j->text = malloc(len ? len : 1)))) {
        free(j);
        return vml_err_set(err, VML_ENOMEM, "out of memory loading plugin '%s'", name);
    }
    snprintf(j->name, sizeof j->name, "%s", name);
    if (text)
        memcpy(j->text, text, len);
    j->len = len;
    j->ef = ef;
    snprintf(j->chunk, sizeof j->chunk, "%s", chunkname);
    snprintf(j->dir, sizeof j->dir, "%s", dir ? dir : "");
    if ((rc = vml_watchdog_run(load_job_run, load_job_free, j, err)) < 0)
        return vml_err_prefix(err, "loading plugin '%s'", name);
    if ((rc = j->rc) < 0) {
        if (err)
            *err = j->err;
    } else {
        *out = j->p;
    }
    j->p = NULL;
    load_job_free(j);
    return rc;
}

int vml_plugin_load_text(const char *name, const char *text, size_t len, const char *chunkname,
                         const char *dir, vml_plugin **out, vml_err *err)
{
    return plugin_load(name, text, len, NULL, chunkname, dir, out, err);
}

/* Pushes the function at dotted path fn and the JSON args onto the plugin's state; *top is the
 * stack height before. Any thread that owns the state. */
static int call_push(vml_plugin *p, const char *fn, const json_t *args, int *top, int *nargs,
                     vml_err *err)
{
    lua_State *L = p->s->L;
    int rc;
    size_t k;
    json_t *v;
    *top = lua_gettop(L);
    *nargs = 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->fnref);
    if (lua_getfield(L, -1, fn) != LUA_TFUNCTION) {
        lua_settop(L, *top);
        return vml_err_set(err, VML_ENOENT, "plugin '%s' has no function '%s'", p->name, fn);
    }
    lua_remove(L, -2); /* [f] */
    if (!lua_checkstack(L, (int)json_array_size(args) + 4)) {
        lua_settop(L, *top);
        return vml_err_set(err, VML_ENOMEM, "plugin '%s': too many arguments", p->name);
    }
    json_array_foreach (args, k, v) {
        if ((rc = vml_luajson_push(L, v, err)) < 0) {
            lua_settop(L, *top);
            return rc;
        }
        (*nargs)++;
    }
    return 0;
}

/* Runs the pushed call under the plugin limits and collects its results as a JSON array. Reads
 * only s (and the names for messages): safe on a watchdog worker. */
static int call_run(vml_script *s, const char *name, const char *fn, int top, int nargs,
                    json_t **out, vml_err *err)
{
    lua_State *L = s->L;
    int rc, nres, i;
    json_t *res;
    vml_script_arm(s);
    rc = vml_script_pcall(s, nargs, LUA_MULTRET, err);
    if (rc < 0) {
        vml_err_prefix(err, "plugin '%s', %s()", name, fn);
        lua_settop(L, top);
        return rc;
    }
    nres = lua_gettop(L) - top;
    res = json_array();
    for (i = 1; i <= nres; i++) {
        json_t *j = NULL;
        if (lua_isnil(L, top + i)) {
            json_array_append_new(res, json_null());
            continue;
        }
        if ((rc = vml_luajson_to_json(L, top + i, &j, err)) < 0) {
            vml_err_prefix(err, "plugin '%s', %s() returned a value JSON cannot hold", name, fn);
            json_decref(res);
            lua_settop(L, top);
            return rc;
        }
        json_array_append_new(res, j);
    }
    lua_settop(L, top);
    lua_gc(L, LUA_GCSTEP, 0);
    *out = res;
    return 0;
}

/* A call on the current thread (loads, which already run on a watchdog worker). */
static int call_here(vml_plugin *p, const char *fn, const json_t *args, json_t **out, vml_err *err)
{
    int top, nargs, rc;
    *out = NULL;
    if (!p->s)
        return vml_err_set(err, VML_ENOENT, "plugin '%s' has no function '%s'", p->name, fn);
    if ((rc = call_push(p, fn, args, &top, &nargs, err)) < 0)
        return rc;
    return call_run(p->s, p->name, fn, top, nargs, out, err);
}

/* A call on a watchdog worker: the job owns the state while it runs. */
typedef struct call_job {
    vml_script *s;
    char name[VML_PLUGIN_NAME_MAX];
    char fn[64];
    int top, nargs, rc;
    json_t *out;
    vml_err err;
} call_job;

static void call_job_run(void *ud)
{
    call_job *j = ud;
    vml_err_clear(&j->err);
    j->rc = call_run(j->s, j->name, j->fn, j->top, j->nargs, &j->out, &j->err);
}

static void call_job_free(void *ud)
{
    call_job *j = ud;
    json_decref(j->out);
    vml_script_free(j->s); /* only ever reached for a state the watchdog gave up */
    free(j);
}

int vml_plugin_call(vml_plugin *p, const char *fn, const json_t *args, json_t **out, vml_err *err)
{
    call_job *j;
    int rc;

    *out = NULL;
    if (p->broken)
        return vml_err_set(err, VML_ESTATE,
                           "plugin '%s' is disabled: %s; it stays off "
                           "until its file changes or the server "
                           "restarts",
                           p->name, p->broken);
    if (!p->s) /* a data-only plugin: its state was closed once it validated */
        return vml_err_set(err, VML_ENOENT, "plugin '%s' has no function '%s'", p->name, fn);
    if (strcmp(p->source, "shipped") == 0) /* our own code: no hand-off (~15 us a call) */
        return call_here(p, fn, args, out, err);
    if (!(j = calloc(1, sizeof *j)))
        return vml_err_set(err, VML_ENOMEM, "out of memory calling plugin '%s'", p->name);
    if ((rc = call_push(p, fn, args, &j->top, &j->nargs, err)) < 0) {
        free(j);
        return rc;
    }
    j->s = p->s;
    snprintf(j->name, sizeof j->name, "%s", p->name);
    snprintf(j->fn, sizeof j->fn, "%s", fn);
    if ((rc = vml_watchdog_run(call_job_run, call_job_free, j, err)) < 0) {
        /* the state belongs to the stuck thread now */
        entry *en;
        char msg[512];
        snprintf(msg, sizeof msg, "its function %s(): %s", fn, vml_err_msg(err));
        p->s = NULL;
        p->fnref = LUA_NOREF;
        free(p->broken);
        p->broken = strdup(msg);
        fprintf(stderr, "vibeml: plugin '%s' disabled: %s\n", p->name, msg);
        if ((en = find_entry(p->name)) && en->live == p)
            set_error(en, msg);
        return vml_err_set(err, VML_ETIMEOUT,
                           "plugin '%s': %s; the plugin is disabled until "
                           "its file changes",
                           p->name, msg);
    }
    rc = j->rc;
    if (rc < 0) {
        if (err)
            *err = j->err;
    } else {
        *out = j->out;
    }
    j->out = NULL;
    j->s = NULL;
    call_job_free(j);
    return rc;
}

json_t *vml_plugin_descriptor(const vml_plugin *p)
{
    if (p->desc)
        return json_incref(p->desc);
    /* NULL only when out of memory: the text is what jansson wrote from a valid tree */
    return p->desc_text ? json_loadb(p->desc_text, p->desc_len, 0, NULL) : NULL;
}

const char *vml_plugin_kind(const vml_plugin *p)
{
    return p->kind;
}

/* }===================================================================== */

/* {===================================================================== registry */

static entry *find_entry(const char *name)
{
    size_t i;
    for (i = 0; i < g.n; i++)
        if (strcmp(g.entries[i].name, name) == 0)
            return &g.entries[i];
    return NULL;
}

static entry *add_entry(const char *name)
{
    entry *e;
    if (g.n == g.cap) {
        size_t cap = g.cap ? g.cap * 2 : 16;
        entry *ne = realloc(g.entries, cap * sizeof *ne);
        if (!ne)
            return NULL;
        g.entries = ne;
        g.cap = cap;
    }
    e = &g.entries[g.n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    return e;
}

static void remove_entry(entry *e)
{
    size_t i = (size_t)(e - g.entries);
    free(e->error);
    memmove(&g.entries[i], &g.entries[i + 1], (g.n - i - 1) * sizeof *e);
    g.n--;
}

static void note_change(const char *name, const char *action, const vml_plugin *p, const char *path,
                        const char *message)
{
    json_t *c = json_pack("{s:s, s:s, s:f}", "name", name, "action", action, "at", now_s());
    if (!g.changes)
        g.changes = json_array();
    if (json_array_size(g.changes) >= 1000)
        json_array_remove(g.changes, 0); /* nobody is reading: keep the newest */
    if (p) {
        json_object_set_new(c, "kind", json_string(p->kind));
        json_object_set_new(c, "version", json_string(p->version));
        json_object_set_new(c, "source", json_string(p->source));
    }
    if (path)
        json_object_set_new(c, "path", json_string(path));
    if (message)
        json_object_set_new(c, "message", json_string(message));
    json_array_append_new(g.changes, c);
}

static void set_error(entry *e, const char *msg)
{
    free(e->error);
    e->error = msg ? strdup(msg) : NULL;
    e->error_at = msg ? now_s() : 0;
}

/* Swaps p in as the live version of its name (takes ownership). */
static void swap_in(entry *e, vml_plugin *p)
{
    vml_plugin *old = e->live;
    e->live = p;
    if (old) {
        if (strcmp(old->source, "shipped") == 0 && !e->shipped)
            e->shipped = old; /* kept so removing the user's file brings it back */
        else
            vml_plugin_free(old); /* no call is in flight: calls are synchronous on this thread */
    }
}

static void load_shipped(void)
{
    const vml_embed_file *f;
    static const char *const roots[] = {"workflows/", "plugins/"};
    size_t r;
    for (r = 0; r < 2; r++) {
        for (f = vml_embed_files; f->path; f++) {
            const char *rest, *slash, *base;
            char name[VML_PLUGIN_NAME_MAX], dir[PATH_MAX_LEN];
            size_t len;
            vml_plugin *p = NULL;
            vml_err err;
            entry *e;
            if (strncmp(f->path, roots[r], strlen(roots[r])) != 0)
                continue;
            rest = f->path + strlen(roots[r]);
            /* roots/<name>.lua, roots/<name>/init.lua, or one level of grouping:
             * roots/<group>/<name>.lua (e.g. plugins/gpus/aws.lua) */
            slash = strrchr(rest, '/');
            base = slash ? slash + 1 : rest;
            if (!ends_with(f->path, ".lua") || base[0] == '.' || ends_with(f->path, ".disabled"))
                continue;
            if (slash && strcmp(base, "init.lua") == 0) {
                const char *start = rest, *s2;
                for (s2 = rest; s2 < slash; s2++)
                    if (*s2 == '/')
                        start = s2 + 1;
                len = (size_t)(slash - start);
                if (!clean_name(start, len, name, sizeof name))
                    continue;
                snprintf(dir, sizeof dir, "%.*s", (int)(slash - f->path), f->path);
            } else {
                /* a file beside an init.lua belongs to that folder plugin */
                char init[PATH_MAX_LEN];
                if (slash) {
                    snprintf(init, sizeof init, "%.*s/init.lua", (int)(slash - f->path), f->path);
                    if (vml_embed_find(init))
                        continue;
                    if (strchr(rest, '/') != slash)
                        continue; /* deeper than one grouping level */
                }
                len = strlen(base) - 4;
                if (!clean_name(base, len, name, sizeof name))
                    continue;
                dir[0] = '\0';
            }
            vml_err_clear(&err);
            {
                char chunk[PATH_MAX_LEN + 2];
                snprintf(chunk, sizeof chunk, "@%s", f->path);
                if (plugin_load(name, NULL, 0, f, chunk, NULL, &p, &err) < 0) {
                    fprintf(stderr, "vibeml: shipped plugin '%s' failed to load: %s\n", name,
                            vml_err_msg(&err));
                    e = find_entry(name);
                    if (!e)
                        e = add_entry(name);
                    if (e)
                        set_error(e, vml_err_msg(&err));
                    g.failures++;
                    continue;
                }
            }
            snprintf(p->source, sizeof p->source, "shipped");
            snprintf(p->path, sizeof p->path, "%s", dir[0] ? dir : f->path);
            crypto_generichash(p->hash, HASH_LEN, (const unsigned char *)f->data, f->len, NULL, 0);
            e = find_entry(name);
            if (!e && !(e = add_entry(name))) {
                vml_plugin_free(p);
                continue;
            }
            if (e->live) {
                fprintf(stderr, "vibeml: two shipped plugins are named '%s'; keeping %s\n", name,
                        e->live->path);
                vml_plugin_free(p);
                continue;
            }
            e->live = p;
        }
    }
}

static void ensure_inited(void);

int vml_plugins_init(vml_err *err)
{
    if (g.inited)
        return 0;
    ensure_inited();
    vml_plugins_rescan(err);
    json_decref(g.changes); /* the first load is not a change */
    g.changes = NULL;
    return 0;
}

int vml_plugins_set_dirs(const char *const *dirs, int n, vml_err *err)
{
    int i, rc;
    if (n < 0 || n > VML_PLUGIN_MAX_DIRS)
        return vml_err_set(err, VML_EINVAL, "at most %d plugin folders", VML_PLUGIN_MAX_DIRS);
    for (i = 0; i < g.ndirs; i++)
        free(g.dirs[i]);
    g.ndirs = 0;
    for (i = 0; i < n; i++)
        if ((g.dirs[g.ndirs] = strdup(dirs[i])))
            g.ndirs++;
    g.dirs_set = 1;
    if (!g.inited)
        return vml_plugins_init(err);
    rc = vml_plugins_rescan(err);
    if (rc >= 0 && g.watching) {
        vml_plugins_unwatch();
        rc = vml_plugins_watch(err);
    }
    return rc < 0 ? rc : 0;
}

/* One user plugin found on disk. */
typedef struct found {
    char name[VML_PLUGIN_NAME_MAX];
    char path[PATH_MAX_LEN]; /* file or folder */
    int folder;
} found;

/* Finds the user plugins in every folder; the first folder wins on duplicate names. */
static int discover_user(found **out, int *nout)
{
    found *list = NULL;
    int n = 0, cap = 0, d;
    for (d = 0; d < g.ndirs; d++) {
        char **names;
        vml_err e;
        int cnt = list_dir(g.dirs[d], &names, &e), i;
        for (i = 0; i < cnt; i++) {
            char path[PATH_MAX_LEN], init[PATH_MAX_LEN + 16], name[VML_PLUGIN_NAME_MAX];
            int folder = 0, j, dup = 0;
            size_t len = strlen(names[i]);
            if (ends_with(names[i], ".disabled"))
                continue;
            snprintf(path, sizeof path, "%s/%s", g.dirs[d], names[i]);
            if (is_dir(path)) {
                snprintf(init, sizeof init, "%s/init.lua", path);
                if (!is_file(init))
                    continue;
                folder = 1;
            } else if (!ends_with(names[i], ".lua") || !is_file(path)) {
                continue;
            } else {
                len -= 4;
            }
            if (!clean_name(names[i], len, name, sizeof name))
                continue;
            for (j = 0; j < n; j++)
                if (strcmp(list[j].name, name) == 0)
                    dup = 1;
            if (dup) {
                fprintf(stderr,
                        "vibeml: plugin '%s' at %s is ignored: an earlier one has the "
                        "same name\n",
                        name, path);
                continue;
            }
            if (n == cap) {
                found *nl;
                cap = cap ? cap * 2 : 16;
                nl = realloc(list, (size_t)cap * sizeof *nl);
                if (!nl)
                    break;
                list = nl;
            }
            snprintf(list[n].name, sizeof list[n].name, "%s", name);
            snprintf(list[n].path, sizeof list[n].path, "%s", path);
            list[n].folder = folder;
            n++;
        }
        if (cnt > 0)
            free_names(names, cnt);
    }
    *out = list;
    *nout = n;
    return 0;
}

/* Loads a user plugin version from disk and validates it. */
static int load_user(const found *f, const unsigned char hash[HASH_LEN], vml_plugin **out,
                     vml_err *err)
{
    char file[PATH_MAX_LEN + 16], chunk[PATH_MAX_LEN + 20];
    char *text = NULL;
    size_t len;
    int rc;
    if (f->folder)
        snprintf(file, sizeof file, "%s/init.lua", f->path);
    else
        snprintf(file, sizeof file, "%s", f->path);
    if ((rc = read_all(file, &text, &len, err)) < 0)
        return rc;
    snprintf(chunk, sizeof chunk, "@%s", file);
    rc = vml_plugin_load_text(f->name, text, len, chunk, f->folder ? f->path : NULL, out, err);
    free(text);
    if (rc < 0)
        return rc;
    snprintf((*out)->source, sizeof(*out)->source, "user");
    snprintf((*out)->path, sizeof(*out)->path, "%s", f->path);
    memcpy((*out)->hash, hash, HASH_LEN);
    return 0;
}

/* A rescan in three steps, so that loading (which may run a hostile plugin up to its limits)
 * can happen off the loop thread: prepare (loop thread: discover, hash, decide what to load),
 * load (any thread: fresh states, nothing shared), apply (loop thread: swap, record changes). */
typedef struct load_job {
    found f;
    unsigned char hash[HASH_LEN];
    vml_plugin *p; /* the loaded version, or NULL with err */
    vml_err err;
} load_job;

typedef struct scan {
    uv_work_t req;
    load_job *jobs;
    int njobs;
    int before; /* change count when the scan started */
    long gen;   /* registry generation it belongs to */
} scan;

static long g_gen = 1;  /* bumps at shutdown: a scan of an old registry is dropped */
static int g_in_flight; /* an asynchronous scan is loading */
static int g_pending;   /* events arrived meanwhile: scan again when it is done */

static void ensure_inited(void)
{
    if (g.inited)
        return;
    g.inited = 1;
    load_shipped();
    if (!g.dirs_set) {
        char buf[PATH_MAX_LEN];
        if (vml_paths_join(VML_PATH_CONFIG, "plugins", buf, sizeof buf, 0, NULL) == 0 &&
            (g.dirs[0] = strdup(buf)))
            g.ndirs = 1;
    }
}

/* Loop thread. Returns the scan (caller's; scan_apply frees it) or NULL when out of memory. */
static scan *scan_prepare(void)
{
    found *list = NULL;
    int n = 0, i;
    size_t k;
    scan *sc = calloc(1, sizeof *sc);
    if (!sc)
        return NULL;
    ensure_inited();
    sc->gen = g_gen;
    sc->before = g.changes ? (int)json_array_size(g.changes) : 0;
    for (k = 0; k < g.n; k++)
        g.entries[k].user_on_disk = 0;
    discover_user(&list, &n);
    sc->jobs = n ? calloc((size_t)n, sizeof *sc->jobs) : NULL;
    for (i = 0; i < n; i++) {
        const found *f = &list[i];
        unsigned char hash[HASH_LEN];
        vml_err e;
        entry *en = find_entry(f->name);
        vml_err_clear(&e);
        if (hash_plugin(f->path, f->folder, hash, &e) < 0)
            continue; /* vanished or unreadable mid-scan: the next event rescans */
        if (!en && !(en = add_entry(f->name)))
            continue;
        en->user_on_disk = 1;
        snprintf(en->user_path, sizeof en->user_path, "%s", f->path);
        if (en->live && strcmp(en->live->source, "user") == 0 &&
            memcmp(en->live->hash, hash, HASH_LEN) == 0) {
            if (en->error) { /* back to the serving content after a broken edit */
                set_error(en, NULL);
                note_change(f->name, "restored", en->live, f->path, NULL);
            }
            en->has_tried = 1;
            memcpy(en->tried, hash, HASH_LEN);
            continue;
        }
        if (en->has_tried && memcmp(en->tried, hash, HASH_LEN) == 0)
            continue; /* this exact content failed already */
        en->has_tried = 1;
        memcpy(en->tried, hash, HASH_LEN);
        if (!sc->jobs)
            continue;
        sc->jobs[sc->njobs].f = *f;
        memcpy(sc->jobs[sc->njobs].hash, hash, HASH_LEN);
        sc->njobs++;
    }
    free(list);
    return sc;
}

/* Any thread: touches only the jobs and fresh Lua states. */
static void scan_load(scan *sc)
{
    int i;
    for (i = 0; i < sc->njobs; i++) {
        load_job *j = &sc->jobs[i];
        vml_err_clear(&j->err);
        if (load_user(&j->f, j->hash, &j->p, &j->err) < 0)
            j->p = NULL;
    }
}

/* Loop thread: swaps the loaded versions in, drops removed plugins, frees sc. Returns the number
 * of change records added. */
static int scan_apply(scan *sc)
{
    int i, added;
    size_t k;
    if (sc->gen != g_gen) { /* the registry was shut down meanwhile */
        for (i = 0; i < sc->njobs; i++)
            vml_plugin_free(sc->jobs[i].p);
        free(sc->jobs);
        free(sc);
        return 0;
    }
    for (i = 0; i < sc->njobs; i++) {
        load_job *j = &sc->jobs[i];
        const found *f = &j->f;
        entry *en = find_entry(f->name);
        if (!en) {
            vml_plugin_free(j->p);
            continue;
        }
        g.reloads++;
        if (!j->p) {
            g.failures++;
            set_error(en, vml_err_msg(&j->err));
            fprintf(stderr, "vibeml: plugin '%s' (%s) failed to load; %s: %s\n", f->name, f->path,
                    en->live ? "the previous version keeps serving" : "it is not available",
                    vml_err_msg(&j->err));
            note_change(f->name, "failed", en->live, f->path, vml_err_msg(&j->err));
            continue;
        }
        if (en->live && strcmp(en->live->source, "shipped") == 0) {
            char msg[PATH_MAX_LEN + 128];
            snprintf(msg, sizeof msg, "user plugin %s overrides the shipped plugin '%s'", f->path,
                     f->name);
            fprintf(stderr, "vibeml: notice: %s\n", msg);
            swap_in(en, j->p);
            note_change(f->name, "overridden", j->p, f->path, msg);
        } else {
            const char *action = en->live ? "changed" : "added";
            swap_in(en, j->p);
            note_change(f->name, action, j->p, f->path, NULL);
        }
        set_error(en, NULL);
    }
    /* user plugins that disappeared */
    for (k = 0; k < g.n;) {
        entry *en = &g.entries[k];
        int user_live = en->live && strcmp(en->live->source, "user") == 0;
        if (en->user_on_disk || (!user_live && !en->has_tried)) {
            k++;
            continue;
        }
        if (user_live) {
            vml_plugin *gone = en->live;
            en->live = en->shipped;
            en->shipped = NULL;
            note_change(en->name, en->live ? "reverted" : "removed", en->live ? en->live : gone,
                        en->user_path,
                        en->live ? "the user plugin was removed; the shipped "
                                   "version serves again"
                                 : NULL);
            vml_plugin_free(gone);
        } else if (en->error && !en->live) {
            note_change(en->name, "removed", NULL, en->user_path, NULL);
        }
        en->has_tried = 0;
        set_error(en, NULL);
        if (!en->live) {
            remove_entry(en);
            continue;
        }
        k++;
    }
    added = (g.changes ? (int)json_array_size(g.changes) : 0) - sc->before;
    free(sc->jobs);
    free(sc);
    if (added > 0 && g.on_change)
        g.on_change(g.on_change_ud);
    return added;
}

int vml_plugins_rescan(vml_err *err)
{
    scan *sc;
    if (g_in_flight) {
        g_pending = 1; /* the running scan is followed by another one */
        return 0;
    }
    if (!(sc = scan_prepare()))
        return vml_err_set(err, VML_ENOMEM, "out of memory scanning plugin folders");
    scan_load(sc);
    return scan_apply(sc);
}

int vml_plugins_put(vml_plugin *p, vml_err *err)
{
    entry *e;
    vml_plugins_init(NULL);
    e = find_entry(p->name);
    if (!e && !(e = add_entry(p->name))) {
        vml_plugin_free(p);
        return vml_err_set(err, VML_ENOMEM, "out of memory");
    }
    if (!p->source[0])
        snprintf(p->source, sizeof p->source, "user");
    note_change(p->name, e->live ? "changed" : "added", p, p->path, NULL);
    swap_in(e, p);
    set_error(e, NULL);
    return 0;
}

vml_plugin *vml_plugins_get(const char *name)
{
    entry *e;
    vml_plugins_init(NULL);
    e = find_entry(name);
    return e ? e->live : NULL;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static json_t *plugin_json(const vml_plugin *p)
{
    char h[2 * HASH_LEN + 1];
    hex(p->hash, h, sizeof h);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:f, s:s}", "name", p->name, "kind", p->kind,
                     "version", p->version, "source", p->source, "path", p->path, "functions",
                     p->functions, "loaded_at", p->loaded_at, "hash", h);
}

json_t *vml_plugins_list(const char *kind)
{
    json_t *arr = json_array();
    size_t i;
    vml_plugins_init(NULL);
    qsort(g.entries, g.n, sizeof *g.entries, cmp_entry);
    for (i = 0; i < g.n; i++) {
        vml_plugin *p = g.entries[i].live;
        if (!p || (kind && strcmp(kind, p->kind) != 0))
            continue;
        json_array_append_new(arr, plugin_json(p));
    }
    return arr;
}

json_t *vml_plugins_status(void)
{
    json_t *plugins = json_array(), *errors = json_array(), *dirs = json_array();
    size_t i;
    int d;
    vml_plugins_init(NULL);
    qsort(g.entries, g.n, sizeof *g.entries, cmp_entry);
    for (i = 0; i < g.n; i++) {
        entry *e = &g.entries[i];
        json_t *o = e->live ? plugin_json(e->live) : json_pack("{s:s}", "name", e->name);
        json_object_set_new(o, "serving", json_boolean(e->live != NULL));
        if (e->shipped)
            json_object_set_new(o, "overrides", json_string(e->shipped->path));
        if (e->error) {
            const char *path = e->user_path[0] ? e->user_path : (e->live ? e->live->path : "");
            json_object_set_new(o, "error", json_string(e->error));
            json_array_append_new(errors,
                                  json_pack("{s:s, s:s, s:s, s:f, s:b}", "name", e->name, "path",
                                            path, "message", e->error, "at", e->error_at,
                                            "serving_previous", e->live != NULL));
        }
        json_array_append_new(plugins, o);
    }
    for (d = 0; d < g.ndirs; d++) {
        watcher *w;
        int watched = 0;
        for (w = g.watchers; w; w = w->next)
            if (strcmp(w->path, g.dirs[d]) == 0)
                watched = 1;
        json_array_append_new(dirs, json_pack("{s:s, s:b, s:b}", "path", g.dirs[d], "exists",
                                              is_dir(g.dirs[d]), "watched", watched));
    }
    return json_pack("{s:o, s:o, s:o, s:b, s:I, s:I}", "plugins", plugins, "errors", errors, "dirs",
                     dirs, "watching", g.watching, "reloads", (json_int_t)g.reloads, "failures",
                     (json_int_t)g.failures);
}

json_t *vml_plugins_take_changes(void)
{
    json_t *c = g.changes ? g.changes : json_array();
    g.changes = NULL;
    return c;
}

void vml_plugins_on_change(void (*fn)(void *ud), void *ud)
{
    g.on_change = fn;
    g.on_change_ud = ud;
}

/* }===================================================================== */

/* {===================================================================== watching */

static void watcher_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_debounce(uv_timer_t *t);

static void scan_work(uv_work_t *req)
{
    scan_load(req->data);
}

static void scan_done(uv_work_t *req, int status)
{
    scan *sc = req->data;
    vml_err err;
    (void)status;
    g_in_flight = 0;
    scan_apply(sc);
    /* new folder plugins need their own watcher; vanished ones drop theirs */
    if (g.watching)
        vml_plugins_watch(&err);
    if (g_pending && g.debounce_init) {
        g_pending = 0;
        uv_timer_start(&g.debounce, on_debounce, 0, 0);
    }
}

/* The debounced rescan after file-system events: plugins are loaded on libuv's thread pool, so
 * a plugin that runs into its limits (an infinite loop stops only after its instruction budget)
 * never stalls the loop; the server keeps answering meanwhile. */
static void on_debounce(uv_timer_t *t)
{
    scan *sc;
    vml_err err;
    (void)t;
    if (g_in_flight) {
        g_pending = 1;
        return;
    }
    if (!(sc = scan_prepare()))
        return;
    if (sc->njobs == 0) {
        scan_apply(sc);
        if (g.watching)
            vml_plugins_watch(&err);
        return;
    }
    sc->req.data = sc;
    if (uv_queue_work(vml_loop(), &sc->req, scan_work, scan_done) < 0) {
        scan_load(sc); /* no thread pool: load here */
        scan_apply(sc);
        return;
    }
    g_in_flight = 1;
}

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    (void)h;
    (void)filename;
    (void)events;
    (void)status;
    if (g.debounce_init)
        uv_timer_start(&g.debounce, on_debounce, VML_PLUGIN_DEBOUNCE_MS, 0);
}

static int watch_path(const char *path)
{
    watcher *w;
    for (w = g.watchers; w; w = w->next)
        if (strcmp(w->path, path) == 0) {
            w->seen = 1;
            return 0;
        }
    w = calloc(1, sizeof *w);
    if (!w)
        return VML_ENOMEM;
    snprintf(w->path, sizeof w->path, "%s", path);
    uv_fs_event_init(vml_loop(), &w->ev);
    w->ev.data = w;
    if (uv_fs_event_start(&w->ev, on_fs_event, w->path, 0) < 0) {
        uv_close((uv_handle_t *)&w->ev, watcher_closed);
        return VML_EIO;
    }
    /* a watcher must not keep `vibeml run` alive once its script is done */
    uv_unref((uv_handle_t *)&w->ev);
    w->seen = 1;
    w->next = g.watchers;
    g.watchers = w;
    return 0;
}

/* A folder plugin and its subfolders (inotify watches one folder at a time; the hash covers the
 * tree to the same depth). */
static void watch_tree(const char *dir, int depth)
{
    char **names;
    vml_err e;
    int n, i, count = 0;
    watcher *w;
    for (w = g.watchers; w; w = w->next)
        count++;
    if (count >= 256 || watch_path(dir) < 0 || depth >= 4)
        return;
    n = list_dir(dir, &names, &e);
    for (i = 0; i < n; i++) {
        char path[PATH_MAX_LEN];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (is_dir(path))
            watch_tree(path, depth + 1);
    }
    if (n > 0)
        free_names(names, n);
}

int vml_plugins_watch(vml_err *err)
{
    watcher *w, **pw;
    int d;
    vml_plugins_init(NULL);
    if (!g.debounce_init) {
        uv_timer_init(vml_loop(), &g.debounce);
        uv_unref((uv_handle_t *)&g.debounce);
        g.debounce_init = 1;
    }
    if (!g.dirs_set && g.ndirs == 1)
        vml_paths_mkdirs(g.dirs[0], 0700, NULL); /* the default folder may not exist yet */
    for (w = g.watchers; w; w = w->next)
        w->seen = 0;
    for (d = 0; d < g.ndirs; d++) {
        char **names;
        vml_err e;
        int n, i;
        if (!is_dir(g.dirs[d]))
            continue;
        if (watch_path(g.dirs[d]) < 0)
            fprintf(stderr, "vibeml: cannot watch plugin folder %s\n", g.dirs[d]);
        n = list_dir(g.dirs[d], &names, &e);
        for (i = 0; i < n; i++) {
            char path[PATH_MAX_LEN];
            snprintf(path, sizeof path, "%s/%s", g.dirs[d], names[i]);
            if (is_dir(path))
                watch_tree(path, 1);
        }
        if (n > 0)
            free_names(names, n);
    }
    for (pw = &g.watchers; (w = *pw);) {
        if (!w->seen) {
            *pw = w->next;
            uv_fs_event_stop(&w->ev);
            uv_close((uv_handle_t *)&w->ev, watcher_closed);
        } else {
            pw = &w->next;
        }
    }
    g.watching = 1;
    (void)err;
    return 0;
}

void vml_plugins_unwatch(void)
{
    watcher *w;
    while ((w = g.watchers)) {
        g.watchers = w->next;
        uv_fs_event_stop(&w->ev);
        uv_close((uv_handle_t *)&w->ev, watcher_closed);
    }
    if (g.debounce_init)
        uv_timer_stop(&g.debounce);
    g.watching = 0;
}

static void noop_close(uv_handle_t *h)
{
    (void)h;
}

void vml_plugins_shutdown(void)
{
    size_t i;
    int d;
    vml_plugins_unwatch();
    if (g.debounce_init) {
        uv_close((uv_handle_t *)&g.debounce, noop_close);
        g.debounce_init = 0;
    }
    for (i = 0; i < g.n; i++) {
        vml_plugin_free(g.entries[i].live);
        vml_plugin_free(g.entries[i].shipped);
        free(g.entries[i].error);
    }
    free(g.entries);
    for (d = 0; d < g.ndirs; d++)
        free(g.dirs[d]);
    json_decref(g.changes);
    vml_chunk_cache_free(&strip_bc);
    vml_chunk_cache_free(&kinds_bc);
    memset(&g, 0, sizeof g);
    g_gen++; /* a scan still loading belongs to the old registry */
    g_pending = 0;
}

/* }===================================================================== */
