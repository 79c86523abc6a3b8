-- launch_training — plan + budget check + launch; returns the job handle at once (job id,
-- backend, where it runs, state, SkyPilot ids, estimate), with progress notifications while it
-- launches. Over-budget launches are put to the person (elicitation), never approved by the model.
local jobs = require "vibeml.jobs"
local jdb = require "vibeml.jobs.db"
local E = vibeml.E

local function guarded(name)
  local ok, m = pcall(require, name)
  if ok and type(m) == "table" then return m end
end

local kit = require "vibeml.mcp.toolkit"
local plans = require "vibeml.mcp.plans"

local inputs = kit.plan_inputs()
inputs.plan_id = { type = "string", description = "from plan_training" }
inputs.backend = { type = "string", enum = { "local", "skypilot" } }
inputs.managed = { type = "boolean", description = "default true" }
inputs.name = { type = "string", maxLength = 40 }
inputs.job_id = { type = "string", description = "relaunch it with changes" }
inputs.push_to_hub = { type = "string", description = "Hub repo owner/name" }
inputs.hub_private = { type = "boolean" }
inputs.storage = { type = "string", description = "bucket URI" }

local M = {
  name = "launch_training",
  title = "Launch a fine-tuning job",
  description = "Launches a job and returns its handle at once. Give plan_id to launch exactly "
    .. "the quoted plan (re-planned, with a note, if stale or preferences changed), or the "
    .. "plan_training inputs. Going over the budget or a cap below the expected cost needs the "
    .. "person's approval. Follow with get_job_status.",
  inputSchema = { type = "object", properties = inputs, additionalProperties = false },
  outputSchema = kit.out({ id = "string", state = "string", backend = "string", where = "string",
    plan_id = "string", note = "string" }, { "id", "state", "backend", "where" }),
  annotations = { destructiveHint = false },
}

-- what changes the plan itself when given with plan_id
local REPLAN = { push_to_hub = true, hub_private = true }
for _, k in ipairs(kit.PLAN_FIELDS) do REPLAN[k] = true end
REPLAN.limit = nil -- how many ranked options a plan shows (and always filled by its default)

local function offer_text(b)
  if not b then return "?" end
  local where = b.count and b.count > 0
    and string.format("%d× %s on %s %s (%s)", b.count, tostring(b.gpu), tostring(b.cloud),
      tostring(b.region or ""), b.spot and "spot" or "on-demand")
    or "CPU"
  return string.format("%s, $%.2f expected", where, b.cost and b.cost.expected or 0)
end

local function same_offer(a, b)
  a, b = a or {}, b or {}
  local ca, cb = (a.cost or {}).expected or 0, (b.cost or {}).expected or 0
  return a.gpu == b.gpu and a.count == b.count and a.cloud == b.cloud and a.region == b.region
    and (a.spot and true or false) == (b.spot and true or false) and math.abs(ca - cb) < 0.005
end

-- The stored quote, or a new plan with a note saying why and what changed.
local function from_plan_id(args, planner)
  local rec = plans.get(args.plan_id)
  if not rec then
    return nil, "no plan '" .. args.plan_id .. "' (quotes are kept for a day); call plan_training "
      .. "again and launch its plan_id"
  end
  local why = {}
  local changed = {}
  for k in pairs(REPLAN) do
    if args[k] ~= nil then changed[#changed + 1] = k end
  end
  table.sort(changed)
  if #changed > 0 then why[#why + 1] = "you changed " .. table.concat(changed, ", ") end
  local age = vibeml.time() - rec.created
  if age > plans.FRESH_S then
    why[#why + 1] = string.format("the quote is %d min old (prices may have moved)",
      math.floor(age / 60))
  end
  if rec.prefs ~= plans.prefs_signature() then why[#why + 1] = "your preferences changed" end
  local plan = rec.plan
  if #why == 0 then return plan end
  local req = {}
  for k, v in pairs(rec.request or {}) do req[k] = v end
  for _, k in ipairs(changed) do req[k] = args[k] end
  req.plan_id, req.backend, req.managed, req.name, req.job_id, req.storage = nil, nil, nil, nil,
    nil, nil
  local p, msg = planner.plan(req)
  if not p then return nil, "Re-planning plan " .. args.plan_id .. " (" .. table.concat(why, "; ")
    .. ") failed: " .. tostring(msg) end
  local note
  if same_offer(plan.best, p.best) then
    note = "Re-planned because " .. table.concat(why, "; ") .. "; the best offer and estimate are "
      .. "the same as quoted (" .. offer_text(p.best) .. ")."
  else
    note = "Re-planned because " .. table.concat(why, "; ") .. ": quoted " .. offer_text(plan.best)
      .. ", now " .. offer_text(p.best) .. "."
  end
  return p, note
end

local function from_inputs(args, planner)
  local req = {}
  if args.job_id then
    local old = jdb.get(args.job_id)
    if not old then
      return nil, "no job '" .. args.job_id .. "' to relaunch (list_jobs shows the job ids)"
    end
    req.model, req.dataset, req.workflow = old.model, old.dataset, old.workflow
    local p = old.params and vibeml.json.decode(old.params) or {}
    req.hyperparameters = p.hyperparameters
    if old.backend and not args.backend then args.backend = old.backend end
  end
  for k in pairs(REPLAN) do
    if args[k] ~= nil and args[k] ~= "" and k ~= "hyperparameters" then req[k] = args[k] end
  end
  req.limit = args.limit
  if args.hyperparameters then
    req.hyperparameters = req.hyperparameters or {}
    for k, v in pairs(args.hyperparameters) do req.hyperparameters[k] = v end
  end
  if not req.model then
    return nil, "model is required (a Hugging Face model id), or plan_id from plan_training"
  end
  return planner.plan(req)
end

function M.handler(args, ctx)
  local planner = guarded("vibeml.planner")
  if not planner then return nil, "planning is not available in this build" end
  if ctx and ctx.progress then ctx:progress(0, 5, "planning") end
  local plan, note
  if args.plan_id then plan, note = from_plan_id(args, planner)
  else plan, note = from_inputs(args, planner) end
  if not plan then return nil, note end
  if args.storage then
    plan.request = plan.request or {}
    plan.request.checkpoint_bucket = args.storage
  end
  -- a cap below the expected cost stops the job early: the person says yes first
  local backend = args.backend or jobs.default_backend()
  if backend ~= "local" then
    local budget = require "vibeml.budget"
    local cap = budget.effective_cap(plan.request and plan.request.max_cost)
    local ok, cmsg = budget.confirm_cap{ cap = cap, expected = plan.best and plan.best.cost
      and plan.best.cost.expected, ctx = ctx }
    if not ok then return nil, (note and (note .. " ") or "") .. cmsg end
  end
  local job, lmsg, lcode, info = jobs.launch(plan, {
    backend = args.backend, name = args.name, cap = args.max_cost, managed = args.managed,
      ctx = ctx,
    progress = function(done, total, text)
      if ctx and ctx.progress then ctx:progress(done + 1, total + 1, text) end
    end })
  if not job then
    if lcode == E.EMONEY and info then
      return nil,
        string.format("%s (needed $%.2f, remaining $%s)", lmsg, info.needed or 0,
        tostring(info.remaining))
    end
    local where = info and info.job_id
      and (" (job " .. info.job_id .. "; its failure and fixes: get_job_status)") or ""
    return nil, tostring(lmsg) .. where
  end
  local st = jobs.status(job.id)
  local est = st.estimate or {}
  local c = est.cost or {}
  st.plan_id = args.plan_id
  st.note = note
  return st,
    string.format(
    "Launched job %s on %s: %s. Estimate: %s%s.%s Follow it with get_job_status (job_id %s).",
    st.id, st.backend, st.where,
    c.expected
      and string.format("$%.2f expected ($%.2f-$%.2f)", c.expected, c.min or c.expected, c.max
      or c.expected) or "no estimate",
    st.cost and st.cost.cap and string.format(", cap $%.2f", st.cost.cap) or "",
    note and (" " .. note) or "", st.id)
end

function M.next(st)
  return { kit.call("get_job_status", { job_id = st.id, wait_s = 30 }) }
end

return M
