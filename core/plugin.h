/* SPDX-License-Identifier: MIT
 *
 * plugin — discovers, loads, validates and swaps VibeML plugins, and reloads them when their files
 * change (docs/plugins.md).
 *
 * A plugin is `<name>.lua` or a folder `<name>/` holding `init.lua`, found first in the shipped
 * trees compiled into the binary (`workflows/`, `plugins/` and their subfolders, see embed.h), then
 * in the user's folders (`$XDG_CONFIG_HOME/vibeml/plugins`, or the folders given to
 * vml_plugins_set_dirs, e.g. `vibeml serve --plugins DIR`). Each is visited in sorted order;
 * dotfiles and `*.disabled` are skipped; names are cleaned to [a-z0-9_]. A user plugin with a
 * shipped plugin's name overrides it (with a notice); removing the user's file brings the shipped
 * version back.
 *
 * Every plugin VERSION runs in a fresh PLUGIN-profile Lua state under vml_limits_plugin: text
 * chunks only, no files, processes or network, 64 MiB, 2 s and 200 M instructions per call. Its
 * returned table is checked before the version goes live: here only the envelope (kind, name,
 * version, and the functions its kind names); the rest by the kind's rules, Lua data in
 * lua/vibeml/plugin_kinds.lua: a schema run by schema.c, Lua checks, and for a workflow a trial
 * build() with sample parameters whose task must pass workflows.check_task (the one home of the
 * task invariants). A version that fails keeps the previous one serving; the failure (message
 * with file:line) is kept for status() and reported as a change.
 *
 * Data crosses between a plugin and the host only as JSON (jansson values): the descriptor's data
 * is copied out with its functions removed (their dotted paths are listed, e.g. "build",
 * "tools.1.handler"), and vml_plugin_call() runs such a function inside the plugin's own state
 * with JSON arguments and JSON results, under the plugin limits. A data-only plugin (no
 * functions in its descriptor) keeps just the copied data: its state is closed once it validates.
 *
 * Hot reload: vml_plugins_watch() puts libuv fs-event watchers on the user folders and their
 * plugin subfolders; events are debounced (250 ms) and a rescan reloads only plugins whose
 * content hash (crypto_generichash over their files) changed. Each rescan appends change
 * records that vml_plugins_take_changes() hands out and that wake a waiter (lapi_plugins).
 *
 * Last resort (watchdog.h): loads and calls of user plugins run on a worker thread while the
 * caller waits; one that runs 3 s past its own deadline (code the count hook cannot reach) is
 * given up, its plugin disabled (status shows why), and serving goes on. Shipped plugins are
 * compiled in and trusted: they run on the calling thread.
 *
 * Threading: the registry is the process's one instance and belongs to the loop thread: every
 * function below except vml_plugin_load_text and vml_plugin_free is called there. Loading runs
 * elsewhere: a rescan after file events loads the changed plugins on libuv's thread pool, and
 * each user plugin's load and call runs on a watchdog worker while its caller waits. A load
 * touches only the new version's own state and the copies its job owns, plus what is safe on
 * any thread: the chunk caches (script.h, one lock) and the plugin kinds (compiled once under a
 * lock, then read-only; their hooks' state is used under that lock, never held while a plugin's
 * own code runs). Shipped plugins load and run on the calling thread.
 *
 * Uses: script, schema, conv, embed, paths, watchdog, err, libuv, libsodium, jansson, pthreads.
 */
#ifndef VML_PLUGIN_H
#define VML_PLUGIN_H

#include <jansson.h>

#include "err.h"

/* Debounce of file-system events before a rescan, milliseconds. */
#define VML_PLUGIN_DEBOUNCE_MS 250
#define VML_PLUGIN_NAME_MAX 64
#define VML_PLUGIN_MAX_DIRS 8

typedef struct vml_plugin vml_plugin;

/* Loads the shipped plugins and the user folders (once; later calls return 0 at once). The
 * default user folder is the config folder's plugins/ unless vml_plugins_set_dirs ran first.
 * Failures of single plugins are not errors here (see status); returns 0 or a VML code. */
int vml_plugins_init(vml_err *err);

/* Replaces the user folders (copied; n <= VML_PLUGIN_MAX_DIRS) and rescans them. Folders that do
 * not exist are reported in status. Returns 0 or a VML code. */
int vml_plugins_set_dirs(const char *const *dirs, int n, vml_err *err);

/* Rescans the user folders now: loads new and changed plugins, drops removed ones. Returns the
 * number of change records it added (>= 0) or a VML code. */
int vml_plugins_rescan(vml_err *err);

/* Starts watching the user folders (creating the default one if missing). Idempotent. */
int vml_plugins_watch(vml_err *err);
/* Stops watching and closes the watchers (they close on the next loop turn). */
void vml_plugins_unwatch(void);

/* Called (once) whenever change records were added, e.g. to wake a waiting task. NULL clears. */
void vml_plugins_on_change(void (*fn)(void *ud), void *ud);

/* The change records since the last call: a new JSON array of {name, kind, action, source, path,
 * version, message, at} where action is added|changed|removed|reverted|failed|overridden. */
json_t *vml_plugins_take_changes(void);

/* Live plugins, sorted by name: a new JSON array of {name, kind, version, source, path,
 * functions, loaded_at, hash}. kind NULL = all kinds. */
json_t *vml_plugins_list(const char *kind);
/* status: a new JSON object {plugins=[list entries + error fields], errors=[{name, path,
 * message, at}], dirs=[{path, exists, watched}], watching=bool, reloads=N, failures=N}. */
json_t *vml_plugins_status(void);

/* The live plugin of that name, or NULL. Borrowed: valid until the next rescan. */
vml_plugin *vml_plugins_get(const char *name);
/* Its descriptor data (functions removed): a new reference the caller owns (json_decref), or
 * NULL when out of memory. Decoded from the compact JSON text the version keeps. */
json_t *vml_plugin_descriptor(const vml_plugin *p);
const char *vml_plugin_kind(const vml_plugin *p);

/* Calls the plugin function at dotted path fn ("build", "tools.2.handler") with the JSON values
 * of args (an array; NULL = no arguments) inside the plugin's state, under vml_limits_plugin.
 * On success *out is a new JSON array of the function's results (nil -> null). Errors carry the
 * plugin's name and the file:line of the failure. */
int vml_plugin_call(vml_plugin *p, const char *fn, const json_t *args, json_t **out, vml_err *err);

/* Loads one plugin from text into a fresh state and validates it, without registering it. For
 * tests and `vibeml doctor`; any thread. On success *out is the caller's (vml_plugin_free). */
int vml_plugin_load_text(const char *name, const char *text, size_t len, const char *chunkname,
                         const char *dir, vml_plugin **out, vml_err *err);
void vml_plugin_free(vml_plugin *p);

/* Registers a plugin built by vml_plugin_load_text under its name as a user plugin (takes
 * ownership), as a reload would. For tests. */
int vml_plugins_put(vml_plugin *p, vml_err *err);

/* Tests only: called with every new plugin state before its code runs (e.g. to add a C function
 * that ignores the limits, to exercise the watchdog). NULL in the product. */
struct lua_State;
extern void (*vml__plugin_test_open)(struct lua_State *L);

/* Frees every plugin and watcher (process exit, tests). The registry can be initialised again. */
void vml_plugins_shutdown(void);

#endif
