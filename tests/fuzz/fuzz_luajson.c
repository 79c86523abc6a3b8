/* SPDX-License-Identifier: MIT
 * libFuzzer target: core/luajson.c, the only Lua <-> JSON converter (tool arguments and results,
 * plugin data, vibeml.json). Each input is read as JSON by jansson and pushed into Lua
 * (vml_luajson_push), then converted back (vml_luajson_to_json): the value must come back equal,
 * shape included (empty array stays array). The same text also goes through
 * vibeml.json.decode/encode (compact and indented): decoding what encode wrote gives the same
 * value (compared as sorted-key text), and decode must
 * accept what jansson accepts (up to the nesting limit). Build: tests/fuzz/run.sh luajson. */
#include <jansson.h>

#include "luajson.h"
#include "fuzz_lua.h"

static const char harness[] =
    "return function(input, jansson_ok)\n"
    "  local v, e = vibeml.json.decode(input)\n"
    "  if v == nil and e == nil then error('FINDING decode gave neither a value nor a message') "
    "end\n"
    "  if v == nil then\n"
    "    if jansson_ok and not tostring(e):find('deep', 1, true) and not tostring(e):find('nest', "
    "1, true) then\n"
    "      error('FINDING decode refused what jansson reads: ' .. tostring(e))\n"
    "    end\n"
    "    return\n"
    "  end\n"
    "  -- key order follows Lua's hash order, so texts are compared with sorted keys\n"
    "  local want = vibeml.json.encode(v, { sort_keys = true })\n"
    "  for _, opts in ipairs({ {}, { indent = 2 } }) do\n"
    "    local ok, t = pcall(vibeml.json.encode, v, opts)\n"
    "    if not ok then error('FINDING encode refused a decoded value: ' .. tostring(t)) end\n"
    "    local v2, e2 = vibeml.json.decode(t)\n"
    "    if v2 == nil then error('FINDING decode refused what encode wrote: ' .. tostring(e2)) "
    "end\n"
    "    local t2 = vibeml.json.encode(v2, { sort_keys = true })\n"
    "    if t2 ~= want then error('FINDING decode(encode(v)) differs:\\n' .. want .. '\\n' .. t2) "
    "end\n"
    "  end\n"
    "end\n";

static fuzz_lua f;

/* push then to_json, inside a protected call (push may raise a memory error) */
static int push_back(lua_State *L)
{
    const json_t *j = lua_touserdata(L, 1);
    json_t **back = lua_touserdata(L, 2);
    vml_err err;
    if (vml_luajson_push(L, j, &err) < 0)
        return 0; /* deeper than VML_LUAJSON_MAX_DEPTH: refused, nothing pushed */
    if (vml_luajson_to_json(L, -1, back, &err) < 0) {
        fprintf(stderr, "fuzz: FINDING to_json refused what push made: %s\n", vml_err_msg(&err));
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *j, *back = NULL;
    lua_State *L;
    if (!f.s)
        fuzz_lua_init(&f, harness);
    L = f.s->L;
    j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (j) {
        lua_pushcfunction(L, push_back);
        lua_pushlightuserdata(L, j);
        lua_pushlightuserdata(L, &back);
        if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
            fprintf(stderr, "fuzz: FINDING push raised: %s\n", lua_tostring(L, -1));
            abort();
        }
        lua_settop(L, 0);
        if (back && !json_equal(j, back)) {
            char *a = json_dumps(j, JSON_ENCODE_ANY), *b = json_dumps(back, JSON_ENCODE_ANY);
            fprintf(stderr, "fuzz: FINDING round trip changed the value:\n%s\n%s\n", a, b);
            abort();
        }
        json_decref(back);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, f.fn);
    lua_pushlstring(L, (const char *)data, size);
    lua_pushboolean(L, j != NULL && !memchr(data, '\0', size));
    {
        vml_err err;
        if (vml_script_pcall(f.s, 2, 0, &err) < 0) {
            fprintf(stderr, "fuzz: FINDING: %s\n", vml_err_msg(&err));
            abort();
        }
    }
    lua_settop(L, 0);
    json_decref(j);
    return 0;
}
