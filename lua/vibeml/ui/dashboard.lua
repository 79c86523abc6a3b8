-- SPDX-License-Identifier: MIT
--
-- vibeml.ui.dashboard — the job dashboard (issue 15): one self-contained HTML view
-- (lua/vibeml/ui/job_dashboard.html, embedded in the binary) shown by clients that render MCP
-- Apps (SEP-1865) when get_job_status links it, and by `vibeml serve --http` at /jobs/<id>.
--   URI, MIME              the ui:// resource and its type ("text/html;profile=mcp-app")
--   META                   the resource's _meta.ui: no external origin at all, a host border
--   html() -> text         the view
--   history(id [, max]) -> { step = {...}, loss = {...}, tokens_per_s = {...},
--                            eval = { step = {...}, loss = {...} } }
--                          the logged steps of the job's progress events, at most max points
--                          (default 200) per series, spread evenly, the first and last kept
local jdb = require "vibeml.jobs.db"

local M = {}

M.URI = "ui://vibeml/job-dashboard"
M.MIME = "text/html;profile=mcp-app"
M.FILE = "lua/vibeml/ui/job_dashboard.html"
M.MAX_POINTS = 200
-- empty csp: the view loads nothing from anywhere (inline CSS and script, an SVG chart)
M.META = { ui = { csp = vibeml.object{}, prefersBorder = true } }

function M.html()
  return vibeml.embedded.read(M.FILE)
end

local function finite(x)
  return type(x) == "number" and x == x and x ~= math.huge and x ~= -math.huge
end

-- Keeps at most max of the n points: every k-th, always the first and the last.
local function thin(n, max)
  local keep = {}
  if n <= max then
    for i = 1, n do keep[#keep + 1] = i end
    return keep
  end
  local step = (n - 1) / (max - 1)
  local last = 0
  for j = 0, max - 1 do
    local i = math.floor(1 + j * step + 0.5)
    if i > last then keep[#keep + 1] = i; last = i end
  end
  return keep
end

local function pick(rows, max, fields)
  local out = {}
  for _, f in ipairs(fields) do out[f] = vibeml.array{} end
  for _, i in ipairs(thin(#rows, max)) do
    for _, f in ipairs(fields) do
      local v = rows[i][f]
      out[f][#out[f] + 1] = finite(v) and v or vibeml.null
    end
  end
  return out
end

function M.history(id, max)
  max = math.max(2, math.tointeger(max) or M.MAX_POINTS)
  local steps, evals = {}, {}
  local q = "SELECT json_extract(data, '$.event') AS ev, json_extract(data, '$.step') AS step, "
    .. "json_extract(data, '$.loss') AS loss, json_extract(data, '$.tokens_per_s') AS tps, "
    .. "json_extract(data, '$.eval_loss') AS eval_loss FROM job_events WHERE job_id = ? "
    .. "AND kind = 'progress' AND json_extract(data, '$.event') IN ('step', 'eval') ORDER BY id"
  for _, r in ipairs(jdb.db():query(q, id)) do
    local step = tonumber(r.step)
    if step then
      if r.ev == "step" then
        steps[#steps + 1] = { step = step, loss = tonumber(r.loss), tokens_per_s = tonumber(r.tps) }
      elseif tonumber(r.eval_loss) then
        evals[#evals + 1] = { step = step, loss = tonumber(r.eval_loss) }
      end
    end
  end
  local h = pick(steps, max, { "step", "loss", "tokens_per_s" })
  h.eval = pick(evals, max, { "step", "loss" })
  return h
end

return M
