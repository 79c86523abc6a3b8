-- vibeml.plan.request — the request before any pricing: the user's saved preferences filled in,
-- constraints checked and matched to catalog names (vibeml.names), and a failure that a saved
-- preference caused explained with how to clear it.
--
--   request.with_preferences(req, assumptions) -> req (a copy when preferences were applied)
--   request.constraints(req) -> cons | nil, message
--       cons: gpu (canonical name), gpus (total count), cloud, region, spot, max_cost, deadline_h;
--       req.preference is normalised in place ("cheap" -> "cheapest")
--   request.explain(req, err, code, info) -> nil, err (+ the preferences involved), code, info
local E = vibeml.E
local gpus = require "vibeml.gpus"
local catalog = require "vibeml.catalog"
local names = require "vibeml.names"

local M = {}

local function saved_preferences()
  local ok, prefs = pcall(require, "vibeml.prefs")
  if not ok or type(prefs) ~= "table" or type(prefs.get) ~= "function" then return nil end
  local ok2, p = pcall(prefs.get)
  if not ok2 or type(p) ~= "table" then return nil end
  return p
end

-- The user's saved preferences (vibeml config / set_preferences) fill what the request leaves
-- out: cloud, region, gpu and workflow narrow the plan; spot = false means on-demand only (spot =
-- true only allows spot, it does not exclude on-demand). req.ignore_preferences skips them.
function M.with_preferences(req, assumptions)
  if req.ignore_preferences then return req end
  local p = saved_preferences()
  if not p then return req end
  local out, used = {}, {}
  for k, v in pairs(req) do out[k] = v end
  local function pref(key, field, value)
    if value == nil or vibeml.isnull(value) or out[field] ~= nil then return end
    out[field] = value
    used[#used + 1] = key .. " " .. tostring(value)
  end
  pref("cloud", "cloud", p.cloud)
  pref("region", "region", p.region)
  pref("gpu", "gpu", p.gpu)
  pref("workflow", "workflow", p.workflow)
  if p.spot == false then pref("spot", "spot", false) end
  if #used > 0 then
    assumptions[#assumptions + 1] = "from your preferences: " .. table.concat(used, ", ")
      .. " (change with `vibeml config set KEY VALUE`, or pass the option)"
  end
  return out
end

function M.constraints(req)
  local cons = { cloud = req.cloud, region = req.region, spot = req.spot,
                 max_cost = tonumber(req.max_cost), deadline_h = tonumber(req.deadline_h),
                 gpus = req.gpus and math.tointeger(tonumber(req.gpus)) or nil }
  if req.gpus and (not cons.gpus or cons.gpus < 1) then
    return nil, "gpus must be a whole number ≥ 1"
  end
  if req.gpu ~= nil and req.gpu ~= "" then
    local name, err = gpus.resolve(req.gpu)
    if not name then return nil, err end
    cons.gpu = name
  end
  -- cloud, region and preference names: matched by the one rule (vibeml.names), refused with
  -- the closest valid names
  if cons.cloud then
    local seen, clouds = {}, {}
    for _, c in ipairs(gpus.clouds()) do seen[c] = true; clouds[#clouds + 1] = c end
    for _, o in ipairs(catalog.offers()) do
      if not seen[o.cloud] then seen[o.cloud] = true; clouds[#clouds + 1] = o.cloud end
    end
    local c = names.match(cons.cloud, names.cloud_entries(clouds))
    if not c then
      return nil, (names.unknown("cloud", cons.cloud, names.cloud_entries(clouds))
        :gsub("^unknown cloud '([^']*)'", "cloud '%1' has no GPU offers in the catalog"))
    end
    cons.cloud = c
  end
  if cons.region then
    local seen, regions = {}, {}
    for _, o in ipairs(catalog.offers()) do
      if (not cons.cloud or o.cloud == cons.cloud) and not seen[o.region] then
        seen[o.region] = true; regions[#regions + 1] = o.region
      end
    end
    table.sort(regions)
    local r = names.match(cons.region, regions)
    if not r then
      return nil, (names.unknown("region", cons.region, regions, { max_listed = 25 })
        :gsub("^unknown region '([^']*)'", "region '%1' has no GPU offers in the catalog"
          .. (cons.cloud and (" for " .. cons.cloud) or "")))
    end
    cons.region = r
  end
  if req.preference ~= nil then
    local list = { { name = "cheapest", aliases = { "cheap", "lowest-cost" } },
                   { name = "balanced" },
                   { name = "best_quality", aliases = { "best", "quality", "best-quality" } } }
    local pr = names.match(req.preference, list)
    if not pr then return nil, (names.unknown("preference", req.preference, list)) end
    req.preference = pr
  end
  return cons
end

-- A plan that fails because of a saved preference says so, and how to clear it: the
-- preferences the request did not override whose value the message names, or, when nothing
-- fits the constraints (VML_ELIMIT), every preference that narrowed the plan.
function M.explain(req, err, code, info)
  if type(req) ~= "table" or req.ignore_preferences or type(err) ~= "string" then
    return nil, err, code, info
  end
  local pv = saved_preferences()
  if not pv then return nil, err, code, info end
  local low, used = err:lower(), {}
  for _, k in ipairs({ "gpu", "cloud", "region", "workflow", "spot" }) do
    local v = pv[k]
    if v ~= nil and not vibeml.isnull(v) and req[k] == nil and (k ~= "spot" or v == false)
       and (code == E.ELIMIT or (k ~= "spot" and low:find(tostring(v):lower(), 1, true))) then
      used[#used + 1] = k
    end
  end
  if #used == 0 then return nil, err, code, info end
  local parts, clear, tool = {}, {}, {}
  for _, k in ipairs(used) do
    local off = k == "spot" and "true" or "null"
    parts[#parts + 1] = k .. "=" .. tostring(pv[k])
    clear[#clear + 1] = "`vibeml config set " .. k .. " " .. off .. "`"
    tool[#tool + 1] = string.format('"%s": %s', k, off)
  end
  return nil, string.format("%s (your preference%s %s: %s to clear %s; MCP: set_preferences {%s}; "
    .. "or pass the option)", err, #used > 1 and "s" or "", table.concat(parts, ", "),
    table.concat(clear, " and "), #used > 1 and "them" or "it", table.concat(tool, ", ")),
    code, info
end

return M
