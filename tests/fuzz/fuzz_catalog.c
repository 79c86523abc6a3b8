/* SPDX-License-Identifier: MIT
 * libFuzzer target: the catalog CSV reader, lua/vibeml/csv.lua (parse, records) and
 * lua/vibeml/catalog.lua parse_v8 (SkyPilot's hosted vms.csv, downloaded by `vibeml catalog
 * refresh`), for a generic cloud and for gcp (host prices joined to GPU rows).
 * Contract checked: nothing raises; parse gives a header and rows of the header's width, or
 * nil and a message; what csv.quote writes reads back to the same fields; parse_v8 gives rows
 * with positive finite prices and counts, or nil and a message. Build: tests/fuzz/run.sh catalog.
 */
#include "fuzz_lua.h"

static const char harness[] =
    "local csv = require 'vibeml.csv'\n"
    "local catalog = require 'vibeml.catalog'\n"
    "local function finite(v) return type(v) == 'number' and v == v and v ~= math.huge and v ~= "
    "-math.huge end\n"
    "local function call(name, f, ...)\n"
    "  local r = table.pack(pcall(f, ...))\n"
    "  if not r[1] then error('FINDING ' .. name .. ' raised: ' .. tostring(r[2])) end\n"
    "  return table.unpack(r, 2, r.n)\n"
    "end\n"
    "return function(input)\n"
    "  local header, rows = call('csv.parse', csv.parse, input)\n"
    "  if header then\n"
    "    for i, r in ipairs(rows) do\n"
    "      if #r ~= #header then error('FINDING row ' .. i .. ' has ' .. #r .. ' fields, header ' "
    ".. #header) end\n"
    "    end\n"
    "    -- what quote() writes reads back the same (header + rows, LF lines)\n"
    "    local lines = {}\n"
    "    for _, r in ipairs({ header, table.unpack(rows) }) do\n"
    "      local q = {}\n"
    "      for i, v in ipairs(r) do q[i] = csv.quote(v) end\n"
    "      lines[#lines + 1] = table.concat(q, ',')\n"
    "    end\n"
    "    local h2, r2 = call('csv.parse', csv.parse, table.concat(lines, '\\n') .. '\\n')\n"
    "    if not h2 or #r2 ~= #rows then error('FINDING quote/parse round trip lost rows: ' .. "
    "tostring(r2)) end\n"
    "    for i, r in ipairs(rows) do\n"
    "      for j, v in ipairs(r) do\n"
    "        if r2[i][j] ~= v then error('FINDING round trip changed row ' .. i .. ' field ' .. j) "
    "end\n"
    "      end\n"
    "    end\n"
    "  elseif type(rows) ~= 'string' then\n"
    "    error('FINDING csv.parse failed without a message')\n"
    "  end\n"
    "  call('csv.records', csv.records, input)\n"
    "  for _, cloud in ipairs({ 'nebius', 'gcp' }) do\n"
    "    local out, msg = call('parse_v8', catalog.parse_v8, cloud, input)\n"
    "    if out then\n"
    "      for _, r in ipairs(out) do\n"
    "        if not finite(r.price_hr) or r.price_hr <= 0 then error('FINDING parse_v8 price ' .. "
    "tostring(r.price_hr)) end\n"
    "        if not finite(r.acc_count) or r.acc_count <= 0 then error('FINDING parse_v8 count ' "
    ".. tostring(r.acc_count)) end\n"
    "        if r.spot_price_hr ~= nil and not finite(r.spot_price_hr) then error('FINDING "
    "parse_v8 spot ' .. tostring(r.spot_price_hr)) end\n"
    "      end\n"
    "    elseif type(msg) ~= 'string' then\n"
    "      error('FINDING parse_v8 failed without a message')\n"
    "    end\n"
    "  end\n"
    "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_lua_input(harness, data, size);
}
