/* SPDX-License-Identifier: MIT
 *
 * script — the Lua host: lua_State factory with two sandbox profiles, a per-state memory limit
 * (allocator), an instruction/time budget (count hook that pcall cannot swallow), the one
 * protected-call entry point, and the frozen global `vibeml` assembled from core/lapi_*.c.
 *
 * Profiles:
 *   VML_PROFILE_PLUGIN  base (no dofile/loadfile, text-only load), table, string (no dump), math,
 *                       utf8, coroutine, os.{clock,time,date}; strict globals; `vibeml` holds only
 *                       the modules whose vml_lapi.profiles include PLUGIN.
 *   VML_PROFILE_SCRIPT  the same libraries plus os.getenv, `print` to the state's output stream,
 *                       require of .lua files beside the script, and the whole `vibeml` API
 *                       (missing fields resolve lazily to the embedded module vibeml.api.<name>).
 * Neither profile opens io, os (the real one), package or debug.
 *
 * Threading: a state belongs to one thread at a time; its owner may hand it to another thread
 * and wait (plugin.c runs plugin states on watchdog workers). Creating states, loading chunks
 * and the chunk caches are safe on any thread; the `vibeml` modules a SCRIPT state opens are
 * loop-thread only (loop.h).
 *
 * Uses: err, embed, Lua 5.4, libuv (monotonic clock), pthreads.
 */
#ifndef VML_SCRIPT_H
#define VML_SCRIPT_H

#include <lua.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

typedef enum { VML_PROFILE_PLUGIN = 1, VML_PROFILE_SCRIPT = 2 } vml_profile;
#define VML_PROFILE_ALL (VML_PROFILE_PLUGIN | VML_PROFILE_SCRIPT)

typedef struct vml_limits {
    size_t max_memory;              /* bytes a state may hold; 0 = no limit */
    double timeout;                 /* seconds of wall time after vml_script_arm(); 0 = none */
    unsigned long max_instructions; /* VM instructions after vml_script_arm(); 0 = none */
} vml_limits;

/* Limits every plugin runs under (64 MiB, 2 s, 200 M instructions). */
extern const vml_limits vml_limits_plugin;

typedef struct vml_script {
    lua_State *L;
    vml_profile profile;
    vml_limits limits;
    size_t mem_used, mem_peak;
    long alloc_count;     /* allocations made (not frees); for fault injection */
    long fail_at;         /* tests: fail every growth from this allocation count on; 0 = off */
    int mem_refused;      /* the last growth was refused (see l_alloc) */
    uint64_t deadline_ns; /* uv_hrtime() value at which the time budget trips; 0 = none */
    unsigned long instr_used;
    int trip;           /* sticky: 0 or VML_ETIMEOUT / VML_EBUDGET / VML_ELIMIT / VML_ECANCELED */
    lua_State *running; /* the task thread now resumed (loop.c), else NULL: the main one */
    const int *task_cancel; /* that task's cancel code (loop.c), else NULL: the count hook
                               reads it to stop a cancelled task that never waits */
    FILE *out;              /* where print() writes: stdout for `vibeml run`, stderr for servers */
    char *script_dir;       /* folder searched by require (owned); NULL = embedded modules only */
    void *host;             /* the owner's pointer (server, plugin); borrowed */
    char name[128];         /* for messages: plugin name or script file */
} vml_script;

/* A C module exposed to Lua: core/lapi_<mod>.c defines `const vml_lapi vml_lapi_<mod>`; the build
 * collects them all into vml_lapi_all (no shared list to edit). open pushes the module table;
 * name NULL merges the table's fields into `vibeml` itself. */
typedef struct vml_lapi {
    const char *name;
    int (*open)(lua_State *L);
    unsigned profiles;
} vml_lapi;
extern const vml_lapi *const vml_lapi_all[];

/* Creates a state for profile with limits (NULL = none). On success *out is the caller's
 * (vml_script_free). Limits start counting at vml_script_arm(). */
int vml_script_new(vml_profile profile, const vml_limits *limits, vml_script **out, vml_err *err);
/* Closes the state and frees everything; NULL is a no-op. */
void vml_script_free(vml_script *s);
/* The vml_script owning L (any thread of it). Borrowed. */
vml_script *vml_script_from(lua_State *L);

/* Sets the folder searched by require for plain module names (copied). NULL clears it. */
int vml_script_set_dir(vml_script *s, const char *dir, vml_err *err);

/* Compiles text (never binary chunks) and pushes the function [-0, +1 on success, -].
 * chunkname as for lua_load ("@file.lua" or "=name"). */
int vml_script_load(vml_script *s, const char *text, size_t len, const char *chunkname,
                    vml_err *err);
/* Reads and compiles a file; pushes the function on success. */
int vml_script_loadfile(vml_script *s, const char *path, vml_err *err);
/* Loads an embedded Lua file (embed.h) and pushes its function: the build's bytecode of it when
 * there is some (the only binary chunks ever loaded: they come from this executable), else its
 * text. chunkname must be "@" + f->path, the name the bytecode was compiled under. */
struct vml_embed_file;
int vml_script_load_embedded(vml_script *s, const struct vml_embed_file *f, const char *chunkname,
                             vml_err *err);

/* The host's own constant chunk texts (preludes, plugin helpers) compiled once per process: the
 * first load compiles text and keeps its bytecode in *c, later loads undump that (these are the
 * only other binary chunks loaded; they never come from outside the process). Pushes the
 * function on success. A cache is static storage, zero-initialised. Any thread: one lock guards
 * every cache (plugins load on the loop thread, libuv's pool and watchdog workers).
 * vml_chunk_cache_free empties a cache; the next load compiles and keeps it again. */
typedef struct vml_chunk_cache {
    char *bc;
    size_t n, cap;
    int done;
} vml_chunk_cache;
int vml_script_load_cached(vml_script *s, vml_chunk_cache *c, const char *text, size_t len,
                           const char *chunkname, vml_err *err);
void vml_chunk_cache_free(vml_chunk_cache *c);

/* Starts the budget clock: deadline = now + limits.timeout, instruction count = 0, trip = 0. */
void vml_script_arm(vml_script *s);
/* Charges n units of work done in C (a pattern-matching step, an element moved) to the budget
 * of the state running L, as the count hook charges instructions: raises the limit error when
 * the instruction budget or the deadline is passed [-0, +0, v]. */
void vml_script_charge(lua_State *L, unsigned long n);
/* The watchdog's slot on this thread (watchdog.c): when set, vml_script_arm stores each new
 * deadline there (uv_hrtime ns, atomically) so a waiting thread can tell a stuck state. */
extern _Thread_local uint64_t *vml__script_watch;
/* What a C function that waits yields to the task running it (loop.c, vml_await_yield); the
 * coroutine prelude passes it through the script's own coroutines. Only its address counts. */
extern char vml__script_await_token;
/* Makes running Lua code in s raise as soon as possible with code (sticky until re-armed).
 * Safe to call from a libuv callback or a signal handler. */
void vml_script_trip(vml_script *s, int code);

/* Flags for vml_script_pcallx. */
#define VML_PCALL_KEEPERR 1 /* on failure leave the error object on the stack (one value) */

/* The only way C calls Lua: calls the function below nargs arguments [-(nargs+1), +(nres|0), -].
 * Never raises. On failure err gets "file:line: message" plus a traceback and the code:
 * VML_ELUA for errors, VML_ENOMEM for allocation failure, the trip code (VML_ETIMEOUT,
 * VML_EBUDGET, VML_ELIMIT, VML_ECANCELED) when a limit stopped the code. Error tables
 * {code=, message=, hint=} are kept: their message is used and a `traceback` field added. */
int vml_script_pcall(vml_script *s, int nargs, int nres, vml_err *err);
int vml_script_pcallx(vml_script *s, int nargs, int nres, int flags, vml_err *err);

/* Fills err from the error object at index idx of L (string, error table, other), code given.
 * Used by the task runner for coroutine errors. tb may be NULL (no traceback). */
int vml_script_error_from(lua_State *L, int idx, int code, const char *tb, vml_err *err);
/* A sentence for a trip code ("time limit of 1 s reached") written into buf. Returns buf. */
const char *vml_script_trip_text(vml_script *s, int code, char *buf, size_t n);
/* The code a failed call should report: the trip code if a limit tripped, else fallback. */
int vml_script_failcode(vml_script *s, int fallback);

/* Lua-facing helpers used by lapi_*.c ------------------------------------------------------ */
/* Pushes nil, message, code-name and returns 3: the "expected failure" convention. */
int vml_lua_fail(lua_State *L, const vml_err *err);
/* Raises a Lua error with a table {code=name, message=msg} [-0, +0, v]. Never returns. */
int vml_lua_raise(lua_State *L, const vml_err *err);
/* luaL_checkstring / luaL_optstring for strings that C uses as C strings (paths, names, ids,
 * URLs, SQL): a Lua string may hold NUL bytes, and C would silently cut it at the first one
 * ("HF_TOKEN\0x" naming HF_TOKEN), so one is refused with "bad argument #arg ... (must not
 * contain a NUL byte)" [-0, +0, v]. */
const char *vml_lua_checkcstr(lua_State *L, int arg);
const char *vml_lua_optcstr(lua_State *L, int arg, const char *def);
/* lua_tostring for such a string at idx that is not an argument (a table field): NULL when the
 * value is not a string or number or contains a NUL byte [-0, +0, m]. */
const char *vml_lua_tocstr(lua_State *L, int idx);
/* Pushes a guard userdata and returns its slot: store a malloc'd pointer there and it is freed
 * by the guard's __gc if a later call raises [-0, +1, m]. vml_lua_guard_free frees it now. */
char **vml_lua_guard(lua_State *L);
void vml_lua_guard_free(char **slot);
/* Freezes the table at idx: pushes a read-only proxy (a userdata; __index is the table, and
 * pairs() and # work through __pairs and __len) [-0, +1, m]. */
void vml_lua_freeze(lua_State *L, int idx);

#endif
