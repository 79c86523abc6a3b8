-- `vibeml launch` (the options of `vibeml plan`) [--backend local|skypilot] [--name N]
-- [--cluster] [--yes] [--follow] [--json]: plan, check the budget (asking the person when it
-- would be exceeded), launch; prints the job id at once.
local jobs = require "vibeml.jobs"
local tty = require "vibeml.tty"
local plan_cli = require "vibeml.cli.plan"
local E = vibeml.E

local USAGE = [[
usage: vibeml launch --model ID [--dataset ID] [plan options...] [--backend local|skypilot]
                     [--name NAME] [--cluster] [--yes] [--follow] [--json]

Plans the job like `vibeml plan` (see `vibeml help plan` for the options), checks the budget,
launches it and prints the job id at once. Where the job runs is always printed.
  --backend B   local (this machine) or skypilot (cloud GPUs); default: your preference, else
                skypilot when SkyPilot has a cloud enabled, else local (the answer says which
                and why)
  --cluster     a plain SkyPilot cluster run instead of a managed job (no spot recovery)
  --yes         do not ask before going over the budget (the ledger records the override)
  --follow      then print the job's output until it ends
  --max-cost USD   also the job's cost cap: it is stopped when it reaches this cost
Exit codes: 0 launched, 1 failure, 2 usage, 3 refused by the budget.
]]

local function main(args)
  local rest, o = {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--backend" then
      o.backend = args[i + 1]; i = i + 1
      local c = o.backend
        and require("vibeml.names").match(o.backend,
        { { name = "local" }, { name = "skypilot", aliases = { "sky" } } })
      o.backend = c or o.backend
      if o.backend == "auto" then o.backend = nil end -- as if not given
    elseif a == "--name" then o.name = args[i + 1]; i = i + 1
    elseif a == "--cluster" then o.cluster = true
    elseif a == "--yes" or a == "-y" then o.yes = true
    elseif a == "--follow" then o.follow = true
    else rest[#rest + 1] = a end
    i = i + 1
  end
  if o.backend and o.backend ~= "local" and o.backend ~= "skypilot" then
    vibeml.eprint("vibeml launch: --backend must be local or skypilot, not '" .. tty.safe(o.backend)
      .. "'"
      .. require("vibeml.names").did_you_mean(o.backend, { "local", "skypilot" })) return 2
  end
  local ok, req, flags = pcall(plan_cli.parse, rest,
    { "--backend", "--name", "--cluster", "--yes", "--follow" })
  if not ok then
    vibeml.eprint("vibeml launch: " .. (type(req) == "table" and req.usage or tostring(req)))
    vibeml.eprint(USAGE)
    return 2
  end
  if flags.help then print(USAGE) return 0 end
  if not req.model then vibeml.eprint("vibeml launch: --model is required") return 2 end
  local planner = require "vibeml.planner"
  local p, err, code = planner.plan(req)
  if not p then
    vibeml.eprint("vibeml launch: " .. tty.safe(err)) return code == E.EINVAL and 2 or 1
  end
  local job, msg, lcode = jobs.launch(p,
    { backend = o.backend, name = o.name, cap = req.max_cost,
    managed = not o.cluster, confirm = function(question)
      if o.yes then return true end
      vibeml.eprint(question .. " (re-run with --yes to approve)")
      return false
    end })
  if not job then
    if flags.json then print(vibeml.json.encode({ error = { message = msg, code = lcode } })) end
    vibeml.eprint("vibeml launch: " .. tty.safe(msg))
    return lcode == E.EMONEY and 3 or 1
  end
  local st = jobs.status(job.id)
  -- why this backend when none was asked for (e.g. local because SkyPilot is not set up)
  local reason
  if not o.backend then
    local row = require("vibeml.jobs.db").get(job.id)
    local okp, params = pcall(vibeml.json.decode, row and row.params or "{}")
    reason = okp and type(params) == "table" and type(params.backend_reason) == "string"
      and params.backend_reason or nil
  end
  if flags.json then st.backend_reason = reason; print(vibeml.json.encode(st)) else
    print(tty.safe(job.id))
    vibeml.eprint(string.format("launched %s on %s (%s)", tty.safe(job.id), tty.safe(st.where),
      tty.safe(st.state)))
    if reason then vibeml.eprint(st.backend .. " backend: " .. tty.safe(reason)) end
  end
  if o.follow then return require("vibeml.cli.jobs").main({ "logs", job.id, "--follow" }) end
  return 0
end

return { summary = "plan and launch a fine-tuning job; prints its id at once", usage = USAGE,
  main = main }
