/* SPDX-License-Identifier: MIT
 * libFuzzer target: plugin descriptor validation (core/plugin.c: vml_plugin_load_text ->
 * sandboxed load, copy of the descriptor out as JSON, validation of every kind, the trial
 * build() of a workflow with sample parameters and the check of its task).
 * The input is a descriptor as JSON; the plugin text decodes it in the plugin's own state and
 * turns marker strings into functions, so descriptors with handlers and builds are reachable:
 *   "@build"  function(p) return <the descriptor's _task field> end
 *   "@kit"    function(p) return vibeml.taskkit-style task from _kit with p (require taskkit)
 *   "@echo"   function(...) return ... end      "@nil" function() end
 *   "@err"    function() error("boom") end
 * Contract checked: no crash or leak; a failure has a message; a plugin that loads has the
 * name it was loaded under and a descriptor that encodes. Build: tests/fuzz/run.sh plugin. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_lua.h" /* fuzz_home_init */
#include "plugin.h"

static const char prelude[] =
    "local d = vibeml.json.decode(%s)\n"
    "if type(d) ~= 'table' then return d end\n"
    "local function fix(t, depth)\n"
    "  if depth > 20 then return end\n"
    "  for k, v in pairs(t) do\n"
    "    if v == '@build' then t[k] = function(p) return d._task end\n"
    "    elseif v == '@kit' then t[k] = function(p) local a = type(d._kit) == 'table' and d._kit "
    "or {}; a.p = p; return require('vibeml.taskkit').task(a) end\n"
    "    elseif v == '@echo' then t[k] = function(...) return ... end\n"
    "    elseif v == '@nil' then t[k] = function() end\n"
    "    elseif v == '@err' then t[k] = function() error('boom') end\n"
    "    elseif type(v) == 'table' then fix(v, depth + 1) end\n"
    "  end\n"
    "end\n"
    "fix(d, 0)\n"
    "return d\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *lit, *text;
    size_t eq = 0, i, n;
    vml_plugin *p = NULL;
    vml_err err;
    int rc;
    if (memchr(data, '\0', size))
        return 0; /* plugin files are text; NUL is refused before any of this */
    fuzz_home_init();
    /* a long bracket [==[ ... ]==] whose closing does not occur in the input */
    for (;;) {
        char close[40];
        close[0] = ']';
        memset(close + 1, '=', eq);
        close[eq + 1] = ']';
        close[eq + 2] = '\0';
        if (eq > 30)
            return 0;
        for (i = 0; i + eq + 2 <= size; i++)
            if (memcmp(data + i, close, eq + 2) == 0)
                break;
        if (i + eq + 2 > size)
            break;
        eq++;
    }
    lit = malloc(size + 2 * eq + 9);
    n = 0;
    lit[n++] = '[';
    memset(lit + n, '=', eq);
    n += eq;
    lit[n++] = '[';
    lit[n++] = '\n'; /* a newline right after [[ is dropped: the input's first byte is kept */
    memcpy(lit + n, data, size);
    n += size;
    lit[n++] = '\n'; /* so the input's own tail cannot join the closing bracket */
    lit[n++] = ']';
    memset(lit + n, '=', eq);
    n += eq;
    lit[n++] = ']';
    lit[n] = '\0';
    text = malloc(sizeof prelude + n);
    snprintf(text, sizeof prelude + n, prelude, lit);
    rc = vml_plugin_load_text("fz", text, strlen(text), "=fz", NULL, &p, &err);
    if (rc < 0 && !vml_err_msg(&err)[0]) {
        fprintf(stderr, "fuzz: FINDING a failed load without a message\n");
        abort();
    }
    if (rc == 0) {
        json_t *d = vml_plugin_descriptor(p);
        char *s = d ? json_dumps(d, JSON_COMPACT) : NULL;
        if (!d || !s || strcmp(json_string_value(json_object_get(d, "name")), "fz") != 0) {
            fprintf(stderr, "fuzz: FINDING a loaded plugin's descriptor is unusable\n");
            abort();
        }
        free(s);
        json_decref(d);
        vml_plugin_free(p);
    }
    free(lit);
    free(text);
    return 0;
}
