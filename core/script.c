/* SPDX-License-Identifier: MIT
 *
 * script — the Lua host (see script.h): allocator with a limit and fault injection, the count
 * hook that enforces time and instruction budgets, the two sandbox profiles, the frozen
 * `vibeml` global, require over embedded modules, and the protected-call entry point.
 *
 * Uses: err, embed, Lua 5.4 (lua.h, lauxlib.h, lualib.h), libuv (uv_hrtime), pthreads.
 */
#include "script.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bounded.h"
#include "embed.h"
#include "paths.h"

/* Instructions between hook calls. HAProxy measured 500..10000 as free; 1000 keeps a tripped
 * timeout within microseconds of the deadline. */
#define VML_HOOK_COUNT 1000

const vml_limits vml_limits_plugin = {64u << 20, 2.0, 200000000ul};

/* Registry keys (addresses are unique). */
static const char k_loaded = 0;   /* require's cache */
static const char k_vibeml = 0;   /* the real (unfrozen) vibeml table */
char vml__script_await_token = 0; /* yielded by awaits; see loop.c */

static void hook(lua_State *L, lua_Debug *ar);

/* {===================================================================== allocator */

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    vml_script *s = ud;
    size_t old = ptr ? osize : 0;
    void *p;

    if (nsize == 0) {
        free(ptr);
        s->mem_used -= old;
        return NULL;
    }
    if (nsize > old) {
        s->alloc_count++;
        if (s->fail_at && s->alloc_count >= s->fail_at)
            return NULL;
        if (s->limits.max_memory && s->mem_used - old + nsize > s->limits.max_memory) {
            /* Sticky: once code reaches past its limit it is stopped for good, so a pcall
             * cannot swallow a memory bomb and try again. */
            s->trip = VML_ELIMIT;
            s->mem_refused = 1;
            if (s->L) /* stop at the very next instruction, even in a short loop */
                lua_sethook(s->running ? s->running : s->L, hook, LUA_MASKCOUNT, 1);
            return NULL;
        }
    }
    p = realloc(ptr, nsize);
    if (!p) {
        if (nsize <= old)
            return ptr; /* Lua assumes shrinking never fails */
        return NULL;
    }
    s->mem_refused = 0;
    s->mem_used = s->mem_used - old + nsize;
    if (s->mem_used > s->mem_peak)
        s->mem_peak = s->mem_used;
    return p;
}

/* }===================================================================== */

/* {===================================================================== hook and budget */

const char *vml_script_trip_text(vml_script *s, int code, char *buf, size_t n)
{
    switch (code) {
    case VML_ETIMEOUT:
        snprintf(buf, n, "time limit of %g s reached", s->limits.timeout);
        break;
    case VML_EBUDGET:
        snprintf(buf, n, "instruction budget of %lu exhausted", s->limits.max_instructions);
        break;
    case VML_ELIMIT:
        snprintf(buf, n, "memory limit of %zu MB reached", s->limits.max_memory >> 20);
        break;
    case VML_ECANCELED:
        snprintf(buf, n, "canceled");
        break;
    default:
        snprintf(buf, n, "%s", vml_strerror(code));
    }
    return buf;
}

static void hook(lua_State *L, lua_Debug *ar)
{
    vml_script *s = vml_script_from(L);
    int code = s->trip;
    char buf[128];
    (void)ar;

    if (!code) {
        s->instr_used += VML_HOOK_COUNT;
        if (s->limits.max_instructions && s->instr_used > s->limits.max_instructions)
            code = VML_EBUDGET;
        else if (s->deadline_ns && uv_hrtime() >= s->deadline_ns)
            code = VML_ETIMEOUT;
        else if (s->task_cancel)
            code = *s->task_cancel;
        if (code != VML_ECANCELED && code)
            s->trip = code;
    }
    if (code) {
        /* Re-arm on every instruction: a pcall that catches this error is stopped again at
         * the next instruction, so the limit cannot be swallowed. */
        lua_sethook(L, hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "%s", vml_script_trip_text(s, code, buf, sizeof buf));
    }
}

_Thread_local uint64_t *vml__script_watch = NULL;

void vml_script_arm(vml_script *s)
{
    s->instr_used = 0;
    s->trip = 0;
    s->mem_refused = 0;
    s->deadline_ns = s->limits.timeout > 0 ? uv_hrtime() + (uint64_t)(s->limits.timeout * 1e9) : 0;
    if (vml__script_watch && s->deadline_ns) /* a watchdog waits on this thread (watchdog.c) */
        __atomic_store_n(vml__script_watch, s->deadline_ns, __ATOMIC_RELAXED);
    lua_sethook(s->L, hook, LUA_MASKCOUNT, VML_HOOK_COUNT);
}

void vml_script_charge(lua_State *L, unsigned long n)
{
    vml_script *s = vml_script_from(L);
    int code = s->trip;
    char buf[128];
    if (!code && (s->limits.max_instructions || s->deadline_ns)) {
        unsigned long max = s->limits.max_instructions;
        if (max && (n > max || s->instr_used > max - n))
            code = VML_EBUDGET;
        else if (s->deadline_ns && uv_hrtime() >= s->deadline_ns)
            code = VML_ETIMEOUT;
        s->instr_used += n;
        if (code)
            s->trip = code;
    }
    if (code && code != VML_ECANCELED) {
        lua_sethook(L, hook, LUA_MASKCOUNT, 1); /* as in hook(): a pcall cannot swallow it */
        luaL_error(L, "%s", vml_script_trip_text(s, code, buf, sizeof buf));
    }
}

void vml_script_trip(vml_script *s, int code)
{
    s->trip = code;
}

int vml_script_failcode(vml_script *s, int fallback)
{
    return s->trip ? s->trip : fallback;
}

/* }===================================================================== */

/* {===================================================================== sandboxed base */

static int l_print(lua_State *L)
{
    vml_script *s = vml_script_from(L);
    FILE *f = s->out ? s->out : stderr;
    int n = lua_gettop(L), i;
    for (i = 1; i <= n; i++) {
        size_t len;
        const char *str = luaL_tolstring(L, i, &len);
        if (i > 1)
            fputc('\t', f);
        fwrite(str, 1, len, f);
        lua_pop(L, 1);
    }
    fputc('\n', f);
    fflush(f);
    return 0;
}

/* load(chunk [, chunkname [, mode [, env]]]) with mode forced to text. */
static int l_load(lua_State *L)
{
    int has_env = !lua_isnone(L, 4);
    const char *mode = luaL_optstring(L, 3, "t");
    int status;
    if (strchr(mode, 'b'))
        return luaL_error(L, "binary chunks are not allowed (load mode must be \"t\")");
    if (lua_type(L, 1) == LUA_TSTRING) {
        size_t len;
        const char *text = lua_tolstring(L, 1, &len);
        const char *name = luaL_optstring(L, 2, text);
        status = luaL_loadbufferx(L, text, len, name, "t");
    } else {
        /* a reader function: collect its pieces first, then compile as text */
        luaL_Buffer b;
        luaL_checktype(L, 1, LUA_TFUNCTION);
        luaL_buffinit(L, &b);
        for (;;) {
            const char *piece;
            size_t plen;
            lua_pushvalue(L, 1);
            lua_call(L, 0, 1);
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                break;
            }
            piece = lua_tolstring(L, -1, &plen);
            if (!piece)
                return luaL_error(L, "reader function must return a string");
            if (plen == 0) {
                lua_pop(L, 1);
                break;
            }
            luaL_addvalue(&b);
        }
        luaL_pushresult(&b);
        {
            size_t len;
            const char *text = lua_tolstring(L, -1, &len);
            status = luaL_loadbufferx(L, text, len, luaL_optstring(L, 2, "=(load)"), "t");
        }
    }
    if (status != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    if (has_env) {
        lua_pushvalue(L, 4);
        if (!lua_setupvalue(L, -2, 1))
            lua_pop(L, 1);
    }
    return 1;
}

/* collectgarbage limited to the harmless options. */
static int l_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "collect");
    if (strcmp(opt, "count") == 0) {
        int k = lua_gc(L, LUA_GCCOUNT, 0);
        int b = lua_gc(L, LUA_GCCOUNTB, 0);
        lua_pushnumber(L, (lua_Number)k + ((lua_Number)b / 1024));
        return 1;
    }
    if (strcmp(opt, "step") == 0 || strcmp(opt, "collect") == 0) {
        lua_gc(L, strcmp(opt, "step") == 0 ? LUA_GCSTEP : LUA_GCCOLLECT, 0);
        lua_pushboolean(L, 1);
        return 1;
    }
    return luaL_error(L,
                      "collectgarbage(\"%s\") is not allowed here (allowed: count, step, "
                      "collect)",
                      opt);
}

/* }===================================================================== */

/* {===================================================================== require */

static int valid_modname(const char *name)
{
    const char *p;
    if (!*name || *name == '.' || strstr(name, ".."))
        return 0;
    for (p = name; *p; p++)
        if (!(*p == '_' || *p == '.' || *p == '-' || (*p >= 'a' && *p <= 'z') ||
              (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return 0;
    return 1;
}

static int load_embedded(lua_State *L, const vml_embed_file *f, const char *chunkname)
{
    if (f->bc_len)
        return luaL_loadbufferx(L, f->bc, f->bc_len, chunkname, "b");
    return luaL_loadbufferx(L, f->data, f->len, chunkname, "t");
}

/* Pushes the loader chunk for name, or returns 0 (nothing pushed) with a reason appended. */
static int find_module(lua_State *L, vml_script *s, const char *name, luaL_Buffer *why)
{
    char path[512], file[1024];
    const vml_embed_file *ef;
    size_t i;
    int status;

    snprintf(path, sizeof path, "%s", name);
    for (i = 0; path[i]; i++)
        if (path[i] == '.')
            path[i] = '/';
    /* embedded modules: lua/<a>/<b>.lua or lua/<a>/<b>/init.lua */
    snprintf(file, sizeof file, "lua/%s.lua", path);
    ef = vml_embed_find(file);
    if (!ef) {
        snprintf(file, sizeof file, "lua/%s/init.lua", path);
        ef = vml_embed_find(file);
    }
    if (ef) {
        char chunk[1100];
        snprintf(chunk, sizeof chunk, "@%s", file);
        /* the build's own bytecode of this module when it has it (embed.h): same chunk, same
         * debug information, no parsing; binary chunks are otherwise never loaded */
        status = load_embedded(L, ef, chunk);
        if (status != LUA_OK)
            lua_error(L);
        return 1;
    }
    luaL_addstring(why, "\n\tno embedded module '");
    luaL_addstring(why, file);
    luaL_addstring(why, "'");
    /* files beside the script or inside the plugin's folder */
    if (s->script_dir) {
        const char *forms[] = {".lua", "/init.lua"};
        for (i = 0; i < 2; i++) {
            char *text = NULL;
            size_t len;
            vml_err e;
            snprintf(file, sizeof file, "%s/%s%s", s->script_dir, path, forms[i]);
            if (vml_paths_read(file, 0, &text, &len, &e) == 0) {
                char chunk[1100];
                snprintf(chunk, sizeof chunk, "@%s", file);
                status = luaL_loadbufferx(L, text, len, chunk, "t");
                free(text);
                if (status != LUA_OK)
                    lua_error(L);
                return 1;
            }
            luaL_addstring(why, "\n\tno file '");
            luaL_addstring(why, file);
            luaL_addstring(why, "'");
        }
    }
    return 0;
}

static int l_require(lua_State *L)
{
    vml_script *s = vml_script_from(L);
    const char *name = luaL_checkstring(L, 1);
    luaL_Buffer why;

    lua_settop(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &k_loaded); /* [name, loaded] */
    if (lua_getfield(L, 2, name) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    if (!valid_modname(name))
        return luaL_error(L, "module name '%s' is not valid (letters, digits, '_', '-', '.')",
                          name);
    luaL_buffinit(L, &why);
    luaL_addstring(&why, "module '");
    luaL_addstring(&why, name);
    luaL_addstring(&why, "' not found (C modules cannot be loaded here):");
    if (!find_module(L, s, name, &why)) {
        luaL_pushresult(&why);
        return lua_error(L);
    }
    /* [name, loaded, buf?, chunk]: call chunk(name) */
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 2, name);
    return 1;
}

/* }===================================================================== */

/* {===================================================================== vibeml, frozen */

static int l_readonly(lua_State *L)
{
    const char *k = lua_tostring(L, 2);
    return luaL_error(L, "attempt to modify read-only table%s%s%s", k ? " (field '" : "",
                      k ? k : "", k ? "')" : "");
}

static int l_proxy_next(lua_State *L)
{
    /* upvalue 1: the real table */
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1)))
        return 2;
    lua_pushnil(L);
    return 1;
}

static int l_proxy_pairs(lua_State *L)
{
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__real");
    lua_pushcclosure(L, l_proxy_next, 1);
    lua_pushnil(L);
    lua_pushnil(L);
    return 3;
}

static int l_proxy_len(lua_State *L)
{
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__real");
    lua_pushinteger(L, (lua_Integer)luaL_len(L, -1));
    return 1;
}

static int l_guard_gc(lua_State *L)
{
    char **slot = lua_touserdata(L, 1);
    vml_lua_guard_free(slot);
    return 0;
}

const char *vml_lua_checkcstr(lua_State *L, int arg)
{
    size_t len;
    const char *s = luaL_checklstring(L, arg, &len);
    if (strlen(s) != len)
        luaL_argerror(L, arg, "must not contain a NUL byte");
    return s;
}

const char *vml_lua_optcstr(lua_State *L, int arg, const char *def)
{
    if (lua_isnoneornil(L, arg))
        return def;
    return vml_lua_checkcstr(L, arg);
}

const char *vml_lua_tocstr(lua_State *L, int idx)
{
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    return s && strlen(s) == len ? s : NULL;
}

char **vml_lua_guard(lua_State *L)
{
    char **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    if (luaL_newmetatable(L, "vibeml.Guard")) {
        lua_pushcfunction(L, l_guard_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_guard_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    return slot;
}

void vml_lua_guard_free(char **slot)
{
    if (slot && *slot) {
        free(*slot);
        *slot = NULL;
    }
}

void vml_lua_freeze(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    /* A userdata, not a table: rawset() cannot write into it and setmetatable() cannot strip
     * its metatable, so the only way in is __index. */
    lua_newuserdatauv(L, 0, 0); /* [proxy] */
    lua_createtable(L, 0, 6);   /* [proxy, mt] */
    lua_pushvalue(L, idx);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, idx);
    lua_setfield(L, -2, "__real");
    lua_pushcfunction(L, l_readonly);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, l_proxy_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushcfunction(L, l_proxy_len);
    lua_setfield(L, -2, "__len");
    lua_pushliteral(L, "read-only");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2); /* [proxy] */
}

/* __index of the vibeml proxy in the SCRIPT profile: a field that the C modules did not define
 * is looked up as the embedded module vibeml.api.<name>, loaded once. */
static int l_vibeml_index(lua_State *L)
{
    const char *k = lua_tostring(L, 2);
    char mod[160];
    lua_rawgetp(L, LUA_REGISTRYINDEX, &k_vibeml); /* [t, k, real] */
    lua_pushvalue(L, 2);
    if (lua_rawget(L, -2) != LUA_TNIL || !k)
        return 1;
    lua_pop(L, 1);
    snprintf(mod, sizeof mod, "lua/vibeml/api/%s.lua", k);
    if (!valid_modname(k) || !vml_embed_find(mod)) {
        lua_pushnil(L);
        return 1;
    }
    snprintf(mod, sizeof mod, "vibeml.api.%s", k);
    lua_pushcfunction(L, l_require);
    lua_pushstring(L, mod);
    lua_call(L, 1, 1); /* [t, k, real, value] */
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4); /* real[k] = value */
    return 1;
}

static int open_vibeml(lua_State *L, vml_script *s)
{
    const vml_lapi *const *m;
    lua_newtable(L); /* [real] */
    for (m = vml_lapi_all; *m; m++) {
        if (!((*m)->profiles & s->profile))
            continue;
        lua_pushcfunction(L, (*m)->open);
        lua_call(L, 0, 1); /* [real, mod] */
        if ((*m)->name) {
            if (lua_istable(L, -1)) {
                vml_lua_freeze(L, -1);
                lua_remove(L, -2);
            }
            lua_setfield(L, -2, (*m)->name);
        } else {
            lua_pushnil(L);
            while (lua_next(L, -2)) { /* [real, mod, k, v] */
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, -5);
            }
            lua_pop(L, 1);
        }
    }
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &k_vibeml); /* registry keeps the real table */
    vml_lua_freeze(L, -1);                        /* [real, proxy] */
    if (s->profile == VML_PROFILE_SCRIPT) {
        lua_getmetatable(L, -1);
        lua_pushcfunction(L, l_vibeml_index);
        lua_setfield(L, -2, "__index");
        lua_pop(L, 1);
    }
    lua_remove(L, -2); /* [proxy] */
    lua_pushvalue(L, -1);
    lua_setglobal(L, "vibeml");
    lua_rawgetp(L, LUA_REGISTRYINDEX, &k_loaded);
    lua_insert(L, -2);
    lua_setfield(L, -2, "vibeml"); /* loaded.vibeml = proxy */
    lua_pop(L, 1);
    return 0;
}

/* }===================================================================== */

/* {===================================================================== state setup */

/* In the SCRIPT profile a C function may wait by yielding the await token to the task that runs
 * the script (loop.c). User coroutines must pass such a yield through to the task and hand the
 * answer back, so coroutine.resume and coroutine.wrap are wrapped here. */
static const char coroutine_prelude[] =
    "local AWAIT, co = ...\n"
    "local resume, yield, create, status = co.resume, co.yield, co.create, co.status\n"
    "local function pass(c, ok, ...)\n"
    "  if ok and (...) == AWAIT and status(c) == 'suspended' then\n"
    "    return pass(c, resume(c, yield(AWAIT)))\n"
    "  end\n"
    "  return ok, ...\n"
    "end\n"
    "co.resume = function(c, ...) return pass(c, resume(c, ...)) end\n"
    "local function unwrap(ok, ...)\n"
    "  if ok then return ... end\n"
    "  error((...), 0)\n"
    "end\n"
    "co.wrap = function(f)\n"
    "  local c = create(f)\n"
    "  return function(...) return unwrap(pass(c, resume(c, ...))) end\n"
    "end\n";

/* Plugins get strict globals: reading an undeclared name or creating a global raises. */
static const char strict_prelude[] =
    "local G, error, rawget = _G, error, rawget\n"
    "setmetatable(G, {\n"
    "  __index = function(_, k)\n"
    "    error(\"undeclared global '\" .. tostring(k) .. \"'\", 2)\n"
    "  end,\n"
    "  __newindex = function(_, k)\n"
    "    error(\"assignment to undeclared global '\" .. tostring(k) ..\n"
    "          \"' (plugins use locals and return a table)\", 2)\n"
    "  end,\n"
    "  __metatable = 'strict globals',\n"
    "})\n";

/* {===================================================================== chunk cache */

static int cache_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
    vml_chunk_cache *c = ud;
    (void)L;
    if (c->n + sz > c->cap) {
        size_t cap = (c->n + sz) * 2;
        char *np = realloc(c->bc, cap);
        if (!np)
            return 1;
        c->bc = np;
        c->cap = cap;
    }
    memcpy(c->bc + c->n, p, sz);
    c->n += sz;
    return 0;
}

static void cache_clear(vml_chunk_cache *c)
{
    free(c->bc);
    c->bc = NULL;
    c->n = c->cap = 0;
}

/* Plugins load on several threads (the loop thread, libuv's pool, watchdog workers) and share
 * the caches, so one lock guards them all; it is held for one undump or one compile. */
static pthread_mutex_t g_cache_mu = PTHREAD_MUTEX_INITIALIZER;

/* lua_load status; on success the function is pushed, else the error message. */
static int load_cached(lua_State *L, vml_chunk_cache *c, const char *text, size_t len,
                       const char *chunkname)
{
    int status;
    pthread_mutex_lock(&g_cache_mu);
    if (c->done && c->bc) {
        status = luaL_loadbufferx(L, c->bc, c->n, chunkname, "b");
        if (status == LUA_OK)
            goto out;
        lua_pop(L, 1); /* out of memory undumping: compile the text instead */
    }
    status = luaL_loadbufferx(L, text, len, chunkname, "t");
    if (status == LUA_OK && !c->done) {
        c->done = 1;
        if (lua_dump(L, cache_writer, c, 0) != 0)
            cache_clear(c); /* stays done: the text is compiled each time */
    }
out:
    pthread_mutex_unlock(&g_cache_mu);
    return status;
}

/* The result of a lua_load status: 0 with the function pushed, or the error (message popped). */
static int load_result(vml_script *s, int status, vml_err *err)
{
    int rc;
    if (status == LUA_OK)
        return 0;
    rc = vml_script_error_from(s->L, -1, status == LUA_ERRMEM ? VML_ENOMEM : VML_ELUA, NULL, err);
    lua_pop(s->L, 1);
    return rc;
}

int vml_script_load_cached(vml_script *s, vml_chunk_cache *c, const char *text, size_t len,
                           const char *chunkname, vml_err *err)
{
    int status = load_cached(s->L, c, text, len, chunkname);
    return load_result(s, status, err);
}

void vml_chunk_cache_free(vml_chunk_cache *c)
{
    pthread_mutex_lock(&g_cache_mu);
    cache_clear(c);
    c->done = 0;
    pthread_mutex_unlock(&g_cache_mu);
}

/* }===================================================================== */

static vml_chunk_cache coroutine_prelude_bc, strict_prelude_bc;

static int setup(lua_State *L)
{
    vml_script *s = lua_touserdata(L, 1);
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                    {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8},
                                    {LUA_COLIBNAME, luaopen_coroutine},
                                    {NULL, NULL}};
    const luaL_Reg *lib;
    static const char *const os_keep[] = {"clock", "time", "date", "difftime", "getenv", NULL};
    int i;

    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &k_loaded);
    for (lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    /* base: remove file access, force text chunks, limit collectgarbage */
    lua_pushnil(L);
    lua_setglobal(L, "dofile");
    lua_pushnil(L);
    lua_setglobal(L, "loadfile");
    lua_pushcfunction(L, l_load);
    lua_setglobal(L, "load");
    lua_pushcfunction(L, l_collectgarbage);
    lua_setglobal(L, "collectgarbage");
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
    lua_pushcfunction(L, l_require);
    lua_setglobal(L, "require");
    /* string.dump would hand out bytecode */
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    /* a small os: clocks and dates; getenv for scripts only */
    lua_pushcfunction(L, luaopen_os);
    lua_call(L, 0, 1); /* [realos] */
    lua_newtable(L);   /* [realos, os] */
    for (i = 0; os_keep[i]; i++) {
        if (strcmp(os_keep[i], "getenv") == 0 && s->profile != VML_PROFILE_SCRIPT)
            continue;
        lua_getfield(L, -2, os_keep[i]);
        lua_setfield(L, -2, os_keep[i]);
    }
    lua_setglobal(L, "os");
    lua_pop(L, 1);
    /* the loaded libraries as require sees them */
    lua_rawgetp(L, LUA_REGISTRYINDEX, &k_loaded);
    {
        static const char *const names[] = {"string",    "table", "math", "utf8",
                                            "coroutine", "os",    NULL};
        for (i = 0; names[i]; i++) {
            lua_getglobal(L, names[i]);
            lua_setfield(L, -2, names[i]);
        }
    }
    lua_pop(L, 1);
    open_vibeml(L, s);
    if (s->profile == VML_PROFILE_SCRIPT) {
        if (load_cached(L, &coroutine_prelude_bc, coroutine_prelude, sizeof coroutine_prelude - 1,
                        "=prelude") != LUA_OK)
            return lua_error(L);
        lua_pushlightuserdata(L, &vml__script_await_token);
        lua_getglobal(L, LUA_COLIBNAME);
        lua_call(L, 2, 0);
    } else {
        if (load_cached(L, &strict_prelude_bc, strict_prelude, sizeof strict_prelude - 1,
                        "=strict") != LUA_OK)
            return lua_error(L);
        lua_call(L, 0, 0);
        vml_bounded_install(L); /* untrusted code: pattern matching and co. under the budget */
    }
    return 0;
}

vml_script *vml_script_from(lua_State *L)
{
    return *(vml_script **)lua_getextraspace(L);
}

int vml_script_new(vml_profile profile, const vml_limits *limits, vml_script **out, vml_err *err)
{
    vml_script *s = calloc(1, sizeof *s);
    int rc = 0, status;

    *out = NULL;
    if (!s)
        return vml_err_set(err, VML_ENOMEM, "out of memory creating a Lua state");
    s->profile = profile;
    if (limits)
        s->limits = *limits;
    s->out = profile == VML_PROFILE_SCRIPT ? stdout : stderr;
    snprintf(s->name, sizeof s->name, "%s", profile == VML_PROFILE_SCRIPT ? "script" : "plugin");
    s->L = lua_newstate(l_alloc, s);
    if (!s->L) {
        rc = vml_err_set(err, VML_ENOMEM, "out of memory creating a Lua state");
        goto out;
    }
    *(vml_script **)lua_getextraspace(s->L) = s; /* before any thread exists: all inherit it */
    lua_gc(s->L, LUA_GCGEN, 0, 0);
    vml_script_arm(s);
    lua_pushcfunction(s->L, setup);
    lua_pushlightuserdata(s->L, s);
    status = lua_pcall(s->L, 1, 0, 0);
    if (status != LUA_OK) {
        rc = vml_script_error_from(s->L, -1, status == LUA_ERRMEM ? VML_ENOMEM : VML_ELUA, NULL,
                                   err);
        vml_err_prefix(err, "setting up the Lua state");
        goto out;
    }
    *out = s;
    s = NULL;
out:
    vml_script_free(s);
    return rc;
}

void vml_script_free(vml_script *s)
{
    if (!s)
        return;
    if (s->L)
        lua_close(s->L);
    free(s->script_dir);
    free(s);
}

int vml_script_set_dir(vml_script *s, const char *dir, vml_err *err)
{
    char *copy = NULL;
    if (dir && !(copy = strdup(dir)))
        return vml_err_set(err, VML_ENOMEM, "out of memory");
    free(s->script_dir);
    s->script_dir = copy;
    return 0;
}

int vml_script_load(vml_script *s, const char *text, size_t len, const char *chunkname,
                    vml_err *err)
{
    int status = luaL_loadbufferx(s->L, text, len, chunkname, "t");
    return load_result(s, status, err);
}

int vml_script_load_embedded(vml_script *s, const struct vml_embed_file *f, const char *chunkname,
                             vml_err *err)
{
    int status = load_embedded(s->L, f, chunkname);
    return load_result(s, status, err);
}

int vml_script_loadfile(vml_script *s, const char *path, vml_err *err)
{
    char *text = NULL, chunk[1100];
    size_t len, skip = 0;
    int rc;
    rc = vml_paths_read(path, 0, &text, &len, err);
    if (rc < 0)
        return vml_err_prefix(err, "cannot read script");
    if (len >= 4 && memcmp(text, LUA_SIGNATURE, 4) == 0) {
        free(text);
        return vml_err_set(err, VML_ESANDBOX,
                           "%s: binary chunks are not allowed; pass the .lua "
                           "source",
                           path);
    }
    if (len > 0 && text[0] == '#') { /* a #! line, as lua.c allows; keep line numbers right */
        while (skip < len && text[skip] != '\n')
            skip++;
    }
    snprintf(chunk, sizeof chunk, "@%s", path);
    rc = vml_script_load(s, text + skip, len - skip, chunk, err);
    free(text);
    return rc;
}

/* }===================================================================== */

/* {===================================================================== protected calls */

/* Message handler: keeps error tables (adding traceback), turns anything else into text plus
 * a traceback. */
static int msgh(lua_State *L)
{
    if (lua_istable(L, 1)) {
        luaL_traceback(L, L, NULL, 1);
        lua_setfield(L, 1, "traceback");
        lua_settop(L, 1);
        return 1;
    }
    {
        const char *msg = lua_tostring(L, 1);
        if (!msg) {
            if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
                msg = lua_tostring(L, -1);
            else
                msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
        }
        luaL_traceback(L, L, msg, 1);
    }
    return 1;
}

int vml_script_error_from(lua_State *L, int idx, int code, const char *tb, vml_err *err)
{
    idx = lua_absindex(L, idx);
    if (lua_istable(L, idx)) {
        const char *msg, *hint, *trace, *where;
        lua_getfield(L, idx, "message");
        lua_getfield(L, idx, "hint");
        lua_getfield(L, idx, "traceback");
        lua_getfield(L, idx, "where");
        msg = lua_tostring(L, -4);
        hint = lua_tostring(L, -3);
        trace = lua_tostring(L, -2);
        where = lua_tostring(L, -1);
        if (!trace)
            trace = tb;
        vml_err_set(err, code, "%s%s%s%s%s%s", where ? where : "",
                    msg ? msg : "(error table without a message)", hint ? " (" : "",
                    hint ? hint : "", hint ? ")" : "", "");
        if (trace && err) {
            size_t n = strlen(err->msg);
            snprintf(err->msg + n, sizeof err->msg - n, "\n%s", trace);
        }
        lua_pop(L, 4);
        return code;
    }
    if (code == VML_ENOMEM && !lua_isstring(L, idx))
        return vml_err_set(err, code, "not enough memory");
    {
        const char *msg = lua_tostring(L, idx);
        if (!msg)
            msg = luaL_typename(L, idx);
        if (tb)
            return vml_err_set(err, code, "%s\n%s", msg, tb);
        return vml_err_set(err, code, "%s", msg);
    }
}

int vml_script_pcallx(vml_script *s, int nargs, int nres, int flags, vml_err *err)
{
    lua_State *L = s->L;
    int base = lua_gettop(L) - nargs; /* the function's index */
    int status, rc = 0;

    lua_pushcfunction(L, msgh);
    lua_insert(L, base);
    status = lua_pcall(L, nargs, nres, base);
    lua_remove(L, base);
    if (status == LUA_OK && s->trip && s->trip != VML_ECANCELED) {
        /* the code caught a limit error and returned normally: the limit still stands */
        char buf[128];
        lua_pop(L, nres == LUA_MULTRET ? lua_gettop(L) - base + 1 : nres);
        rc = vml_err_set(err, s->trip, "%s", vml_script_trip_text(s, s->trip, buf, sizeof buf));
        if (flags & VML_PCALL_KEEPERR)
            lua_pushstring(L, vml_err_msg(err));
        return rc;
    }
    if (status == LUA_OK)
        return 0;
    if (status == LUA_ERRMEM) {
        rc = vml_script_failcode(s, VML_ENOMEM);
        if (rc == VML_ELIMIT || rc == VML_ENOMEM) {
            char buf[128];
            vml_err_set(err, rc, "%s",
                        rc == VML_ELIMIT ? vml_script_trip_text(s, rc, buf, sizeof buf)
                                         : "not enough memory");
        } else {
            vml_script_error_from(L, -1, rc, NULL, err);
        }
    } else {
        rc = vml_script_failcode(s, VML_ELUA);
        vml_script_error_from(L, -1, rc, NULL, err);
    }
    if (!(flags & VML_PCALL_KEEPERR))
        lua_pop(L, 1);
    return rc;
}

int vml_script_pcall(vml_script *s, int nargs, int nres, vml_err *err)
{
    return vml_script_pcallx(s, nargs, nres, 0, err);
}

/* }===================================================================== */

/* {===================================================================== Lua-facing helpers */

int vml_lua_fail(lua_State *L, const vml_err *err)
{
    luaL_pushfail(L);
    lua_pushstring(L, vml_err_msg(err));
    lua_pushstring(L, vml_errname(err ? err->code : VML_EINVAL));
    return 3;
}

int vml_lua_raise(lua_State *L, const vml_err *err)
{
    lua_createtable(L, 0, 3);
    lua_pushstring(L, vml_errname(err ? err->code : VML_EINVAL));
    lua_setfield(L, -2, "code");
    lua_pushstring(L, vml_err_msg(err));
    lua_setfield(L, -2, "message");
    luaL_where(L, 1);
    lua_setfield(L, -2, "where");
    return lua_error(L);
}

/* }===================================================================== */
