-- The job dashboard's data (vibeml.ui.dashboard): the loss history get_job_status adds for
-- clients that render MCP Apps is the logged steps in order, thinned to at most 200 points with
-- the first and last kept, non-finite losses as null, eval points apart; only those clients get
-- it. The view itself is embedded and self-contained.
local T = require "vibeml.test"
local jdb = require "vibeml.jobs.db"
local dashboard = require "vibeml.ui.dashboard"

local function job_with_steps(n, evals)
  local id = jdb.insert({ name = "dash", workflow = "smoke", backend = "local", mode = "local" })
  local db = jdb.db()
  for s = 1, n do
    jdb.event(db, id, "progress", { event = "step", step = s, loss = (s == 7) and "nan" or 10 / s,
                                    tokens_per_s = 100 + s })
  end
  for s = 1, evals do
    jdb.event(db, id, "progress", { event = "eval", step = s * 10, eval_loss = 1 / s })
  end
  jdb.event(db, id, "progress", { event = "start", total_steps = n })
  return id
end

T.case("history: every step of a short run, in order", function()
  local id = job_with_steps(12, 2)
  local h = dashboard.history(id)
  T.eq(#h.step, 12); T.eq(h.step[1], 1); T.eq(h.step[12], 12)
  T.eq(h.loss[2], 5); T.eq(h.tokens_per_s[3], 103)
  T.eq(h.loss[7], vibeml.null, "a non-finite loss is null")
  T.eq(#h.eval.step, 2); T.eq(h.eval.loss[2], 0.5)
end)

T.case("history: a long run thinned to at most 200 points, first and last kept", function()
  local id = job_with_steps(5000, 0)
  local h = dashboard.history(id)
  T.ok(#h.step <= 200 and #h.step >= 190, "points: " .. #h.step)
  T.eq(h.step[1], 1); T.eq(h.step[#h.step], 5000)
  for i = 2, #h.step do T.ok(h.step[i] > h.step[i - 1], "increasing") end
  T.eq(#dashboard.history(id, 10).step, 10)
  T.eq(#h.eval.step, 0)
  T.eq(vibeml.json.encode(h.eval.step), "[]", "an empty series is a JSON array")
end)

T.case("get_job_status: history and the link only for MCP Apps clients", function()
  local id = job_with_steps(30, 0)
  local tool = require "vibeml.tools.get_job_status"
  T.eq(tool._meta.ui.resourceUri, dashboard.URI)
  local function ctx(ui)
    return { supports = function(_, cap) return ui
      and cap == "extensions/io.modelcontextprotocol/ui" end,
             progress = function() end }
  end
  local plain = tool.handler({ job_id = id }, ctx(false))
  T.eq(plain.history, nil)
  local apps = tool.handler({ job_id = id }, ctx(true))
  T.eq(#apps.history.step, 30)
end)

T.case("the view: embedded, self-contained, served by the ui:// resource", function()
  local html = dashboard.html()
  T.ok(html and html:match("^<!doctype html>"), "the embedded view")
  for _,
    bad in ipairs({ "<script[^>]+src=", "<link", "@import", "url%(", "@font%-face", "<img" }) do
    T.ok(not html:find(bad), "nothing loaded from elsewhere: " .. bad)
  end
  local res = require "vibeml.resources.job_dashboard"
  T.eq(res.uri, "ui://vibeml/job-dashboard"); T.eq(res.mimeType, "text/html;profile=mcp-app")
  T.eq(res.read(), html)
end)

return T.run()
