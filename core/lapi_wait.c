/* SPDX-License-Identifier: MIT
 *
 * lapi_wait — waiting on the event loop (SCRIPT profile), merged into `vibeml`:
 *   vibeml.sleep(seconds)   suspends the calling task; other tasks and I/O go on meanwhile
 *
 * Uses: loop, lapi, libuv.
 */
#include <lauxlib.h>
#include <stdlib.h>

#include "lapi.h"
#include "loop.h"

typedef struct sleeper {
    uv_timer_t timer;
    vml_await await;
} sleeper;

static void sleeper_closed(uv_handle_t *h)
{
    free(h->data);
}

static void sleeper_fired(uv_timer_t *t)
{
    sleeper *sl = t->data;
    uv_close((uv_handle_t *)&sl->timer, sleeper_closed);
    vml_await_resume(&sl->await, 0);
}

static void sleeper_cancel(vml_await *a)
{
    sleeper *sl = a->data;
    uv_timer_stop(&sl->timer);
    uv_close((uv_handle_t *)&sl->timer, sleeper_closed);
}

static int l_sleep(lua_State *L)
{
    lua_Number secs = luaL_checknumber(L, 1);
    sleeper *sl;
    luaL_argcheck(L, secs >= 0 && secs <= 1e9, 1, "seconds must be between 0 and 1e9");
    sl = calloc(1, sizeof *sl);
    if (!sl)
        return luaL_error(L, "out of memory");
    /* the loop's clock is cached per iteration; Lua may have run since, so refresh it or the
     * sleep would end early by however long that was */
    uv_update_time(vml_loop());
    uv_timer_init(vml_loop(), &sl->timer);
    sl->timer.data = sl;
    sl->await.data = sl;
    /* at least 1 ms: a 0 ms timer started from a timer callback would run again in the same
     * timer phase (libuv 1.44), so a `while true do vibeml.sleep(0) end` task would starve
     * every other handle of the loop */
    uv_timer_start(&sl->timer, sleeper_fired, (uint64_t)(secs * 1000.0 + 0.5) + (secs < 0.001), 0);
    return vml_await_yield(L, &sl->await, sleeper_cancel);
}

static const luaL_Reg wait_funcs[] = {
    {"sleep", l_sleep},
    {NULL, NULL},
};

static int open_wait(lua_State *L)
{
    luaL_newlib(L, wait_funcs);
    return 1;
}

const vml_lapi vml_lapi_wait = {NULL, open_wait, VML_PROFILE_SCRIPT};
