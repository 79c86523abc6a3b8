-- `vibeml catalog refresh [--url URL] [--cloud C]... [--json]` and `vibeml catalog [show]`.
local catalog = require "vibeml.catalog"

local USAGE = [[
usage: vibeml catalog refresh [--url URL] [--cloud CLOUD]... [--timeout S] [--json]
       vibeml catalog [show] [--json]

refresh  downloads SkyPilot's hosted GPU catalog (v8 vms.csv per cloud) into the data folder's
         cache; a cloud's cache is replaced only by a complete, readable download.
         --url      base URL holding v8/<cloud>/vms.csv (default: SkyPilot's hosted catalog)
         --cloud    refresh only this cloud (repeatable; default: aws gcp azure lambda nebius
                    runpod vast)
show     where the prices come from (cache or the shipped snapshot) and how many offers.
Exit codes: 0 ok, 1 some cloud failed (its old cache is kept), 2 usage.
]]

local function show(json)
  local info = catalog.info()
  if json then
    print(vibeml.json.encode { offers = info.rows, sources = info.sources, skipped = info.skipped })
    return 0
  end
  local clouds = {}
  for c in pairs(info.sources) do clouds[#clouds + 1] = c end
  table.sort(clouds)
  print(string.format("%d GPU offers", info.rows))
  for _, c in ipairs(clouds) do
    local s = info.sources[c]
    local when = s.kind == "cache" and os.date("!%Y-%m-%d %H:%M UTC", math.floor(s.fetched_at))
      or ("snapshot of " .. s.date)
    print(string.format("  %-8s %5d offers  %s%s", c, s.rows or 0, when, s.note
      and ("  (" .. s.note .. ")") or ""))
  end
  return 0
end

local function main(args)
  local sub = args[1]
  local i, json, url, clouds, timeout = 2, false, nil, nil, nil
  if sub == nil or sub == "show" or sub == "--json" then
    if sub == "--json" then json = true end
    for j = 2, #args do if args[j] == "--json" then json = true end end
    return show(json)
  end
  if sub ~= "refresh" then
    vibeml.eprint(
      (("vibeml catalog: "
        .. require("vibeml.cli._args").unknown_sub(tostring(sub), { "show", "refresh" })
      .. "\n" .. USAGE):gsub("\n$", "")))
    return 2
  end
  while i <= #args do
    local a = args[i]
    if a == "--json" then json = true
    elseif a == "--url" and args[i + 1] then url = args[i + 1]; i = i + 1
    elseif a == "--cloud" and args[i + 1] then clouds = clouds or {};
      clouds[#clouds + 1] = args[i + 1]; i = i + 1
    elseif a == "--timeout" and tonumber(args[i + 1]) then timeout = tonumber(args[i + 1]);
      i = i + 1
    else
      local A = require "vibeml.cli._args"
      local what = (a == "--url" or a == "--cloud" or a == "--timeout") and (a .. " needs a value")
        or A.unknown_option(a, { "--url", "--cloud", "--timeout", "--json" })
      if a == "--timeout" and args[i + 1] then
        local okn, m = pcall(A.number, a, args[i + 1],
          { min = 1, max = 3600, what = "a number of seconds", example = "60" })
        what = okn and what or m.usage
      end
      vibeml.eprint((("vibeml catalog refresh: " .. what .. "\n" .. USAGE):gsub("\n$", "")))
      return 2
    end
    i = i + 1
  end
  local rep, err = catalog.refresh { url = url, clouds = clouds, timeout = timeout }
  if not rep then
    vibeml.eprint((("vibeml catalog refresh: " .. err .. "\n"):gsub("\n$", "")))
    return 1
  end
  if json then
    print(vibeml.json.encode(rep))
  else
    for _, c in ipairs(rep.clouds) do
      if c.ok then
        print(string.format("  %-8s ok      %d GPU offers", c.cloud, c.rows))
      else
        print(string.format("  %-8s failed  %s (previous prices kept)", c.cloud, c.error))
      end
    end
    print(string.format("%d cloud%s refreshed, %d failed; cache: %s", rep.ok, rep.ok == 1 and ""
      or "s",
      rep.failed, rep.dir))
  end
  if rep.failed > 0 then
    vibeml.eprint(string.format("vibeml catalog refresh: %d cloud(s) failed; check the URL or your "
      .. "network and retry (planning keeps using the previous prices)", rep.failed))
    return 1
  end
  return 0
end

return { summary = "GPU price catalog: where prices come from; `refresh` downloads fresh ones",
         usage = USAGE, main = main }
