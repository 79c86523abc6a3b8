-- `vibeml jobs [list] [--state S] [--backend B] [--limit N] [--json]` · `jobs show ID [--json]`
-- · `jobs logs ID [--follow] [--stream stdout|stderr|events] [--tail N]` · `jobs stop ID [--grace S]`
local jobs = require "vibeml.jobs"
local safe = require("vibeml.tty").safe

local USAGE = [[
usage: vibeml jobs [list] [--state S] [--backend local|skypilot] [--limit N] [--json]
       vibeml jobs show ID [--json]
       vibeml jobs logs ID [--follow] [--stream stdout|stderr|events] [--tail N]
       vibeml jobs stop ID [--grace SECONDS] [--json]

  list    jobs newest first (state: active, pending, launching, running, recovering, completed,
          failed, terminated)
  show    one job: state, where it runs, progress, cost, failure and fixes
  logs    a job's output; --follow keeps printing new lines until the job ends
  stop    graceful stop (SIGTERM, checkpoint, SIGKILL after the grace period; SkyPilot: cancel)
Exit codes: 0 ok, 1 failure (e.g. no such job), 2 usage.
]]

local function is_tty()
  local r = vibeml.proc.run({ "sh", "-c", "test -t 1" }, { stdout = "inherit" })
  return r and r.code == 0 and not os.getenv("NO_COLOR")
end

local function parse(args, from)
  local o = { pos = {} }
  local i = from
  while i <= #args do
    local a = args[i]
    local function val()
      i = i + 1
      if not args[i] then error({ usage = a .. " needs a value" }) end
      return args[i]
    end
    if a == "--json" then o.json = true
    elseif a == "--follow" or a == "-f" then o.follow = true
    elseif a == "--state" then o.state = val()
    elseif a == "--backend" then o.backend = val()
    elseif a == "--limit" then o.limit = math.tointeger(tonumber(val())) or error({ usage = "--limit needs a number" })
    elseif a == "--offset" then o.offset = math.tointeger(tonumber(val())) or error({ usage = "--offset needs a number" })
    elseif a == "--tail" then o.tail = math.tointeger(tonumber(val())) or error({ usage = "--tail needs a number" })
    elseif a == "--stream" then o.stream = val()
    elseif a == "--grace" then o.grace = tonumber(val()) or error({ usage = "--grace needs seconds" })
    elseif a == "-h" or a == "--help" then o.help = true
    elseif a:sub(1, 1) == "-" then error({ usage = "unknown option '" .. a .. "'" })
    else o.pos[#o.pos + 1] = a end
    i = i + 1
  end
  return o
end

local function money(x) return string.format("$%.2f", x or 0) end

local function bar(st)
  local p = st.progress or {}
  if not p.step or not p.total_steps or p.total_steps == 0 then return nil end
  local frac = math.min(1, p.step / p.total_steps)
  local w = 24
  local n = math.floor(frac * w + 0.5)
  return string.format("[%s%s] %3d%% step %d/%d%s%s", string.rep("#", n), string.rep(".", w - n),
    math.floor(frac * 100), p.step, p.total_steps, p.loss and string.format(" loss %.4g", p.loss) or "",
    p.eta_s and string.format(" eta %dm%02ds", p.eta_s // 60, math.floor(p.eta_s % 60)) or "")
end
local M_bar = bar

local function show_human(st)
  local S = safe -- names, ids and messages may hold terminal control characters
  print(string.format("job %s  %s  (%s)", S(st.id), S(st.state), S(st.name or "")))
  print("  runs on:   " .. S(st.where))
  if st.workflow or st.model then
    print(string.format("  training:  %s  %s  %s", S(st.workflow or "-"), S(st.model or "-"), S(st.dataset or "-")))
  end
  local b = bar(st)
  if b then print("  progress:  " .. b) end
  local p = st.progress or {}
  if p.tokens_per_s then print(string.format("  speed:     %.0f tokens/s", p.tokens_per_s)) end
  print(string.format("  cost:      %s%s  (rate %s/h x %d)", money(st.cost.final or st.cost.accrued),
    st.cost.cap and (" of cap " .. money(st.cost.cap)) or "", money(st.cost.rate_hr), st.cost.nodes or 1))
  if st.estimate and st.estimate.cost and st.estimate.cost.expected then
    print(string.format("  estimate:  %s expected (%s - %s)", money(st.estimate.cost.expected),
      money(st.estimate.cost.min), money(st.estimate.cost.max)))
  end
  if st.recoveries and st.recoveries > 0 then print("  recoveries: " .. st.recoveries) end
  if st.stop_reason then print("  stopped:   " .. S(st.stop_reason)) end
  if st.exit_code then print("  exit code: " .. S(st.exit_code)) end
  if st.failure then
    print(string.format("  failure:   [%s] %s", S(st.failure.category), S(st.failure.message or "")))
    for i, f in ipairs(st.failure.fixes or {}) do
      print(string.format("    fix %d: %s%s", i, S(f.title or ""), f.command and ("  $ " .. S(f.command)) or ""))
    end
  end
  local o = st.outputs
  if o then
    print("  output:    " .. S(o.output) .. (o.saved and "" or "  (not saved yet)"))
    print("  checkpoints: " .. S(o.last_checkpoint or o.checkpoints)
      .. (o.last_checkpoint_step and ("  (step " .. o.last_checkpoint_step .. ")") or ""))
    if o.hub_repo then print("  hub repo:  " .. S(o.hub_repo) .. "  " .. S(o.hub_url)) end
    if o.fetch then print("  fetch:     " .. S(o.fetch)) end
  end
  print("  logs:      vibeml jobs logs " .. S(st.id) .. "   (" .. S(st.log_dir) .. ")")
end

local function main(args)
  local sub = args[1]
  local from = 2
  if not sub or sub:sub(1, 1) == "-" then sub, from = "list", 1 end
  local ok, o = pcall(parse, args, from)
  if not ok then
    vibeml.eprint("vibeml jobs: " .. (type(o) == "table" and o.usage or tostring(o)))
    vibeml.eprint(USAGE)
    return 2
  end
  if o.help then print(USAGE) return 0 end
  if sub == "list" then
    pcall(jobs.poll)
    local list, total = jobs.list({ state = o.state, backend = o.backend, limit = o.limit or 20, offset = o.offset })
    if o.json then print(vibeml.json.encode({ jobs = list, total = total })) return 0 end
    if #list == 0 then print("no jobs" .. (o.state and (" in state " .. o.state) or "") .. " (launch one with `vibeml launch`)") return 0 end
    print(string.format("%-16s %-11s %-9s %-9s %9s  %s", "ID", "STATE", "BACKEND", "WORKFLOW", "COST", "PROGRESS"))
    for _, j in ipairs(list) do
      local p = j.progress or {}
      local S = safe
      print(string.format("%-16s %-11s %-9s %-9s %9s  %s", S(j.id), S(j.state), S(j.backend), S(j.workflow or "-"),
        money(j.cost.final or j.cost.accrued), p.step and string.format("%d/%s", p.step, tostring(p.total_steps or "?")) or "-"))
    end
    if total > #list then print(string.format("(%d of %d; --limit / --offset for more)", #list, total)) end
    return 0
  end
  local id = o.pos[1]
  if not id then vibeml.eprint("vibeml jobs " .. safe(sub) .. ": a job id is required"); vibeml.eprint(USAGE) return 2 end
  if sub == "show" then
    pcall(jobs.refresh, id)
    local st, msg = jobs.status(id)
    if not st then vibeml.eprint("vibeml jobs show: " .. safe(msg)) return 1 end
    if o.json then print(vibeml.json.encode(st)) else show_human(st) end
    return 0
  elseif sub == "logs" then
    local stream = o.stream or "stdout"
    local r, msg, code = jobs.logs(id, { stream = stream, tail = o.tail or (not o.follow and 100 or 20) })
    if not r then vibeml.eprint("vibeml jobs logs: " .. safe(msg)) return code == "VML_EINVAL" and 2 or 1 end
    -- a job's output is not ours: escape control characters (tabs kept)
    for _, l in ipairs(r.lines) do print(safe(l, true)) end
    if not o.follow then return 0 end
    local tty = is_tty()
    local cursor, last_bar = r.cursor, nil
    while true do
      pcall(jobs.refresh, id)
      local more = jobs.logs(id, { stream = stream, since = cursor, pull = false })
      if more then
        for _, l in ipairs(more.lines) do print(safe(l, true)) end
        cursor = more.cursor
      end
      local st = jobs.status(id)
      if tty then
        local b = bar(st)
        if b and b ~= last_bar then vibeml.eprint(b); last_bar = b end
      end
      if st.state == "completed" or st.state == "failed" or st.state == "terminated" then
        vibeml.eprint(string.format("job %s %s; cost %s", id, st.state, money(st.cost.final or st.cost.accrued)))
        return st.state == "completed" and 0 or 1
      end
      vibeml.sleep(1)
    end
  elseif sub == "stop" then
    local st, msg = jobs.stop(id, { reason = "user", grace = o.grace })
    if not st then vibeml.eprint("vibeml jobs stop: " .. safe(msg)) return 1 end
    if o.json then print(vibeml.json.encode(st)) return 0 end
    print(string.format("job %s %s; final cost %s", safe(st.id), safe(st.state), money(st.cost.final or st.cost.accrued)))
    return 0
  end
  vibeml.eprint("vibeml jobs: unknown subcommand '" .. safe(sub) .. "'")
  vibeml.eprint(USAGE)
  return 2
end

return { summary = "list, show, follow the logs of, and stop training jobs", usage = USAGE, main = main, bar = M_bar }
