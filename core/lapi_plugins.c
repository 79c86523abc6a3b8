/* SPDX-License-Identifier: MIT
 *
 * lapi_plugins — the plugin registry for the host (SCRIPT profile), as vibeml._plugins. Lua code
 * uses it through require("vibeml.plugins"), which adds events and the MCP tool registry.
 *   list([kind]) -> { {name=, kind=, version=, source=, path=, functions=, loaded_at=, hash=} }
 *   status() -> {plugins=, errors=, dirs=, watching=, reloads=, failures=}
 *   get(name) -> {name=, kind=, ..., descriptor=} | nil
 *   call(name, fn, args) -> results (array) | nil, message, code   (JSON in, JSON out; runs in
 *       the plugin's own state under the plugin limits)
 *   set_dirs({dir, ...}) -> true | nil, message, code
 *   rescan() -> number of changes
 *   watch() -> true      unwatch() -> true
 *   wait([timeout_s]) -> { change, ... }   waits (as a task) until plugins change or the time
 *       is up (then {}); every state that waits gets each change once (HTTP sessions each
 *       follow the one process-wide watcher), one waiting task per state
 *
 * Misuse raises; runtime failures return nil, message, code (lapi.h).
 *
 * Uses: plugin, conv, loop, lapi.
 */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "luajson.h"
#include "loop.h"
#include "plugin.h"
#include "lapi.h"

/* Pushes j (takes the reference): 1 value, or nil, message, code when it cannot become Lua
 * values (a plugin's result nested too deep). */
static int push_json(lua_State *L, json_t *j)
{
    vml_err err;
    int rc = vml_luajson_push(L, j, &err);
    json_decref(j);
    if (rc < 0)
        return vml_lua_fail(L, &err);
    return 1;
}

static int l_list(lua_State *L)
{
    const char *kind = vml_lua_optcstr(L, 1, NULL);
    return push_json(L, vml_plugins_list(kind));
}

static int l_status(lua_State *L)
{
    return push_json(L, vml_plugins_status());
}

static int l_get(lua_State *L)
{
    const char *name = vml_lua_checkcstr(L, 1);
    vml_plugin *p = vml_plugins_get(name);
    json_t *list, *v, *out = NULL;
    size_t i;
    if (!p) {
        lua_pushnil(L);
        return 1;
    }
    list = vml_plugins_list(NULL);
    json_array_foreach (list, i, v)
        if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
            out = json_incref(v);
    json_decref(list);
    if (!out) {
        lua_pushnil(L);
        return 1;
    }
    json_object_set_new(out, "descriptor", vml_plugin_descriptor(p));
    return push_json(L, out);
}

static int l_call(lua_State *L)
{
    const char *name = vml_lua_checkcstr(L, 1);
    const char *fn = vml_lua_checkcstr(L, 2);
    vml_plugin *p;
    json_t *args = NULL, *out = NULL;
    vml_err err;
    int rc;
    vml_err_clear(&err);
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        if (vml_luajson_to_json(L, 3, &args, &err) < 0)
            return vml_lua_fail(L, &err);
        if (json_is_object(args) && json_object_size(args) == 0) {
            json_decref(args);
            args = json_array();
        }
        if (!json_is_array(args)) {
            json_decref(args);
            return vml_lapi_argerror(L, 3,
                                     "the arguments must be a list {a, b, ...}, not a "
                                     "table with named keys");
        }
    }
    p = vml_plugins_get(name);
    if (!p) {
        json_decref(args);
        vml_err_set(&err, VML_ENOENT, "no plugin named '%s' is loaded", name);
        return vml_lua_fail(L, &err);
    }
    rc = vml_plugin_call(p, fn, args, &out, &err);
    json_decref(args);
    if (rc < 0)
        return vml_lua_fail(L, &err);
    return push_json(L, out);
}

static int l_set_dirs(lua_State *L)
{
    const char *dirs[VML_PLUGIN_MAX_DIRS];
    vml_err err;
    int n, i;
    luaL_checktype(L, 1, LUA_TTABLE);
    n = (int)luaL_len(L, 1);
    if (n > VML_PLUGIN_MAX_DIRS)
        return vml_lapi_argerror(L, 1, "%d folders given, at most %d are searched", n,
                                 VML_PLUGIN_MAX_DIRS);
    for (i = 0; i < n; i++) {
        lua_rawgeti(L, 1, i + 1);
        dirs[i] = vml_lua_checkcstr(L, -1); /* kept alive by the table */
        lua_pop(L, 1);
    }
    if (vml_plugins_set_dirs(dirs, n, &err) < 0)
        return vml_lua_fail(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_rescan(lua_State *L)
{
    vml_err err;
    int n = vml_plugins_rescan(&err);
    if (n < 0)
        return vml_lua_fail(L, &err);
    lua_pushinteger(L, n);
    return 1;
}

static int l_watch(lua_State *L)
{
    vml_err err;
    if (vml_plugins_watch(&err) < 0)
        return vml_lua_fail(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_unwatch(lua_State *L)
{
    vml_plugins_unwatch();
    lua_pushboolean(L, 1);
    return 1;
}

/* {===================================================================== wait */

/* Change records are handed out once by the registry (vml_plugins_take_changes), but a process
 * can hold several Lua states that follow them: `vibeml serve --http` runs one per session, and
 * each must register the new tools and tell its own client. So every state that waits gets a
 * subscriber with its own queue: records taken from the registry are copied to all of them, and
 * each state may have one task waiting. The folders are still watched once per process. */
typedef struct waiter waiter;
typedef struct sub {
    struct sub *next;
    vml_script *s; /* the state (key); borrowed */
    json_t *queue; /* records not yet handed to this state */
    waiter *w;     /* its waiting task, or NULL */
} sub;

struct waiter {
    vml_await await;
    uv_timer_t timer;
    sub *sb;
};

static sub *g_subs;

static void waiter_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Takes the registry's new records and copies them to every subscriber's queue. */
static void distribute(void)
{
    json_t *changes = vml_plugins_take_changes();
    sub *sb;
    if (changes && json_array_size(changes) > 0)
        for (sb = g_subs; sb; sb = sb->next)
            json_array_extend(sb->queue, changes);
    json_decref(changes);
}

/* The subscriber's queue as a new array; the queue is emptied. */
static json_t *take_queue(sub *sb)
{
    json_t *out = sb->queue;
    sb->queue = json_array();
    return out;
}

static void finish_wait(waiter *w)
{
    lua_State *T = vml_await_thread(&w->await);
    vml_err err;
    json_t *changes = take_queue(w->sb);
    w->sb->w = NULL;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, waiter_closed);
    if (vml_luajson_push(T, changes, &err) < 0)
        lua_newtable(T);
    json_decref(changes);
    vml_await_resume(&w->await, 1); /* last: the task may run anything now */
}

static void on_change(void *ud)
{
    sub *sb, *next;
    (void)ud;
    distribute();
    /* a resumed task may run anything, even end its state: walk with care */
    for (sb = g_subs; sb; sb = next) {
        next = sb->next;
        if (sb->w && json_array_size(sb->queue) > 0)
            finish_wait(sb->w);
    }
}

static void on_wait_timeout(uv_timer_t *t)
{
    finish_wait(t->data);
}

static void wait_cancel(vml_await *a)
{
    waiter *w = a->data;
    w->sb->w = NULL;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, waiter_closed);
}

/* __gc of the subscriber's anchor in its state's registry: the state is closing. */
static int sub_gc(lua_State *L)
{
    sub **slot = lua_touserdata(L, 1), **pp;
    sub *sb = *slot;
    if (!sb)
        return 0;
    *slot = NULL;
    for (pp = &g_subs; *pp; pp = &(*pp)->next)
        if (*pp == sb) {
            *pp = sb->next;
            break;
        }
    if (sb->w) { /* its task was not cancelled: drop the wait without resuming anything */
        uv_timer_stop(&sb->w->timer);
        uv_close((uv_handle_t *)&sb->w->timer, waiter_closed);
    }
    json_decref(sb->queue);
    free(sb);
    return 0;
}

/* The subscriber of L's state, created on first use (anchored in the state's registry). */
static sub *sub_of(lua_State *L)
{
    vml_script *s = vml_script_from(L);
    sub *sb, **slot;
    for (sb = g_subs; sb; sb = sb->next)
        if (sb->s == s)
            return sb;
    slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    lua_newtable(L);
    lua_pushcfunction(L, sub_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    sb = calloc(1, sizeof *sb);
    if (!sb || !(sb->queue = json_array())) {
        free(sb);
        luaL_error(L, "out of memory");
        return NULL;
    }
    sb->s = s;
    *slot = sb;
    lua_setfield(L, LUA_REGISTRYINDEX, "vibeml.plugins.subscriber");
    sb->next = g_subs;
    g_subs = sb;
    return sb;
}

static int l_wait(lua_State *L)
{
    lua_Number secs = luaL_optnumber(L, 1, 3600);
    sub *sb;
    waiter *w;
    luaL_argcheck(L, secs >= 0 && secs <= 1e7, 1, "seconds must be between 0 and 1e7");
    vml_plugins_init(NULL);
    sb = sub_of(L);
    if (sb->w)
        return luaL_error(L, "another task of this state is already waiting for plugin changes");
    distribute();
    if (json_array_size(sb->queue) > 0 || secs == 0)
        return push_json(L, take_queue(sb));
    w = calloc(1, sizeof *w);
    if (!w)
        return luaL_error(L, "out of memory");
    uv_timer_init(vml_loop(), &w->timer);
    w->timer.data = w;
    w->await.data = w;
    w->sb = sb;
    uv_timer_start(&w->timer, on_wait_timeout, (uint64_t)(secs * 1000.0 + 0.5), 0);
    sb->w = w;
    vml_plugins_on_change(on_change, NULL);
    return vml_await_yield(L, &w->await, wait_cancel);
}

/* }===================================================================== */

static const luaL_Reg plugin_funcs[] = {
    {"list", l_list},         {"status", l_status}, {"get", l_get},     {"call", l_call},
    {"set_dirs", l_set_dirs}, {"rescan", l_rescan}, {"watch", l_watch}, {"unwatch", l_unwatch},
    {"wait", l_wait},         {NULL, NULL},
};

static int open_plugins(lua_State *L)
{
    luaL_newlib(L, plugin_funcs);
    return 1;
}

const vml_lapi vml_lapi_plugins = {"_plugins", open_plugins, VML_PROFILE_SCRIPT};
