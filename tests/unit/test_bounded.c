/* SPDX-License-Identifier: MIT
 *
 * Unit tests for core/bounded: the pattern functions, string.rep and the table functions that
 * plugin states get instead of the library's own, and the refusal of __gc.
 *
 * 1. Same results: a corpus of find/match/gmatch/gsub calls (captures, anchors, %b, %f, back
 *    references, sets, every repetition, replacement strings/tables/functions, errors) runs in a
 *    SCRIPT state (Lua's own string library) and in a PLUGIN state (ours); the transcripts must
 *    be identical.
 * 2. Bounded: the hangs found by the attack (pattern bombs, empty string.rep, table.move over
 *    2^62 slots, insert/sort on a huge __len, a finalizer that loops) each end with a limit
 *    error; with Lua's own functions each of them runs for hours.
 */
#include "support.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const vml_limits quick = {64u << 20, 1.0, 50000000ul};
/* for work that must finish, however loaded the machine: Lua's own loops would run for hours */
static const vml_limits roomy = {64u << 20, 120.0, 0};

/* Lua code that prints every case into a transcript string and returns it. */
static const char corpus[] =
    "local out = {}\n"
    "local function put(...)\n"
    "  local t = table.pack(...)\n"
    "  for i = 1, t.n do t[i] = type(t[i]) .. ':' .. tostring(t[i]) end\n"
    "  out[#out + 1] = table.concat(t, ',')\n"
    "end\n"
    "local function try(f, ...)\n"
    "  local r = table.pack(pcall(f, ...))\n"
    "  if not r[1] then\n"
    "    put('error', (tostring(r[2]):gsub('^[^:]*:%d+: ', '')))\n"
    "  else put(table.unpack(r, 2, r.n)) end\n"
    "end\n"
    "local S = { 'hello world', '  trim me  ', 'a,b,,c', 'THE (quick) fox', 'key = value',\n"
    "  'aaa', '', 'x', '[[nested]] [x]', 'f(a(b)c)d', 'THE END', 'one two  three',\n"
    "  'abc123def456', '\\0a\\0b', 'caf\\195\\169', 'a.b.c', '%d%%', '$100 ^up' }\n"
    "local P = { 'o', 'l+', 'l*', 'l-', 'l?', '^h', 'd$', '^$', '(o)(r)', '()o()', '%a+',\n"
    "  '%s*(.-)%s*$', '^%s*(.-)%s*$', '([^,]*)', '%((%a+)%)', '%b()', '%b[]', '%f[%a]%a+',\n"
    "  '%f[%A]', '(%a+)%s*=%s*(%w+)', '(a)%1', '(%a)%1', '[%a_][%w_]*', '[^%s]+', '[a-c]+',\n"
    "  '[%]]', '[]]', '[^]]+', '.-', '.', '(.)(.)', '%.', '%%', '%d+', '%D+', '%u+', '%l+',\n"
    "  '%x+', '%p', '%c', '%g+', '%w-d', '^(%w+)', 'e(%a*)$', '(h)(e)(l)(l)(o)', '',\n"
    "  '^', '$', 'a*$', '%$%d+', '%^', '[%^]', '[a-]', '[-a]', '[%a-]', '%z', 'x*',\n"
    "  '(()a)', '%0', '(', ')', '%', '[a', '%b', '%bx', '%f', '%fa', '%1', '(%1)', '%9' }\n"
    "for _, s in ipairs(S) do\n"
    "  for _, p in ipairs(P) do\n"
    "    try(string.find, s, p)\n"
    "    try(string.find, s, p, 3)\n"
    "    try(string.find, s, p, -4)\n"
    "    try(string.find, s, p, 1, true)\n"
    "    try(string.match, s, p)\n"
    "    try(string.match, s, p, 2)\n"
    "    try(string.gsub, s, p, '<%0>')\n"
    "    try(string.gsub, s, p, '%1', 2)\n"
    "    try(string.gsub, s, p, { o = 'O', l = false, hello = 1 })\n"
    "    try(string.gsub, s, p, function(a, b) if b then return b .. a end end)\n"
    "    try(function()\n"
    "      local t = {}\n"
    "      for a, b in string.gmatch(s, p) do t[#t + 1] = tostring(a) .. '|' .. tostring(b) end\n"
    "      return table.concat(t, ';')\n"
    "    end)\n"
    "    try(function()\n"
    "      local t = {}\n"
    "      for a in string.gmatch(s, p, 4) do t[#t + 1] = tostring(a) end\n"
    "      return table.concat(t, ';')\n"
    "    end)\n"
    "  end\n"
    "end\n"
    "try(string.find, 'abc', 'b', 10)\n"
    "try(string.find, 'abc', '', 4)\n"
    "try(string.find, 'abc', '', 5)\n"
    "try(string.find, 'a+b', '+', 1, true)\n"
    "try(string.find, 'a\\0b', '\\0', 1)\n"
    "try(string.gsub, 'abc', '%w', '%2')\n"
    "try(string.gsub, 'abc', '%w', '%')\n"
    "try(string.gsub, 'abc', '%w', '%x')\n"
    "try(string.gsub, 'abc', '(%w)', '%1%1', -1)\n"
    "try(string.gsub, 'abc', '%w', 5)\n"
    "try(string.gsub, 'abc', '%w', true)\n"
    "try(string.gsub, 'abc', '%w', function() return {} end)\n"
    "try(string.gsub, 'hello', '()', '%1')\n"
    "try(string.gsub, 'hello', '', '-')\n"
    "try(string.gsub, 'abc', '.', { a = 1, b = true })\n"
    "try(string.match, 'x', ('(x?)'):rep(33))\n"
    "try(string.match, ('a'):rep(300), ('a?'):rep(300) .. ('a'):rep(300))\n"
    "try(string.rep, 'ab', 3, '-')\n"
    "try(string.rep, '', 5)\n"
    "try(string.rep, 'x', 0)\n"
    "try(string.rep, 'x', -1, 'y')\n"
    "try(function() local t = {1, 2, 3}; table.insert(t, 2, 9); table.insert(t, 7)\n"
    "  table.remove(t, 1); table.remove(t); return table.concat(t, ',') end)\n"
    "try(function() local t = {5, 2, 8, 1}; table.sort(t); table.sort(t, function(a, b)\n"
    "  return a > b end); return table.concat(t, ',') end)\n"
    "try(function() return table.concat(table.move({1, 2, 3}, 1, 3, 2), ',') end)\n"
    "try(table.insert, {}, 5, 1)\n"
    "try(table.insert, nil, 1)\n"
    "try(table.move, {}, -1, math.maxinteger, 1)\n"
    "try(table.sort, 'x')\n"
    "try(function() return ('x'):rep(3) .. ('abc'):find('b') end)\n"
    "return table.concat(out, '\\n')\n";

static char *transcript(vml_profile profile)
{
    vml_script *s = NULL;
    vml_err e;
    size_t len;
    const char *text;
    char *copy;
    vml_limits big = {256u << 20, 120.0, 0};
    assert_int_equal(vml_script_new(profile, &big, &s, &e), 0);
    vml_script_arm(s);
    if (vml_test_eval(s, corpus, 1, &e) != 0)
        fail_msg("corpus failed: %s", vml_err_msg(&e));
    text = lua_tolstring(s->L, -1, &len);
    assert_non_null(text);
    copy = malloc(len + 1);
    memcpy(copy, text, len + 1);
    vml_script_free(s);
    return copy;
}

static void test_same_results_as_lua(void **state)
{
    char *lua = transcript(VML_PROFILE_SCRIPT), *ours = transcript(VML_PROFILE_PLUGIN);
    (void)state;
    if (strcmp(lua, ours) != 0) {
        /* show the first differing line */
        const char *a = lua, *b = ours;
        int line = 1;
        while (*a && *a == *b) {
            if (*a == '\n')
                line++;
            a++;
            b++;
        }
        fail_msg("transcripts differ at line %d:\nLua : %.200s\nours: %.200s", line, a, b);
    }
    assert_true(strlen(lua) > 20000); /* the corpus really ran */
    free(lua);
    free(ours);
}

/* Each must stop at a limit: the instruction budget or the time limit. */
static void expect_stopped(const char *code)
{
    vml_err e;
    int rc = vml_test_eval_plugin(code, &quick, &e);
    if (rc != VML_EBUDGET && rc != VML_ETIMEOUT)
        fail_msg("not stopped by a limit (rc %d): %s\n%s", rc, vml_err_msg(&e), code);
}

static void test_pattern_bombs(void **state)
{
    (void)state;
    expect_stopped("return string.find(('a'):rep(3000), 'a*a*a*a*a*a*a*b')");
    expect_stopped("return ('a'):rep(3000):match('.-.-.-.-.-.-.-b')");
    expect_stopped("return string.gsub(('a'):rep(3000), 'a*a*a*a*a*a*a*b', 'x')");
    expect_stopped("for m in string.gmatch(('a'):rep(3000), '(a*)(a*)(a*)(a*)(a*)b') do end");
    expect_stopped("return string.find(('(('):rep(100000), '%b()%b()%b()x')");
    /* a caught limit error is raised again at the next instruction */
    expect_stopped("for i = 1, 100 do pcall(string.find, ('a'):rep(3000), 'a*a*a*a*a*a*b') end\n"
                   "return 'escaped'");
    /* plain find is linear: an 8 MB needle in 24 MB of 'a' answers at once */
    assert_int_equal(vml_test_eval_plugin("local h = ('a'):rep(24 << 20)\n"
                                          "local n = ('a'):rep(8 << 20) .. 'b'\n"
                                          "assert(h:find(n, 1, true) == nil)",
                                          &roomy, NULL),
                     0);
}

static void test_c_loops(void **state)
{
    (void)state;
    /* nothing to repeat: the empty string at once (Lua's loop copies 0 bytes 2^63 times) */
    assert_int_equal(vml_test_eval_plugin("assert(string.rep('', math.maxinteger) == '')\n"
                                          "assert(('x'):rep(0) .. string.rep('', 1 << 62, '') "
                                          "== '')",
                                          &roomy, NULL),
                     0);
    expect_stopped("table.move({}, 1, 1 << 62, 2)");
    expect_stopped("local t = setmetatable({}, {__len = function() return 1 << 62 end})\n"
                   "table.insert(t, 1, 'x')");
    expect_stopped("local t = setmetatable({}, {__len = function() return 1 << 62 end})\n"
                   "table.remove(t, 1)");
    expect_stopped("local t = setmetatable({}, {__len = function() return (1 << 31) - 2 end,\n"
                   "  __index = function() return 1 end})\n"
                   "table.sort(t)");
}

static void test_finalizers_refused(void **state)
{
    vml_err e;
    (void)state;
    /* a finalizer that loops would run with the hook off: setmetatable refuses it */
    assert_int_equal(vml_test_eval_plugin("setmetatable({}, {__gc = function() while true do "
                                          "end end}) collectgarbage()",
                                          &quick, &e),
                     VML_ELUA);
    assert_non_null(strstr(vml_err_msg(&e), "'__gc' finalizer is not allowed"));
    /* the placeholder trick (__gc set to a non-function first, replaced later) too */
    assert_int_equal(vml_test_eval_plugin("local mt = {__gc = true}\n"
                                          "setmetatable({}, mt)\n"
                                          "mt.__gc = function() while true do end end\n"
                                          "collectgarbage()",
                                          &quick, &e),
                     VML_ELUA);
    /* a __gc added after setmetatable never runs (Lua marks objects at setmetatable) */
    assert_int_equal(vml_test_eval_plugin("local mt = {}\n"
                                          "setmetatable({}, mt)\n"
                                          "mt.__gc = function() while true do end end\n"
                                          "collectgarbage() collectgarbage()",
                                          &roomy, &e),
                     0);
    /* metatables without __gc keep working */
    assert_int_equal(vml_test_eval_plugin("local t = setmetatable({}, {__index = function() "
                                          "return 7 end})\nassert(t.x == 7)",
                                          &roomy, &e),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_results_as_lua),
        cmocka_unit_test(test_pattern_bombs),
        cmocka_unit_test(test_c_loops),
        cmocka_unit_test(test_finalizers_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
