/* SPDX-License-Identifier: MIT
 * libFuzzer target: the readers of SkyPilot's output in lua/vibeml/jobs/skypilot.lua and the
 * error classifier behind them (lua/vibeml/jobs/errors.lua with the shipped error_rules
 * plugins): exception(), json_of(), failure(), and the `sky jobs queue -o json` reading of
 * poll() with `sky` replaced by a stand-in that prints the input. Contract checked: none of
 * them raises a Lua runtime error on any output (poll raises only its own "sky jobs queue ..."
 * messages); failure() always gives a message string. Build: tests/fuzz/run.sh skypilot. */
#include "fuzz_lua.h"

static const char harness[] =
    "local sky = require 'vibeml.jobs.skypilot'\n"
    "local out_text = ''\n"
    "sky.sky = function(args) return { code = 0, out = out_text, err = '' } end\n"
    "local rows = { { id = 'fz', backend_id = 'no-such-job', mode = 'managed' } }\n"
    "local function call(name, f, ...)\n"
    "  local ok, a, b = pcall(f, ...)\n"
    "  if not ok then error('FINDING ' .. name .. ' raised: ' .. tostring(type(a) == 'table' and "
    "a.message or a)) end\n"
    "  return a, b\n"
    "end\n"
    "return function(input)\n"
    "  call('exception', sky.exception, input)\n"
    "  call('json_of', sky.json_of, input)\n"
    "  local f = call('failure', sky.failure, { code = 1, out = input, err = '' }, {})\n"
    "  if type(f) ~= 'table' or type(f.message) ~= 'string' then error('FINDING failure() gave no "
    "message') end\n"
    "  f = call('failure', sky.failure, { code = 1, out = '', err = input }, { cloud = 'nebius' "
    "})\n"
    "  if type(f) ~= 'table' or type(f.message) ~= 'string' then error('FINDING failure() gave no "
    "message') end\n"
    "  out_text = input\n"
    "  local ok, e = pcall(sky.poll, rows)\n"
    "  if not ok then\n"
    "    e = tostring(type(e) == 'table' and e.message or e)\n"
    "    if not e:find('sky jobs queue', 1, true) then error('FINDING poll raised: ' .. e) end\n"
    "  end\n"
    "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_lua_input(harness, data, size);
}
