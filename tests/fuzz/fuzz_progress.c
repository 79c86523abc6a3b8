/* SPDX-License-Identifier: MIT
 * libFuzzer target: lua/vibeml/jobs/progress.lua, the reader of training output (`@@VIBEML`
 * JSON lines, Hugging Face log dicts, tqdm bars) that runs on every line a job prints.
 * Contract checked: parse_line and to_progress never raise, whatever the line; to_progress
 * gives only finite numbers (NaN/inf would reach the store and the ledger) and integer steps;
 * the splitter gives back exactly the bytes fed (lines + newlines + tail); strip_ansi never
 * lengthens a string. The input is also fed to the splitter in two chunks at a byte the input
 * chooses. Build: tests/fuzz/run.sh progress. */
#include "fuzz_lua.h"

static const char harness[] =
    "local p = require 'vibeml.jobs.progress'\n"
    "local function finite(v) return v == nil or (type(v) == 'number' and v == v and v ~= "
    "math.huge and v ~= -math.huge) end\n"
    "return function(input)\n"
    "  for line in (input .. '\\n'):gmatch('([^\\n]*)\\n') do\n"
    "    local ok, kind, t = pcall(p.parse_line, line)\n"
    "    if not ok then error('FINDING parse_line raised: ' .. tostring(kind)) end\n"
    "    if kind then\n"
    "      local ok2, pr = pcall(p.to_progress, kind, t)\n"
    "      if not ok2 then error('FINDING to_progress raised: ' .. tostring(pr)) end\n"
    "      if pr then\n"
    "        for _, k in "
    "ipairs({'step','total_steps','loss','lr','tokens_per_s','eta_s','epoch','elapsed_s','progress'"
    "}) do\n"
    "          if not finite(pr[k]) then error('FINDING to_progress: ' .. k .. ' is ' .. "
    "tostring(pr[k])) end\n"
    "        end\n"
    "        if pr.step ~= nil and math.type(pr.step) ~= 'integer' then error('FINDING step is not "
    "an integer: ' .. tostring(pr.step)) end\n"
    "      end\n"
    "    end\n"
    "    local s = p.strip_ansi(line)\n"
    "    if #s > #line then error('FINDING strip_ansi grew the line') end\n"
    "  end\n"
    "  local cut = #input > 0 and (input:byte(1) % (#input + 1)) or 0\n"
    "  local feed, got = p.splitter(64), {}\n"
    "  for _, chunk in ipairs({input:sub(1, cut), input:sub(cut + 1), false}) do\n"
    "    local lines = feed(chunk or nil)\n"
    "    for i, l in ipairs(lines) do got[#got + 1] = l end\n"
    "  end\n"
    "  local joined = table.concat(got)\n"
    "  local nl = select(2, input:gsub('\\n', ''))\n"
    "  if #joined + nl ~= #input then error('FINDING splitter lost or added bytes') end\n"
    "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_lua_input(harness, data, size);
}
