/* SPDX-License-Identifier: MIT
 *
 * test_plugin — the plugin loader and registry: sandboxed load, descriptor validation, JSON-only
 * calls, and reloads that hit a syntax error, a runtime error, a 1 GB allocation and an infinite
 * loop (bare and inside pcall), each asserting that version 1 still answers. Also: unchanged
 * content is not reloaded, user plugins override shipped ones and removing them reverts.
 * The watchdog: a call and a load that never return to the VM (a test-only C function standing
 * for any escape from the limits) are given up; the plugin is disabled, later plugins load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <sodium.h>

#include "plugin.h"
#include "watchdog.h"

#include <lua.h>

static char g_dir[320], g_home[256];

static const char wf_v1[] =
    "local kit = require 'vibeml.taskkit'\n"
    "return { kind = 'workflow', name = 'mywf', title = 'Test', description = 'A test workflow',\n"
    "  version = '%s', method = 'lora', model_sizes = { min_b = 0.1, max_b = 10 },\n"
    "  vram = { overhead_gb = 1 }, throughput = { k = 4 },\n"
    "  hyperparameters = { steps = { type = 'integer', default = 10, min = 1, max = 100,\n"
    "                                description = 'steps' } },\n"
    "  secrets = { required = {}, optional = { 'HF_TOKEN' } },\n"
    "  gpu = { required = true, min_count = 1, max_count = 1, multi_node = false },\n"
    "  build = function(p)\n"
    "    %s\n"
    "    return kit.task { workflow = 'mywf', p = p, gpu = true, setup = 'true',\n"
    "                      run = 'python train.py', files = {} }\n"
    "  end }\n";

/* The descriptor's version (copied: the descriptor is a new reference, released here). */
static const char *desc_version(const vml_plugin *p)
{
    static char buf[64];
    json_t *d = vml_plugin_descriptor(p);
    assert_non_null(d);
    snprintf(buf, sizeof buf, "%s", json_string_value(json_object_get(d, "version")));
    json_decref(d);
    return buf;
}

static void write_file(const char *name, const char *text)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_wf(const char *version, const char *build_extra, const char *prefix)
{
    char text[4096];
    snprintf(text, sizeof text, "%s", prefix ? prefix : "");
    snprintf(text + strlen(text), sizeof text - strlen(text), wf_v1, version,
             build_extra ? build_extra : "");
    write_file("mywf.lua", text);
}

static int setup(void **state)
{
    const char *dirs[1];
    (void)state;
    snprintf(g_home, sizeof g_home, "/tmp/vml-test-plugin-XXXXXX");
    assert_non_null(mkdtemp(g_home));
    snprintf(g_dir, sizeof g_dir, "%s/plugins", g_home);
    assert_int_equal(mkdir(g_dir, 0700), 0);
    setenv("VIBEML_HOME", g_home, 1);
    dirs[0] = g_dir;
    assert_int_equal(vml_plugins_set_dirs(dirs, 1, NULL), 0);
    json_decref(vml_plugins_take_changes());
    return 0;
}

static int teardown(void **state)
{
    char cmd[600];
    (void)state;
    vml_plugins_shutdown();
    uv_run(uv_default_loop(), UV_RUN_NOWAIT);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_home);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* The live mywf answers build() and has this version. */
static void assert_serving(const char *version)
{
    vml_plugin *p = vml_plugins_get("mywf");
    json_t *args, *out = NULL, *task;
    vml_err err;
    assert_non_null(p);
    assert_string_equal(desc_version(p), version);
    args = json_pack("[{s:s, s:s, s:[{s:s, s:i, s:s, s:s, s:b}]}]", "model", "a/b", "dataset",
                     "c/d", "candidates", "accelerator", "L4", "count", 1, "cloud", "aws", "region",
                     "us-east-1", "spot", 1);
    vml_err_clear(&err);
    assert_int_equal(vml_plugin_call(p, "build", args, &out, &err), 0);
    task = json_array_get(out, 0);
    assert_true(json_is_object(task));
    assert_string_equal(json_string_value(json_object_get(task, "run")), "python train.py");
    json_decref(args);
    json_decref(out);
}

/* Rescans and returns the one change's action (and its message in msg). */
static const char *rescan_action(char *msg, size_t n)
{
    static char action[32];
    json_t *c, *first;
    int added = vml_plugins_rescan(NULL);
    c = vml_plugins_take_changes();
    action[0] = '\0';
    if (msg)
        msg[0] = '\0';
    if (added > 0 && (first = json_array_get(c, json_array_size(c) - 1))) {
        snprintf(action, sizeof action, "%s", json_string_value(json_object_get(first, "action")));
        if (msg && json_is_string(json_object_get(first, "message")))
            snprintf(msg, n, "%s", json_string_value(json_object_get(first, "message")));
    }
    json_decref(c);
    return action;
}

static void test_load_and_call(void **state)
{
    json_t *list;
    (void)state;
    write_wf("1.0.0", NULL, NULL);
    assert_string_equal(rescan_action(NULL, 0), "added");
    assert_serving("1.0.0");
    list = vml_plugins_list("workflow");
    /* four shipped + mywf */
    assert_int_equal(json_array_size(list), 5);
    json_decref(list);
    /* unchanged content: no reload, no change */
    write_wf("1.0.0", NULL, NULL);
    assert_int_equal(vml_plugins_rescan(NULL), 0);
    write_wf("1.1.0", NULL, NULL);
    assert_string_equal(rescan_action(NULL, 0), "changed");
    assert_serving("1.1.0");
}

/* needle: alternatives separated by '|' (an endless loop trips the instruction budget or the
 * time limit first, depending on how fast the machine is: a sanitizer build, a loaded CI) */
static int contains_any(const char *msg, const char *needle)
{
    char alt[256];
    const char *p = needle;
    while (*p) {
        size_t n = strcspn(p, "|");
        snprintf(alt, sizeof alt, "%.*s", (int)n, p);
        if (strstr(msg, alt))
            return 1;
        p += n;
        if (*p == '|')
            p++;
    }
    return 0;
}

static void check_broken_reload(const char *broken_text, const char *needle)
{
    char msg[2048];
    json_t *st;
    write_wf("1.0.0", NULL, NULL);
    assert_string_equal(rescan_action(NULL, 0), "added");
    assert_serving("1.0.0");
    write_file("mywf.lua", broken_text);
    assert_string_equal(rescan_action(msg, sizeof msg), "failed");
    if (!contains_any(msg, needle))
        fail_msg("expected '%s' in: %s", needle, msg);
    assert_serving("1.0.0"); /* v1 still answers */
    st = vml_plugins_status();
    assert_int_equal(json_array_size(json_object_get(st, "errors")), 1);
    json_decref(st);
    /* the same broken content again is not retried */
    assert_int_equal(vml_plugins_rescan(NULL), 0);
    /* fixed: v2 goes live and the error clears */
    write_wf("2.0.0", NULL, NULL);
    assert_string_equal(rescan_action(NULL, 0), "changed");
    assert_serving("2.0.0");
    st = vml_plugins_status();
    assert_int_equal(json_array_size(json_object_get(st, "errors")), 0);
    json_decref(st);
}

static void test_reload_syntax_error(void **state)
{
    (void)state;
    check_broken_reload("return { kind = 'workflow', name = 'mywf' ,,, }\n", "mywf.lua:1:");
}

static void test_reload_runtime_error(void **state)
{
    (void)state;
    check_broken_reload("local t = nil\nreturn t.field\n", "mywf.lua:2:");
}

static void test_reload_oom(void **state)
{
    (void)state;
    check_broken_reload("local s = string.rep('x', 1 << 30)\nreturn { kind = 'workflow' }\n",
                        "memory limit of 64 MB");
}

static void test_reload_oom_in_pcall(void **state)
{
    (void)state;
    check_broken_reload("local t = {}\nfor i = 1, 100 do pcall(function() t[i] = string.rep('x',"
                        " 1 << 28) end) end\nreturn { kind = 'workflow' }\n",
                        "memory limit");
}

static void test_reload_infinite_loop(void **state)
{
    (void)state;
    check_broken_reload("while true do end\n", "instruction budget|time limit");
}

static void test_reload_infinite_loop_in_pcall(void **state)
{
    (void)state;
    check_broken_reload("while true do pcall(function() while true do end end) end\n",
                        "instruction budget|time limit");
}

static void test_reload_loop_in_trial_build(void **state)
{
    char text[4096];
    (void)state;
    snprintf(text, sizeof text, wf_v1, "1.5.0", "while true do end");
    check_broken_reload(text, "trial build with sample parameters");
}

static void test_validation(void **state)
{
    static const struct {
        const char *text, *needle;
    } cases[] = {
        {"return 42", "must return a table"},
        {"return { kind = 'nope', name = 'x', version = '1' }",
         "kind 'nope' is not one of error_rules, gpu_map, tools, watchdog, workflow"},
        {"return { kind = 'workflow', name = 'other', version = '1' }", "does not match"},
        {"return { kind = 'workflow', name = 'x', version = '1', title = 't', description = 'd',"
         " method = 'magic' }",
         "descriptor.model_sizes: required field missing; model_sizes = "
         "{min_b=, max_b=}"},
        {"return { kind = 'workflow', name = 'x', version = '1', title = 't', description = 'd',"
         " method = 'magic', model_sizes = { min_b = 0, max_b = 1 }, vram = {}, throughput = {},"
         " hyperparameters = {}, gpu = { required = false, min_count = 0, max_count = 0 } }",
         "descriptor.method: \"magic\" is not allowed (one of: \"qlora\", \"lora\", \"full\", "
         "\"other\"); the training method"},
        {"return { kind = 'workflow', name = 'x', version = '1', title = 't', description = 'd',"
         " method = 'lora', model_sizes = { min_b = 0, max_b = 1 }, vram = {}, throughput = {},"
         " hyperparameters = {}, gpu = { required = false, min_count = 0, max_count = 0 } }",
         "descriptor.build: missing or not a function; a workflow needs build = function(p)"},
        {"return { kind = 'workflow', name = 'x', version = '1', title = 't', description = 'd',"
         " method = 'lora', model_sizes = { min_b = 0, max_b = 1 }, vram = {}, throughput = {},"
         " hyperparameters = { lr = { type = 'number', min = 1, max = 0, description = 'x' } },"
         " gpu = { required = false, min_count = 0, max_count = 0 }, build = function() end }",
         "descriptor: hyperparameter 'lr': min is above max"},
        {"return { kind = 'workflow', name = 'x', version = '1', title = 't', description = 'd',"
         " method = 'lora', model_sizes = { min_b = 0, max_b = 1 }, vram = {}, throughput = {},"
         " hyperparameters = { lr = { type = 'float', description = 'x' } },"
         " gpu = { required = false, min_count = 0, max_count = 0 }, build = function() end }",
         "descriptor.hyperparameters.lr.type: \"float\" is not allowed (one of: \"integer\", "
         "\"number\", \"string\", \"boolean\")"},
        {"return { kind = 'workflow', name = 'x', version = '1', title = 't', description = 'd',"
         " method = 'lora', model_sizes = { min_b = 0, max_b = 1 }, vram = {}, throughput = {},"
         " hyperparameters = {}, gpu = { required = false, min_count = 2, max_count = 1 },"
         " build = function() end }",
         "descriptor: gpu: max_count is below min_count"},
        {"return { kind = 'tools', name = 'x', version = '1', tools = { { name = 'ok', "
         "description = 'd', inputSchema = {} } } }",
         "descriptor.tools.1.handler: missing or not a function"},
        {"return { kind = 'gpu_map', name = 'x', version = '1', gpus = {} }",
         "descriptor.cloud: required field missing"},
        {"return { kind = 'tools', name = 'x', version = '1', tools = { { name = 'Bad Name', "
         "description = 'd', inputSchema = {}, handler = function() end } } }",
         "snake_case"},
        {"return { kind = 'error_rules', name = 'x', version = '1', rules = { { match = 'a' } } }",
         "message"},
        {"return { kind = 'watchdog', name = 'x', version = '1', rules = { { id = 'r', "
         "action = 'explode' } } }",
         "descriptor.rules[1].action: \"explode\" is not allowed (one of: \"warn\", \"stop\")"},
        {"return { kind = 'watchdog', name = 'x', version = '1', rules = { { action = 'warn' } } }",
         "descriptor.rules[1].id: required field missing"},
        {"os.execute('true')", "field 'execute'"},
        {"io.open('/etc/passwd')", "undeclared global 'io'"},
        {"return require('socket')", "not found"},
        {"return string.dump(print)", "dump"},
        {"x = 1", "assignment to undeclared global"},
        {"local f, e = load(string.char(27) .. 'Lua') error(e)", "binary chunk"},
        {"local t = { kind = 'gpu_map', name = 'x', version = '1', cloud = 'c', gpus = {} }\n"
         "t.gpus.A100 = { inner = { 1, 2, {} } }; t.gpus.A100.inner[3].back = t.gpus\n"
         "return t",
         "refers to itself at gpus.A100.inner.3.back"},
        {"local t = { kind = 'gpu_map', name = 'x', version = '1', cloud = 'c', gpus = {} }\n"
         "local n = t.gpus; for i = 1, 40 do n.x = {}; n = n.x end\n"
         "return t",
         "nested too deeply at gpus.x.x.x"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vml_plugin *p = NULL;
        vml_err err;
        vml_err_clear(&err);
        assert_true(vml_plugin_load_text("x", cases[i].text, strlen(cases[i].text), "=x", NULL, &p,
                                         &err) < 0);
        assert_null(p);
        if (!strstr(err.msg, cases[i].needle))
            fail_msg("case %zu: expected '%s' in: %s", i, cases[i].needle, err.msg);
    }
}

static void test_build_secret_values_refused(void **state)
{
    char text[4096];
    vml_plugin *p = NULL;
    vml_err err;
    (void)state;
    snprintf(text, sizeof text,
             "local kit = require 'vibeml.taskkit'\n"
             "return { kind = 'workflow', name = 'mywf', title = 'T', description = 'D',\n"
             "  version = '1', method = 'lora', model_sizes = { min_b = 0, max_b = 1 },\n"
             "  vram = {}, throughput = {}, hyperparameters = {}, gpu = { required = false,\n"
             "  min_count = 0, max_count = 0 }, build = function(p)\n"
             "    local t = kit.task { workflow = 'mywf', p = p, setup = '', run = 'x' }\n"
             "    t.secrets = { HF_TOKEN = 'hf_secretvalue' }\n"
             "    return t end }\n");
    vml_err_clear(&err);
    assert_true(vml_plugin_load_text("mywf", text, strlen(text), "=mywf", NULL, &p, &err) < 0);
    assert_non_null(strstr(err.msg, "secret names only"));
}

static void test_build_local_mount_refused(void **state)
{
    const char *text =
        "local kit = require 'vibeml.taskkit'\n"
        "return { kind = 'workflow', name = 'mywf', title = 'T', description = 'D',\n"
        "  version = '1', method = 'lora', model_sizes = { min_b = 0, max_b = 1 },\n"
        "  vram = {}, throughput = {}, hyperparameters = {}, gpu = { required = false,\n"
        "  min_count = 0, max_count = 0 }, build = function(p)\n"
        "    local t = kit.task { workflow = 'mywf', p = p, setup = '', run = 'x' }\n"
        "    t.file_mounts = { ['/keys'] = '~/.ssh' }\n"
        "    return t end }\n";
    vml_plugin *p = NULL;
    vml_err err;
    (void)state;
    vml_err_clear(&err);
    assert_true(vml_plugin_load_text("mywf", text, strlen(text), "=mywf", NULL, &p, &err) < 0);
    assert_non_null(strstr(err.msg, "never a path on this machine"));
}

/* A source with "://" that is still a local path: the C check of old let it through, the one
 * rule (workflows.check_task, run on the trial build) refuses it. The Lua side of the same
 * rule, at every build, is tests/lua/test_workflows.lua. */
static void test_build_file_url_mount_refused(void **state)
{
    const char *text =
        "local kit = require 'vibeml.taskkit'\n"
        "return { kind = 'workflow', name = 'mywf', title = 'T', description = 'D',\n"
        "  version = '1', method = 'lora', model_sizes = { min_b = 0, max_b = 1 },\n"
        "  vram = {}, throughput = {}, hyperparameters = {}, gpu = { required = false,\n"
        "  min_count = 0, max_count = 0 }, build = function(p)\n"
        "    local t = kit.task { workflow = 'mywf', p = p, setup = '', run = 'x' }\n"
        "    t.file_mounts = { ['/x'] = { source = '/etc://x', mode = 'COPY' } }\n"
        "    return t end }\n";
    vml_plugin *p = NULL;
    vml_err err;
    (void)state;
    vml_err_clear(&err);
    assert_true(vml_plugin_load_text("mywf", text, strlen(text), "=mywf", NULL, &p, &err) < 0);
    assert_null(p);
    if (!strstr(err.msg, "trial build with sample parameters: the task: file_mounts./x = /etc://x: "
                         "only buckets (s3://, gs://, ...) may be mounted, never a path on this "
                         "machine"))
        fail_msg("unexpected message: %s", err.msg);
}

static void test_override_and_revert(void **state)
{
    char msg[1024];
    vml_plugin *p;
    const char *text =
        "return { kind = 'workflow', name = 'smoke', title = 'Mine', description = 'mine',\n"
        "  version = '9.0.0', method = 'other', model_sizes = { min_b = 0, max_b = 1 },\n"
        "  vram = {}, throughput = {}, hyperparameters = {},\n"
        "  gpu = { required = false, min_count = 0, max_count = 0, multi_node = false },\n"
        "  build = function(p) return { name = 'x', resources = {}, run = 'true',\n"
        "    envs = { VIBEML_PARAMS = '{}' } } end }\n";
    (void)state;
    p = vml_plugins_get("smoke");
    assert_non_null(p);
    write_file("smoke.lua", text);
    assert_string_equal(rescan_action(msg, sizeof msg), "overridden");
    assert_non_null(strstr(msg, "overrides the shipped plugin 'smoke'"));
    p = vml_plugins_get("smoke");
    assert_string_equal(desc_version(p), "9.0.0");
    /* disabled = removed: the shipped version serves again */
    {
        char a[512], b[512];
        snprintf(a, sizeof a, "%s/smoke.lua", g_dir);
        snprintf(b, sizeof b, "%s/smoke.lua.disabled", g_dir);
        assert_int_equal(rename(a, b), 0);
    }
    assert_string_equal(rescan_action(NULL, 0), "reverted");
    p = vml_plugins_get("smoke");
    assert_string_equal(desc_version(p), "1.0.0");
}

static void test_folder_plugin_and_tools(void **state)
{
    char path[512];
    vml_plugin *p;
    json_t *args, *out = NULL;
    vml_err err;
    (void)state;
    snprintf(path, sizeof path, "%s/mytools", g_dir);
    assert_int_equal(mkdir(path, 0700), 0);
    write_file("mytools/helper.lua", "return { greet = function(n) return 'hi ' .. n end }\n");
    write_file("mytools/init.lua",
               "local h = require 'helper'\n"
               "return { kind = 'tools', name = 'mytools', version = '1.0.0', tools = {\n"
               "  { name = 'greet', description = 'says hi', inputSchema = { type = 'object' },\n"
               "    handler = function(args) return { text = h.greet(args.who) } end } } }\n");
    assert_string_equal(rescan_action(NULL, 0), "added");
    p = vml_plugins_get("mytools");
    assert_non_null(p);
    args = json_pack("[{s:s}]", "who", "ada");
    vml_err_clear(&err);
    assert_int_equal(vml_plugin_call(p, "tools.1.handler", args, &out, &err), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "text")),
                        "hi ada");
    json_decref(out);
    json_decref(args);
    /* a change to a helper file of a folder plugin is a change of the plugin */
    write_file("mytools/helper.lua", "return { greet = function(n) return 'hello ' .. n end }\n");
    assert_string_equal(rescan_action(NULL, 0), "changed");
    /* removal */
    snprintf(path, sizeof path, "rm -rf '%s/mytools'", g_dir);
    assert_int_equal(system(path), 0);
    assert_string_equal(rescan_action(NULL, 0), "removed");
    assert_null(vml_plugins_get("mytools"));
    /* a file that is not a plugin, dotfiles and *.disabled are ignored */
    write_file(".hidden.lua", "error('never loaded')");
    write_file("notes.txt", "x");
    write_file("old.lua.disabled", "error('never loaded')");
    assert_int_equal(vml_plugins_rescan(NULL), 0);
}

/* {===================================================================== the watchdog */

/* A C function the count hook cannot interrupt, standing for any escape from the limits that
 * bounded.c does not know yet: it spins until the test releases it. */
static int g_release;

static int spin(lua_State *L)
{
    while (!__atomic_load_n(&g_release, __ATOMIC_ACQUIRE))
        usleep(1000);
    lua_pushinteger(L, 1);
    return 1;
}

static void add_spin(lua_State *L)
{
    lua_pushglobaltable(L);
    lua_pushliteral(L, "spin");
    lua_pushcfunction(L, spin);
    lua_rawset(L, -3); /* past the strict-globals guard */
    lua_pop(L, 1);
}

static void arm_spin(void)
{
    __atomic_store_n(&g_release, 0, __ATOMIC_RELEASE);
    vml_watchdog_grace_ns = 100000000ull;
    vml__plugin_test_open = add_spin;
}

/* Lets the abandoned threads finish and waits until they released their states. */
static void release_spin(void)
{
    __atomic_store_n(&g_release, 1, __ATOMIC_RELEASE);
    while (vml_watchdog_stuck() > 0)
        usleep(10000);
    vml__plugin_test_open = NULL;
}

static const char good_tools[] =
    "return { kind = 'tools', name = 'goodtools', version = '1', tools = {\n"
    "  { name = 'good_echo', description = 'echo', inputSchema = { type = 'object' },\n"
    "    handler = function(a) return { said = a.x } end } } }\n";

static void assert_good_tools_answer(void)
{
    vml_plugin *p = vml_plugins_get("goodtools");
    json_t *args = json_pack("[{s:s}]", "x", "hi"), *out = NULL;
    vml_err err;
    assert_non_null(p);
    assert_int_equal(vml_plugin_call(p, "tools.1.handler", args, &out, &err), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "said")), "hi");
    json_decref(out);
    json_decref(args);
}

static void test_watchdog_stuck_call(void **state)
{
    vml_plugin *p;
    json_t *out = NULL, *st;
    vml_err err;
    char *dump;
    (void)state;
    arm_spin();
    write_file("stuckt.lua",
               "return { kind = 'tools', name = 'stuckt', version = '1', tools = {\n"
               "  { name = 'hang', description = 'hangs', inputSchema = { type = 'object' },\n"
               "    handler = function() return { n = spin() } end },\n"
               "  { name = 'fine', description = 'fine', inputSchema = { type = 'object' },\n"
               "    handler = function() return { ok = true } end } } }\n");
    assert_string_equal(rescan_action(NULL, 0), "added");
    p = vml_plugins_get("stuckt");
    assert_non_null(p);
    assert_int_equal(vml_plugin_call(p, "tools.2.handler", NULL, &out, &err), 0);
    json_decref(out);
    /* the handler never returns to the VM: the watchdog gives its thread up */
    vml_err_clear(&err);
    assert_int_equal(vml_plugin_call(p, "tools.1.handler", NULL, &out, &err), VML_ETIMEOUT);
    assert_null(out);
    assert_non_null(strstr(vml_err_msg(&err), "abandoned"));
    assert_int_equal(vml_watchdog_stuck(), 1);
    /* the plugin is off (its state belongs to the stuck thread) and says so */
    assert_int_equal(vml_plugin_call(p, "tools.2.handler", NULL, &out, &err), VML_ESTATE);
    assert_non_null(strstr(vml_err_msg(&err), "disabled"));
    st = vml_plugins_status();
    dump = json_dumps(st, 0);
    assert_non_null(strstr(dump, "did not stop at its time limit"));
    free(dump);
    json_decref(st);
    /* everything else keeps working: a new plugin loads and answers */
    write_file("goodtools.lua", good_tools);
    assert_string_equal(rescan_action(NULL, 0), "added");
    assert_good_tools_answer();
    release_spin();
}

static void test_watchdog_stuck_load(void **state)
{
    json_t *c;
    char *dump;
    (void)state;
    arm_spin();
    /* sorted: the stuck one loads first, then the good one must still load */
    write_file("a_stuck.lua", "spin()\nreturn {}\n");
    write_file("goodtools.lua", good_tools);
    assert_int_equal(vml_plugins_rescan(NULL), 2);
    c = vml_plugins_take_changes();
    dump = json_dumps(c, 0);
    assert_non_null(strstr(dump, "\"failed\""));
    assert_non_null(strstr(dump, "did not stop at its time limit"));
    assert_non_null(strstr(dump, "\"added\""));
    free(dump);
    json_decref(c);
    assert_null(vml_plugins_get("a_stuck"));
    assert_good_tools_answer();
    assert_int_equal(vml_watchdog_stuck(), 1);
    release_spin();
}

/* }===================================================================== */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_and_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_syntax_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_runtime_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_oom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_oom_in_pcall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_infinite_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_infinite_loop_in_pcall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_loop_in_trial_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_secret_values_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_local_mount_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_file_url_mount_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_override_and_revert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_plugin_and_tools, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watchdog_stuck_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watchdog_stuck_load, setup, teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
