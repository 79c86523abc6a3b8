-- vibeml workflows [list] [--json] | workflows show NAME [--json]
local wf = require "vibeml.workflows"
local tty = require "vibeml.tty"

local USAGE = [[
usage: vibeml workflows [list] [--json]
       vibeml workflows show NAME [--json]

Lists the training workflows (shipped and user plugins) or shows one: method, model sizes,
GPUs and the hardware it runs on, the exact package versions it installs, typical time and cost,
secrets, and every hyperparameter with its default and range.
User plugins live in the config folder's plugins/ (see `vibeml doctor`).
Exit codes: 0 ok, 1 unknown workflow, 2 usage.
]]

local function err(text)
  vibeml.eprint((text:gsub("\n$", "")))
end

local function range(a, b, unit)
  return string.format("%s-%s%s", tostring(a), tostring(b), unit or "")
end

local function pad_table(rows)
  local w = {}
  for _, r in ipairs(rows) do -- cells come from plugins: control characters escaped
    for i, c in ipairs(r) do
      r[i] = tty.safe(c)
      w[i] = math.max(w[i] or 0, utf8.len(r[i]) or #r[i])
    end
  end
  local out = {}
  for _, r in ipairs(rows) do
    local cells = {}
    for i, c in ipairs(r) do
      cells[i] = i < #r and (c .. string.rep(" ", w[i] - (utf8.len(c) or #c))) or c
    end
    out[#out + 1] = table.concat(cells, "  ")
  end
  return table.concat(out, "\n")
end

local function gpus(g)
  if not g or not g.required then return "none (CPU)" end
  local s = g.min_count == g.max_count and tostring(g.min_count) or range(g.min_count, g.max_count)
  return s .. (g.multi_node and " x nodes" or "")
end

-- What the workflow can run on: vendor, compute capability range, multi-GPU method.
local function hardware(g)
  if not g or not g.required then return "any CPU" end
  local parts = {}
  if g.vendor then parts[#parts + 1] = g.vendor:upper() end
  if g.min_compute_capability then
    parts[#parts + 1] = string.format("compute capability %.1f%s", g.min_compute_capability,
      g.max_compute_capability and string.format("-%.1f", g.max_compute_capability) or "+")
  end
  if g.distributed and g.distributed ~= "none" then
    parts[#parts + 1] = "several GPUs: " .. g.distributed:gsub("|", " or ")
  end
  return #parts > 0 and table.concat(parts, ", ") or "any GPU"
end

local function list(json)
  local all = wf.list()
  if json then
    print(vibeml.json.encode({ workflows = vibeml.array(all) }, { indent = 2, sort_keys = true }))
    return 0
  end
  local rows =
    { { "NAME", "METHOD", "MODEL SIZES", "GPUS", "TYPICAL TIME", "TYPICAL COST", "SOURCE",
    "TITLE" } }
  for _, d in ipairs(all) do
    local t = d.typical or {}
    rows[#rows + 1] = {
      d.name, d.method, range(d.model_sizes.min_b, d.model_sizes.max_b, "B"), gpus(d.gpu),
      t.duration_h and range(t.duration_h[1], t.duration_h[2], " h") or "-",
      t.cost_usd and ("$" .. range(t.cost_usd[1], t.cost_usd[2])) or "-",
      d.source or "-", d.title,
    }
  end
  print(pad_table(rows))
  return 0
end

local function show(name, json)
  local d, e = wf.get(wf.resolve(name) or name) -- any case, or the method: "LoRA", "qlora"
  if not d then
    err("vibeml workflows: " .. e .. "\n")
    return 1
  end
  if json then
    print(vibeml.json.encode(d, { indent = 2, sort_keys = true }))
    return 0
  end
  local t = d.typical or {}
  print(string.format("%s %s — %s", tty.safe(d.name), tty.safe(d.version), tty.safe(d.title)))
  print((tostring(d.description):gsub("[^\n]+", function(l) return tty.safe(l, true) end)))
  print("")
  local info = {
    { "method", d.method },
    { "model sizes", range(d.model_sizes.min_b, d.model_sizes.max_b, " B parameters") },
    { "GPUs", gpus(d.gpu) },
    { "hardware", hardware(d.gpu) },
    { "packages", (d.pins and #d.pins > 0) and table.concat(d.pins, " ") or "-" },
    { "typical time", t.duration_h and range(t.duration_h[1], t.duration_h[2], " h") or "-" },
    { "typical cost", t.cost_usd and ("$" .. range(t.cost_usd[1], t.cost_usd[2])) or "-" },
    { "secrets",
      ((d.secrets and #d.secrets.required > 0)
      and ("required " .. table.concat(d.secrets.required, ", ") .. "; ") or "")
        .. "optional " .. table.concat((d.secrets or {}).optional or {}, ", ") },
    { "source", (d.source or "-") .. (d.path and (" (" .. d.path .. ")") or "") },
  }
  print(pad_table(info))
  print("")
  local names = {}
  for k in pairs(d.hyperparameters or {}) do names[#names + 1] = k end
  table.sort(names)
  local rows = { { "HYPERPARAMETER", "TYPE", "DEFAULT", "ALLOWED", "DESCRIPTION" } }
  for _, k in ipairs(names) do
    local s = d.hyperparameters[k]
    local allowed = s.enum and table.concat(s.enum, "|")
      or ((s.min or s.max) and range(s.min or "", s.max or "") or "")
    rows[#rows + 1] = { k, s.type, s.default == nil and "-" or tostring(s.default), allowed,
                        s.description or "" }
  end
  print(pad_table(rows))
  return 0
end

return {
  summary = "list training workflows, or show one",
  usage = USAGE,
  main = function(args)
    local json, words = false, {}
    for _, a in ipairs(args) do
      if a == "--json" then json = true
      elseif a == "-h" or a == "--help" then print((USAGE:gsub("\n$", ""))) return 0
      elseif a:sub(1, 1) == "-" then
        err("vibeml workflows: "
          .. require("vibeml.cli._args").unknown_option(a, { "--json", "--help" })
          .. "\n" .. USAGE)
        return 2
      else words[#words + 1] = a end
    end
    local cmd = words[1] or "list"
    if cmd == "list" and #words <= 1 then return list(json) end
    if cmd == "show" and #words == 2 then return show(words[2], json) end
    if cmd ~= "list" and cmd ~= "show" then
      err("vibeml workflows: " .. require("vibeml.cli._args").unknown_sub(cmd, { "list", "show" }))
    elseif cmd == "show" and #words < 2 then
      err("vibeml workflows show: which workflow? (vibeml workflows list)")
    end
    err(USAGE)
    return 2
  end,
}
