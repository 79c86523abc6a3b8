/* SPDX-License-Identifier: MIT
 * Shared by the fuzz targets whose code under test is Lua (lua/vibeml/...): one SCRIPT-profile
 * state per process, a harness chunk that returns function(input) and checks the module's
 * contract itself, raising an error that starts with "FINDING" when it is broken. Any error
 * out of the harness aborts (a finding for libFuzzer and for the replay).
 *
 * Under libFuzzer (VML_FUZZ_LIBFUZZER) a line hook feeds Lua's own coverage (chunk, line, the
 * previous line: edges) to libFuzzer through its extra-counters section, so inputs that reach
 * new Lua lines are kept: the C coverage of the Lua VM alone says little about the module. */
#ifndef VML_FUZZ_LUA_H
#define VML_FUZZ_LUA_H

#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "script.h"

/* {===================================================== a private VIBEML_HOME, removed at exit */
static char fuzz_home[64];

static void fuzz_rm_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char sub[4096];
    if (d) {
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                if (e->d_type == DT_DIR)
                    fuzz_rm_tree(sub);
                else
                    unlink(sub);
            }
        closedir(d);
    }
    rmdir(path);
}

static void fuzz_home_remove(void)
{
    if (fuzz_home[0])
        fuzz_rm_tree(fuzz_home);
}

/* Points VIBEML_HOME (and the XDG folders) at a new temp folder: the code under test may open
 * the store or read the config; it must never touch the user's. */
static __attribute__((unused)) void fuzz_home_init(void)
{
    if (fuzz_home[0])
        return;
    snprintf(fuzz_home, sizeof fuzz_home, "/tmp/vml_fuzz_XXXXXX");
    if (!mkdtemp(fuzz_home)) {
        perror("fuzz: mkdtemp");
        exit(2);
    }
    setenv("VIBEML_HOME", fuzz_home, 1);
    setenv("XDG_CONFIG_HOME", fuzz_home, 1);
    setenv("XDG_DATA_HOME", fuzz_home, 1);
    setenv("XDG_STATE_HOME", fuzz_home, 1);
    setenv("XDG_CACHE_HOME", fuzz_home, 1);
    atexit(fuzz_home_remove);
}
/* }===================================================== */

#ifdef VML_FUZZ_LIBFUZZER
#define FUZZ_LUA_COV (1u << 16)
__attribute__((used,
               section("__libfuzzer_extra_counters"))) static uint8_t fuzz_lua_cov[FUZZ_LUA_COV];
static uintptr_t fuzz_lua_prev;

static void fuzz_lua_hook(lua_State *L, lua_Debug *ar)
{
    uintptr_t here;
    if (!lua_getinfo(L, "S", ar))
        return;
    here = ((uintptr_t)ar->source >> 4) * 2654435761u ^ (uintptr_t)ar->currentline * 40503u;
    fuzz_lua_cov[(here ^ fuzz_lua_prev) % FUZZ_LUA_COV]++;
    fuzz_lua_prev = here >> 1;
}
#endif

typedef struct fuzz_lua {
    vml_script *s;
    int fn; /* registry ref of the harness function */
} fuzz_lua;

/* Creates the state and compiles harness (text returning a function). Exits on failure: a
 * target that cannot start is a broken build, not a finding. */
static __attribute__((unused)) void fuzz_lua_init(fuzz_lua *f, const char *harness)
{
    vml_err err;
    fuzz_home_init();
    if (vml_script_new(VML_PROFILE_SCRIPT, NULL, &f->s, &err) < 0 ||
        vml_script_load(f->s, harness, strlen(harness), "=fuzz_harness", &err) < 0 ||
        vml_script_pcall(f->s, 0, 1, &err) < 0) {
        fprintf(stderr, "fuzz: cannot start the harness: %s\n", vml_err_msg(&err));
        exit(2);
    }
    f->fn = luaL_ref(f->s->L, LUA_REGISTRYINDEX);
#ifdef VML_FUZZ_LIBFUZZER
    lua_sethook(f->s->L, fuzz_lua_hook, LUA_MASKLINE, 0);
#endif
}

/* Calls the harness with the input as a Lua string (and extra string args); aborts on error. */
static __attribute__((unused)) void fuzz_lua_run(fuzz_lua *f, const uint8_t *data, size_t size)
{
    vml_err err;
    lua_State *L = f->s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, f->fn);
    lua_pushlstring(L, (const char *)data, size);
    if (vml_script_pcall(f->s, 1, 0, &err) < 0) {
        fprintf(stderr, "fuzz: FINDING: %s\n", vml_err_msg(&err));
        abort();
    }
    lua_settop(L, 0);
}

/* The whole of a target that passes only the input to its harness: the state is made on the
 * first input and kept for the process (libFuzzer's or the replay's). Returns 0 as
 * LLVMFuzzerTestOneInput does. */
static __attribute__((unused)) int fuzz_lua_input(const char *harness, const uint8_t *data,
                                                  size_t size)
{
    static fuzz_lua f;
    if (!f.s)
        fuzz_lua_init(&f, harness);
    fuzz_lua_run(&f, data, size);
    return 0;
}

#endif
