-- vibeml.mcp.plans — plans quoted by plan_training, kept so that launch_training {plan_id}
-- launches exactly what the person saw (offer order, estimate, cap).
--   plans.save(request, plan) -> plan_id        plans.get(id) -> record | nil
--   record: { id=, request=, plan=, created=, prefs= (signature of the preferences then) }
--   plans.FRESH_S: how long a quote stands before launch re-plans it (30 min)
-- Stored in the state database (component "plans"), so a quote outlives the server process and
-- is shared by every session; rows older than a day are dropped when a new one is saved.
local store = require "vibeml.store"
local check = store.check

local M = { FRESH_S = 30 * 60, KEEP_S = 24 * 3600 }

local STEPS = {
  [[CREATE TABLE plans(id TEXT PRIMARY KEY, created REAL NOT NULL, prefs TEXT,
      request TEXT NOT NULL, plan TEXT NOT NULL)]],
}

local migrated = setmetatable({}, { __mode = "k" })
local function db()
  local d = store.db()
  if not migrated[d] then check(d:migrate("plans", STEPS)); migrated[d] = true end
  return d
end

-- The preferences that change a plan, as one string: a launch compares it with the quote's.
function M.prefs_signature()
  local ok, prefs = pcall(require, "vibeml.prefs")
  if not ok or type(prefs) ~= "table" then return "" end
  local okg, p = pcall(prefs.get)
  if not okg or type(p) ~= "table" then return "" end
  local parts = {}
  for _, k in ipairs({ "cloud", "region", "gpu", "workflow", "spot" }) do
    local v = p[k]
    parts[#parts + 1] = k .. "=" .. ((v == nil or vibeml.isnull(v)) and "" or tostring(v))
  end
  return table.concat(parts, ";")
end

local ALPH = "abcdefghijkmnpqrstuvwxyz23456789"
local function new_id()
  local t = {}
  for i = 1, 10 do
    local k = math.random(1, #ALPH)
    t[i] = ALPH:sub(k, k)
  end
  return "p-" .. table.concat(t)
end

function M.save(request, plan)
  local d = db()
  local id = new_id()
  local now = vibeml.time()
  check(d:exec("DELETE FROM plans WHERE created < ?", now - M.KEEP_S))
  check(d:exec("INSERT INTO plans(id, created, prefs, request, plan) VALUES (?, ?, ?, ?, ?)", id,
    now,
    M.prefs_signature(), vibeml.json.encode(request), vibeml.json.encode(plan)))
  return id
end

function M.get(id)
  if type(id) ~= "string" then return nil end
  local row = check(db():first("SELECT * FROM plans WHERE id = ?", id))
  if not row then return nil end
  return { id = row.id, created = row.created, prefs = row.prefs,
           request = vibeml.json.decode(row.request), plan = vibeml.json.decode(row.plan) }
end

-- Ages a stored quote (tests: a stale plan without waiting 30 minutes).
function M.age(id, seconds)
  check(db():exec("UPDATE plans SET created = created - ? WHERE id = ?", seconds, id))
end

return M
