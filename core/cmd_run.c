/* SPDX-License-Identifier: MIT
 *
 * cmd_run — `vibeml run [--timeout SECONDS] [--max-memory MB] SCRIPT.lua [ARGS...]`: runs a Lua
 * script with the whole `vibeml` API, as a task on the event loop. `arg` is set as the `lua`
 * command sets it (arg[0] the script, arg[1..] its arguments) and the arguments are also the
 * chunk's `...`. Limits apply only when given: experiment scripts wait hours on jobs, and that
 * waiting happens in C, not in Lua instructions.
 *
 * Uses: script, runner, cmd.
 */
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "runner.h"
#include "script.h"

static const char run_usage[] =
    "usage: vibeml run [--timeout SECONDS] [--max-memory MB] SCRIPT.lua [ARGS...]\n"
    "\n"
    "Runs SCRIPT.lua with the whole `vibeml` Lua API (docs/lua-api.md, examples/).\n"
    "  --timeout SECONDS   stop the script after this much wall time (exit code 3)\n"
    "  --max-memory MB     stop the script when its Lua heap passes this size (exit code 3)\n"
    "Exit codes: 0 ok, 1 script error (file:line and traceback on stderr), 2 usage, 3 limit.\n";

static int parse_num(const char *opt, const char *text, double lo, double hi, double *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(text ? text : "", &end);
    if (!text || !*text || *end || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "vibeml run: %s needs a number between %g and %g, got '%s'\n", opt, lo, hi,
                text ? text : "");
        return -1;
    }
    *out = v;
    return 0;
}

static int run_main(int argc, char **argv)
{
    vml_limits limits = {0, 0, 0};
    vml_script *s = NULL;
    vml_err err;
    int i = 1, j, code;
    char dir[4096];
    const char *script, *slash;

    while (i < argc && argv[i][0] == '-' && argv[i][1]) {
        double v;
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "--timeout") == 0) {
            if (parse_num("--timeout", i + 1 < argc ? argv[i + 1] : NULL, 0.001, 1e8, &v) < 0)
                return VML_EXIT_USAGE;
            limits.timeout = v;
            i += 2;
        } else if (strcmp(argv[i], "--max-memory") == 0) {
            if (parse_num("--max-memory", i + 1 < argc ? argv[i + 1] : NULL, 1, 1 << 20, &v) < 0)
                return VML_EXIT_USAGE;
            limits.max_memory = (size_t)(v * 1024 * 1024);
            i += 2;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(run_usage, stdout);
            return VML_EXIT_OK;
        } else {
            fprintf(stderr, "vibeml run: unknown option '%s'\n%s", argv[i], run_usage);
            return VML_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "vibeml run: no script given\n%s", run_usage);
        return VML_EXIT_USAGE;
    }
    script = argv[i];
    if (vml_script_new(VML_PROFILE_SCRIPT, &limits, &s, &err) < 0) {
        fprintf(stderr, "vibeml run: %s\n", vml_err_msg(&err));
        return VML_EXIT_FAIL;
    }
    snprintf(s->name, sizeof s->name, "%s", script);
    slash = strrchr(script, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - script), script);
    else
        snprintf(dir, sizeof dir, ".");
    vml_script_set_dir(s, dir, NULL);
    /* arg table, as lua.c makes it */
    lua_createtable(s->L, argc - i, i + 1);
    for (j = 0; j < argc; j++) {
        lua_pushstring(s->L, argv[j]);
        lua_rawseti(s->L, -2, j - i);
    }
    lua_setglobal(s->L, "arg");
    if (vml_script_loadfile(s, script, &err) < 0) {
        fprintf(stderr, "vibeml run: %s\n", vml_err_msg(&err));
        vml_script_free(s);
        return err.code == VML_ENOENT || err.code == VML_EPERM ? VML_EXIT_FAIL : VML_EXIT_FAIL;
    }
    for (j = i + 1; j < argc; j++)
        lua_pushstring(s->L, argv[j]);
    code = vml_runner_exec(s, argc - i - 1, NULL);
    vml_script_free(s);
    return code;
}

const vml_cmd vml_cmd_run = {"run", run_main, "run a Lua script with the vibeml API", run_usage};
