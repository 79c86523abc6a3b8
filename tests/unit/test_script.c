/* SPDX-License-Identifier: MIT
 *
 * Unit tests for core/script: the sandbox suite (docs/style.md). Each case tries to break out of
 * the plugin profile or past its limits and must fail cleanly: infinite loops bare and under
 * pcall, memory bombs, every route to os.execute/io/debug/string.dump/bytecode/C modules, writes
 * to `vibeml`, and allocation failures forced at the Nth allocation.
 */
#include "support.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

static const vml_limits quick = {64u << 20, 0.3, 50000000ul};
/* memory tests must hit the memory limit, not the clock, even on a slow sanitizer build */
static const vml_limits roomy = {64u << 20, 60.0, 0};

static void test_plugin_profile_basics(void **state)
{
    vml_err e;
    (void)state;
    assert_int_equal(
        vml_test_eval_plugin("assert(type(string.format) == 'function')\n"
                             "assert(math.floor(2.5) == 2 and utf8.char(233) == '\\xc3\\xa9')\n"
                             "assert(type(table.concat) == 'function' and coroutine.wrap)\n"
                             "assert(type(os.time()) == 'number' and os.clock and os.date)\n"
                             "assert(vibeml.json.decode('[1]')[1] == 1)\n"
                             "assert(vibeml.null ~= nil and vibeml.version)\n"
                             "assert(vibeml.sleep == nil and vibeml.fs == nil, 'no waits/files')\n"
                             "local ok = pcall(load, 'return 1'); assert(ok)\n"
                             "assert(load('return 40 + 2')() == 42)\n",
                             &quick, &e),
        0);
}

static void test_infinite_loop(void **state)
{
    vml_err e;
    int rc;
    (void)state;
    rc = vml_test_eval_plugin("while true do end", &quick, &e);
    assert_true(rc == VML_ETIMEOUT || rc == VML_EBUDGET);
}

static void test_infinite_loop_under_pcall(void **state)
{
    vml_err e;
    int rc;
    (void)state;
    /* the error is caught every time, but the hook re-arms and raises again */
    rc = vml_test_eval_plugin("for i = 1, 1e9 do pcall(function() while true do end end) end\n"
                              "return 'escaped'",
                              &quick, &e);
    assert_true(rc == VML_ETIMEOUT || rc == VML_EBUDGET);
    rc = vml_test_eval_plugin("while true do\n"
                              "  local ok, err = pcall(function() while true do end end)\n"
                              "  ok, err = xpcall(function() while true do end end, function(m)\n"
                              "    while true do end end)\n"
                              "end",
                              &quick, &e);
    assert_true(rc == VML_ETIMEOUT || rc == VML_EBUDGET);
    rc = vml_test_eval_plugin("local co = coroutine.wrap(function() while true do end end)\n"
                              "while true do pcall(co) end",
                              &quick, &e);
    assert_true(rc == VML_ETIMEOUT || rc == VML_EBUDGET);
}

static void test_instruction_budget(void **state)
{
    vml_limits lim = {64u << 20, 0, 2000000ul};
    vml_err e;
    (void)state;
    assert_int_equal(vml_test_eval_plugin("local x = 0 for i = 1, 1e8 do x = x + i end", &lim, &e),
                     VML_EBUDGET);
    assert_non_null(strstr(e.msg, "instruction budget"));
}

static void test_memory_bomb(void **state)
{
    vml_err e;
    (void)state;
    assert_int_equal(vml_test_eval_plugin("local s = string.rep('x', 1 << 30)", &roomy, &e),
                     VML_ELIMIT);
    assert_non_null(strstr(e.msg, "memory limit"));
    /* pcall cannot swallow it: the limit is sticky */
    assert_int_equal(vml_test_eval_plugin("for i = 1, 100 do pcall(string.rep, 'x', 1 << 30) end\n"
                                          "return 'escaped'",
                                          &roomy, &e),
                     VML_ELIMIT);
    assert_int_equal(
        vml_test_eval_plugin("local t = {} for i = 1, 1e9 do t[i] = {i, i, i} end", &roomy, &e),
        VML_ELIMIT);
}

/* Each snippet must raise (rc < 0) without tripping a limit. */
static void test_breakout_routes(void **state)
{
    static const char *const attempts[] = {
        "os.execute('true')",
        "io.open('/etc/passwd')",
        "debug.getregistry()",
        "string.dump(print)",
        "('x').dump(print)",
        "getmetatable('').__index.dump(print)",
        "package.loadlib('libc.so.6', 'system')",
        "dofile('/etc/passwd')",
        "loadfile('/etc/passwd')",
        "require('io')",
        "require('debug')",
        "require('package')",
        "require('socket.core')",
        "require('../../etc/passwd')",
        "assert(load('\\27Lua\\x54\\0', 'x', 'b'))",
        "assert(load('\\27LuaT\\0\\x19\\x93\\r\\n\\x1a\\n'))",
        "assert(load(function() return nil end, 'x', 'bt'))",
        "collectgarbage('stop')",
        "collectgarbage('generational')",
        "os.getenv('HOME')",
        "os.exit(0)",
        "os.remove('/tmp/x')",
        "assert(rawget(_G, 'io') ~= nil or rawget(_G, 'debug') ~= nil or rawget(_G, 'package') "
        "~= nil, 'absent')",
        "vibeml.x = 1",
        "rawset(vibeml, 'x', 1)",
        "setmetatable(vibeml, nil)",
        "vibeml.json.encode = print",
        "rawset(vibeml.json, 'encode', print)",
        "getmetatable(vibeml).__newindex = nil",
        "x = 1",
        "print(undefined_name)",
        "setmetatable(_G, nil)",
        "rawequal(vibeml.sleep, nil) assert(vibeml.proc == nil and vibeml.fs == nil) "
        "vibeml.fs.read('/etc/passwd')",
        NULL,
    };
    int i;
    (void)state;
    for (i = 0; attempts[i]; i++) {
        vml_err e;
        int rc = vml_test_eval_plugin(attempts[i], &quick, &e);
        if (rc != VML_ELUA)
            fail_msg("breakout attempt %d (%s) gave %s: %s", i, attempts[i], vml_errname(rc),
                     rc ? e.msg : "no error");
    }
}

static void test_readonly_vibeml_still_readable(void **state)
{
    vml_err e;
    (void)state;
    assert_int_equal(vml_test_eval_plugin("local n = 0\n"
                                          "for k, v in pairs(vibeml) do n = n + 1 end\n"
                                          "assert(n >= 5, 'pairs over vibeml')\n"
                                          "assert(getmetatable(vibeml) == 'read-only')\n"
                                          "assert(require('vibeml') == vibeml)\n",
                                          &quick, &e),
                     0);
}

/* vibeml.E in a plugin state: every code of VML_ERRNO_MAP by name, nothing else, frozen, and an
 * unknown name raises instead of reading as nil */
static void test_error_code_table(void **state)
{
    static const char code[] = "local want = 0\n"
#define CHECK(name, val, msg)                                                                      \
    "assert(vibeml.E." #name " == 'VML_" #name "', '" #name "') want = want + 1\n"
        VML_ERRNO_MAP(CHECK)
#undef CHECK
            "local n = 0 for k, v in pairs(vibeml.E) do n = n + 1 end\n"
            "assert(n == want, 'codes: ' .. n .. ', expected ' .. want)\n"
            "local ok, m = pcall(function() return vibeml.E.ENOPE end)\n"
            "assert(not ok and m:find(\"no code 'ENOPE' (known: EINVAL, ENOMEM\", 1, true), m)\n"
            "assert(not pcall(function() vibeml.E.EINVAL = 'x' end))\n"
            "assert(not pcall(rawset, vibeml.E, 'EX', 'x'))\n"
            "assert(getmetatable(vibeml.E) == 'read-only')\n";
    vml_err e;
    (void)state;
    assert_int_equal(vml_test_eval_plugin(code, &quick, &e), 0);
}

static void test_error_location_and_tables(void **state)
{
    vml_script *s = NULL;
    vml_err e;
    (void)state;
    assert_int_equal(vml_script_new(VML_PROFILE_SCRIPT, NULL, &s, &e), 0);
    assert_int_equal(vml_script_load(s, "local x = 1\nerror('boom')\n", 26, "@job.lua", &e), 0);
    assert_int_equal(vml_script_pcall(s, 0, 0, &e), VML_ELUA);
    assert_non_null(strstr(e.msg, "job.lua:2: boom"));
    assert_non_null(strstr(e.msg, "stack traceback"));
    /* structured errors stay tables, with a traceback added */
    assert_int_equal(vml_test_eval(s, "error({code='X', message='m', hint='h'})", 0, &e), VML_ELUA);
    assert_non_null(strstr(e.msg, "m (h)"));
    assert_int_equal(vml_script_load(s, "error({code='X', message='m', hint='h'})", 40, "=t", &e),
                     0);
    assert_int_equal(vml_script_pcallx(s, 0, 0, VML_PCALL_KEEPERR, &e), VML_ELUA);
    assert_true(lua_istable(s->L, -1));
    lua_getfield(s->L, -1, "code");
    assert_string_equal(lua_tostring(s->L, -1), "X");
    lua_getfield(s->L, -2, "traceback");
    assert_true(lua_isstring(s->L, -1));
    lua_pop(s->L, 3);
    assert_non_null(strstr(e.msg, "m (h)"));
    /* a syntax error is reported with its line */
    assert_int_equal(vml_script_load(s, "x = = 1", 7, "@bad.lua", &e), VML_ELUA);
    assert_non_null(strstr(e.msg, "bad.lua:1:"));
    assert_int_equal(lua_gettop(s->L), 0);
    vml_script_free(s);
}

static void test_rearm_after_trip(void **state)
{
    vml_script *s = NULL;
    vml_err e;
    (void)state;
    assert_int_equal(vml_script_new(VML_PROFILE_PLUGIN, &quick, &s, &e), 0);
    vml_script_arm(s);
    assert_true(vml_test_eval(s, "while true do end", 0, &e) < 0);
    vml_script_arm(s);
    assert_int_equal(vml_test_eval(s, "return 1 + 1", 1, &e), 0);
    assert_int_equal(lua_tointeger(s->L, -1), 2);
    lua_pop(s->L, 1);
    vml_script_free(s);
}

/* Forces an allocation failure at the Nth allocation of a workload, for every N until the
 * workload completes: each run must end in success or a clean out-of-memory error, leave the
 * state usable, and leak nothing (AddressSanitizer's leak check runs in CI). */
static void test_alloc_failure_at_nth(void **state)
{
    static const char workload[] =
        "local t = vibeml.json.decode('{\"a\":[1,2,3,{\"b\":\"c\"}],\"d\":\"xyz\"}')\n"
        "local s = vibeml.json.encode(t)\n"
        "local parts = {}\n"
        "for i = 1, 20 do parts[#parts + 1] = string.format('%d:%s', i, s) end\n"
        "local ok = pcall(error, {code = 'X'})\n"
        "local f = load('return ' .. #parts)\n"
        "return table.concat(parts, ','):len() + f()";
    long n;
    int clean_fails = 0, successes = 0;
    (void)state;
    for (n = 1; n < 100000; n++) {
        vml_script *s = NULL;
        vml_err e;
        int rc;
        assert_int_equal(vml_script_new(VML_PROFILE_SCRIPT, NULL, &s, &e), 0);
        s->fail_at = s->alloc_count + n;
        rc = vml_test_eval(s, workload, 1, &e);
        if (rc == 0) {
            lua_pop(s->L, 1);
            if (s->alloc_count < s->fail_at) { /* the workload never reached allocation n */
                vml_script_free(s);
                successes++;
                break;
            }
            successes++;
        } else {
            if (rc != VML_ENOMEM && rc != VML_ELUA)
                fail_msg("allocation %ld: unexpected %s: %s", n, vml_errname(rc), e.msg);
            clean_fails++;
        }
        /* the state still works */
        s->fail_at = 0;
        assert_int_equal(lua_gettop(s->L), 0);
        assert_int_equal(vml_test_eval(s, "return 6 * 7", 1, &e), 0);
        assert_int_equal(lua_tointeger(s->L, -1), 42);
        lua_pop(s->L, 1);
        vml_script_free(s);
    }
    print_message("forced failures: %d clean, %d survived\n", clean_fails, successes);
    assert_true(clean_fails > 50);
    assert_true(successes >= 1);
}

static void test_memory_accounting(void **state)
{
    vml_script *s = NULL;
    vml_err e;
    size_t before;
    (void)state;
    assert_int_equal(vml_script_new(VML_PROFILE_SCRIPT, NULL, &s, &e), 0);
    before = s->mem_used;
    assert_int_equal(vml_test_eval(s,
                                   "local s = string.rep('x', 4 << 20) s = nil "
                                   "collectgarbage('collect')",
                                   0, &e),
                     0);
    assert_true(s->mem_peak >= before + (4u << 20));
    assert_true(s->mem_used < before + (1u << 20));
    vml_script_free(s);
}

static void test_script_profile_extras(void **state)
{
    vml_script *s = NULL;
    vml_err e;
    (void)state;
    assert_int_equal(vml_script_new(VML_PROFILE_SCRIPT, NULL, &s, &e), 0);
    assert_int_equal(vml_test_eval(s,
                                   "assert(type(vibeml.sleep) == 'function')\n"
                                   "assert(type(vibeml.fs.read) == 'function')\n"
                                   "assert(os.getenv('PATH'))\n"
                                   "assert(io == nil and debug == nil and package == nil)\n"
                                   "assert(os.execute == nil and string.dump == nil)\n"
                                   "x_global = 1\n" /* scripts may use globals */
                                   "assert(vibeml.nonexistent_field == nil)\n"
                                   "assert(require('vibeml.events').emit)\n",
                                   0, &e),
                     0);
    vml_script_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plugin_profile_basics),
        cmocka_unit_test(test_infinite_loop),
        cmocka_unit_test(test_infinite_loop_under_pcall),
        cmocka_unit_test(test_instruction_budget),
        cmocka_unit_test(test_memory_bomb),
        cmocka_unit_test(test_breakout_routes),
        cmocka_unit_test(test_readonly_vibeml_still_readable),
        cmocka_unit_test(test_error_location_and_tables),
        cmocka_unit_test(test_rearm_after_trip),
        cmocka_unit_test(test_alloc_failure_at_nth),
        cmocka_unit_test(test_memory_accounting),
        cmocka_unit_test(test_script_profile_extras),
        cmocka_unit_test(test_error_code_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
