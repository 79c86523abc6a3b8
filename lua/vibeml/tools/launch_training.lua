-- launch_training — plan + budget check + launch; returns the job handle at once (job id,
-- backend, where it runs, state, SkyPilot ids, estimate), with progress notifications while it
-- launches. Over-budget launches are put to the person (elicitation), never approved by the model.
local jobs = require "vibeml.jobs"
local jdb = require "vibeml.jobs.db"

local function guarded(name)
  local ok, m = pcall(require, name)
  if ok and type(m) == "table" then return m end
end

local M = {
  name = "launch_training",
  title = "Launch a fine-tuning job",
  description = "Plans and launches a fine-tuning job and returns its handle immediately (it does "
    .. "not wait for training): job id, backend and where it runs, state, SkyPilot ids, and the "
    .. "cost/duration estimate. Same inputs as plan_training, plus backend (\"skypilot\": cloud GPUs "
    .. "through SkyPilot; \"local\": this machine, CPU-only `smoke` workflow unless it has an NVIDIA "
    .. "GPU), max_cost (the job is stopped when it reaches this cost) and managed (SkyPilot managed "
    .. "job with spot recovery, default true). To relaunch a failed job with a fix, pass its job_id "
    .. "and only the fields to change (that is what the fixes in get_job_status contain). The "
    .. "budget is checked first; going over it needs the person's approval. Then follow the job "
    .. "with get_job_status or the vibeml://jobs/{id} resource.",
  inputSchema = {
    type = "object",
    properties = {
      model = { type = "string", description = "Hugging Face model id" },
      dataset = { type = "string", description = "Hugging Face dataset id, or a local file for smoke" },
      workflow = { type = "string", description = "unsloth, lora, full or smoke; chosen when left out" },
      hyperparameters = { type = "object", description = "workflow hyperparameters (see get_workflow)" },
      gpu = { type = "string" }, gpus = { type = "integer", minimum = 1, maximum = 64 },
      cloud = { type = "string" }, region = { type = "string" },
      spot = { type = "boolean" }, max_cost = { type = "number", exclusiveMinimum = 0 },
      deadline_h = { type = "number", exclusiveMinimum = 0 },
      epochs = { type = "number", exclusiveMinimum = 0 }, max_steps = { type = "integer", minimum = 1 },
      backend = { type = "string", enum = { "local", "skypilot" },
                  description = "default: the preference, else skypilot when SkyPilot has a cloud enabled, else local" },
      managed = { type = "boolean", description = "SkyPilot managed job (spot recovery); false = plain cluster run" },
      name = { type = "string", maxLength = 40 },
      job_id = { type = "string", description = "relaunch this earlier job's request with the given changes" },
      offline = { type = "boolean", description = "plan without contacting Hugging Face" },
      push_to_hub = { type = "string", description = "also push the trained model to this Hugging Face repo (owner/name; needs HF_TOKEN in the vault)" },
      hub_private = { type = "boolean", description = "the pushed repo is private (default true)" },
      storage = { type = "string", description = "bucket for checkpoints and output (s3://b, gs://b or a name); default: the storage preference, else one named after the SkyPilot user" },
    },
    additionalProperties = false,
  },
  outputSchema = {
    type = "object",
    properties = {
      id = { type = "string" }, state = { type = "string" }, backend = { type = "string" },
      where = { type = "string" }, backend_ids = { type = "object" }, estimate = {},
      cost = { type = "object" }, workflow = {}, model = {}, outputs = {},
    },
    required = { "id", "state", "backend", "where" },
  },
  annotations = { readOnlyHint = false, destructiveHint = false, idempotentHint = false, openWorldHint = true },
}

local REQ_FIELDS = { "model", "dataset", "workflow", "gpu", "gpus", "cloud", "region", "spot", "max_cost",
  "deadline_h", "epochs", "max_steps", "offline", "push_to_hub", "hub_private" }

function M.handler(args, ctx)
  local req = {}
  if args.job_id then
    local old = jdb.get(args.job_id)
    if not old then return nil, "no job '" .. args.job_id .. "' to relaunch (see list_jobs)" end
    req.model, req.dataset, req.workflow = old.model, old.dataset, old.workflow
    local p = old.params and vibeml.json.decode(old.params) or {}
    req.hyperparameters = p.hyperparameters
    if old.backend and not args.backend then args.backend = old.backend end
  end
  for _, k in ipairs(REQ_FIELDS) do if args[k] ~= nil and args[k] ~= "" then req[k] = args[k] end end
  if args.hyperparameters then
    req.hyperparameters = req.hyperparameters or {}
    for k, v in pairs(args.hyperparameters) do req.hyperparameters[k] = v end
  end
  if args.storage then req.checkpoint_bucket = args.storage end
  if not req.model then return nil, "model is required (a Hugging Face model id)" end
  local planner = guarded("vibeml.planner")
  if not planner then return nil, "planning is not available in this build" end
  if ctx and ctx.progress then ctx:progress(0, 5, "planning") end
  if args.backend == "local" then req.no_task = false end
  local plan, msg = planner.plan(req)
  if not plan then return nil, msg end
  local job, lmsg, lcode, info = jobs.launch(plan, {
    backend = args.backend, name = args.name, cap = args.max_cost, managed = args.managed, ctx = ctx,
    progress = function(done, total, text)
      if ctx and ctx.progress then ctx:progress(done + 1, total + 1, text) end
    end })
  if not job then
    if lcode == "VML_EMONEY" and info then
      return nil, string.format("%s (needed $%.2f, remaining $%s)", lmsg, info.needed or 0, tostring(info.remaining))
    end
    local where = info and info.job_id and (" (job " .. info.job_id .. "; its failure and fixes: get_job_status)") or ""
    return nil, tostring(lmsg) .. where
  end
  local st = jobs.status(job.id)
  local est = st.estimate or {}
  local c = est.cost or {}
  return st, string.format("Launched job %s on %s: %s. Estimate: %s. Follow it with get_job_status (job_id %s).",
    st.id, st.backend, st.where,
    c.expected and string.format("$%.2f expected ($%.2f-$%.2f)", c.expected, c.min or c.expected, c.max or c.expected) or "no estimate",
    st.id)
end

return M
