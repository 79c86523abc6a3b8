-- `vibeml jobs [list] [--state S] [--backend B] [--limit N] [--json]` · `jobs show ID [--json]`
-- · `jobs logs ID [--follow] [--raw] [--stream stdout|stderr|events] [--tail N]` · `jobs stop ID
-- [--grace S]` · `jobs cap ID USD [--yes]`. On a terminal, `logs` shows the protocol's @@VIBEML
-- lines as a progress bar and plain sentences (render); piped, or with --raw, it prints the
-- lines as they are, for scripts.
local jobs = require "vibeml.jobs"
local progress = require "vibeml.jobs.progress"
local A = require "vibeml.cli._args"
local safe = require("vibeml.tty").safe
local E = vibeml.E

local USAGE = [[
usage: vibeml jobs [list] [--state S] [--backend local|skypilot] [--limit N] [--json]
       vibeml jobs show ID [--json]
       vibeml jobs logs ID [--follow] [--raw] [--stream stdout|stderr|events] [--tail N]
       vibeml jobs stop ID [--grace SECONDS] [--json]
       vibeml jobs cap ID USD [--yes] [--json]

  list    jobs newest first (state: active, pending, launching, running, recovering, completed,
          failed, terminated)
  show    one job: state, where it runs, progress, cost, failure and fixes
  logs    a job's output; --follow keeps printing new lines until the job ends. On a terminal
          progress is one bar and events are sentences; --raw (or a pipe) prints the
          @@VIBEML protocol lines as they are
  stop    graceful stop (SIGTERM, checkpoint, SIGKILL after the grace period; SkyPilot: cancel)
  cap     a pending or running job's new cost cap: a raise is reserved in the budget (over it:
          asked, or --yes to approve); lowering is allowed down to the cost so far
Exit codes: 0 ok, 1 failure (e.g. no such job), 2 usage, 3 refused by the budget.
]]

-- Whether stdout is a terminal; escapes: whether cursor movement may be used (not NO_COLOR or
-- TERM=dumb), so the bar is redrawn in place instead of printed again.
local function is_tty()
  local r = vibeml.proc.run({ "sh", "-c", "test -t 1" }, { stdout = "inherit" })
  return r and r.code == 0
end
local function escapes_ok() return not os.getenv("NO_COLOR") and os.getenv("TERM") ~= "dumb" end

local SUBS = { "list", "show", "logs", "stop", "cap" }
local OPTIONS = { "--json", "--follow", "--raw", "--state", "--backend", "--limit", "--offset",
  "--tail", "--stream", "--grace", "--yes", "--help" }

local function parse(args, from)
  local o = { pos = {} }
  local i = from
  while i <= #args do
    local a = args[i]
    local function val()
      i = i + 1
      if not args[i] then error({ usage = a .. " needs a value" }, 0) end
      return args[i]
    end
    if a == "--json" then o.json = true
    elseif a == "--follow" or a == "-f" then o.follow = true
    elseif a == "--raw" then o.raw = true
    elseif a == "--state" then o.state = val()
    elseif a == "--backend" then o.backend = val()
    elseif a == "--limit" then
      o.limit = A.number(a, val(), { integer = true, min = 1, max = 100000, example = "20" })
    elseif a == "--offset" then
      o.offset = A.number(a, val(), { integer = true, min = 0, example = "20" })
    elseif a == "--tail" then
      o.tail = A.number(a, val(), { integer = true, min = 0, max = 100000, example = "100" })
    elseif a == "--stream" then o.stream = val()
    elseif a == "--grace" then
      o.grace = A.number(a, val(),
      { min = 0, max = 3600, what = "a number of seconds", example = "30" })
    elseif a == "--yes" or a == "-y" then o.yes = true
    elseif a == "-h" or a == "--help" then o.help = true
    elseif a:sub(1, 1) == "-" then error({ usage = A.unknown_option(a, OPTIONS) })
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
    math.floor(frac * 100), p.step, p.total_steps, p.loss and string.format(" loss %.4g", p.loss)
      or "",
    p.eta_s and string.format(" eta %dm%02ds", p.eta_s // 60, math.floor(p.eta_s % 60)) or "")
end
local M_bar = bar

local UP = "\27[1A\r\27[K" -- back to the bar's line and clear it

local function event_text(t)
  local ev = tostring(t.event)
  if ev == "checkpoint" then
    return string.format("checkpoint at step %s: %s", safe(t.step or "?"), safe(t.path or "?"))
  elseif ev == "phase" then
    return string.format("%s: %s", safe(t.phase or "phase"), safe(t.status or ""))
  elseif ev == "end" then
    return string.format("training ended (%s) at step %s%s", safe(t.status or "done"),
      safe(t.step or "?"),
      tonumber(t.loss or t.train_loss)
        and string.format(", loss %.4g", tonumber(t.loss or t.train_loss)) or "")
  elseif ev == "start" then
    return "training started" .. (t.model and (": " .. safe(t.model)) or "")
      .. (t.total_steps and (", " .. safe(t.total_steps) .. " steps") or "")
  elseif ev == "error" then
    return "error: " .. safe(t.message or t.error or vibeml.json.encode(t))
  end
  local rest = {}
  for k, v in pairs(t) do
    if k ~= "event" and type(v) ~= "table" then rest[#rest + 1] = k .. "=" .. safe(v) end
  end
  table.sort(rest)
  return ev .. (#rest > 0 and (": " .. table.concat(rest, " ")) or "")
end

-- One output line of a job for a person at a terminal: returns the lines to print. Progress
-- (@@VIBEML step events) is one bar, redrawn in place when escapes are allowed (else printed
-- again when its whole percent changes); other protocol events are sentences; anything else is
-- printed as it is (control characters escaped). st keeps the bar between calls.
local function render(line, st, escapes)
  local kind, t = progress.parse_line(line)
  local function plain(text)
    if st.shown and escapes then return { UP .. text, st.bar } end
    return { text }
  end
  if kind ~= "vibeml" then return plain(safe(line, true)) end
  local p = progress.to_progress(kind, t) or {}
  if t.event == "step" or (t.event == "start" and p.total_steps and p.step) then
    local b =
      bar(
      { progress = { step = p.step, total_steps = p.total_steps, loss = p.loss, eta_s = p.eta_s } })
    if not b then return {} end
    local pct = b:match("%]%s*(%d+)%%")
    if b == st.bar or (not escapes and pct == st.pct) then return {} end
    local out = { ((st.shown and escapes) and UP or "") .. b }
    st.bar, st.pct, st.shown = b, pct, true
    return out
  end
  local out = plain(event_text(t))
  if t.event == "end" then st.shown = false end
  return out
end

local function show_human(st)
  local S = safe -- names, ids and messages may hold terminal control characters
  print(string.format("job %s  %s  (%s)", S(st.id), S(st.state), S(st.name or "")))
  print("  runs on:   " .. S(st.where))
  if st.workflow or st.model then
    print(string.format("  training:  %s  %s  %s", S(st.workflow or "-"), S(st.model or "-"),
      S(st.dataset or "-")))
  end
  local b = bar(st)
  if b then print("  progress:  " .. b) end
  local p = st.progress or {}
  if p.tokens_per_s then print(string.format("  speed:     %.0f tokens/s", p.tokens_per_s)) end
  print(string.format("  cost:      %s%s  (rate %s/h x %d)",
    money(st.cost.final or st.cost.accrued),
    st.cost.cap and (" of cap " .. money(st.cost.cap)) or "", money(st.cost.rate_hr), st.cost.nodes
      or 1))
  if st.estimate and st.estimate.cost and st.estimate.cost.expected then
    print(string.format("  estimate:  %s expected (%s - %s)", money(st.estimate.cost.expected),
      money(st.estimate.cost.min), money(st.estimate.cost.max)))
  end
  -- the live re-quote (measured speed), with its warnings: over the cap, over the month's budget
  if st.requote and st.requote.summary then
    print("  re-quote:  " .. S(st.requote.summary))
    if st.requote.crosses_budget then
      print(
        "  warning:   this month's budget runs out before the job ends; stop it or raise the " ..
          "budget "
        .. "(`vibeml budget set --monthly USD`)")
    end
  end
  if st.recoveries and st.recoveries > 0 then print("  recoveries: " .. st.recoveries) end
  if st.stop_reason then print("  stopped:   " .. S(st.stop_reason)) end
  if st.exit_code then print("  exit code: " .. S(st.exit_code)) end
  if st.failure then
    print(string.format("  failure:   [%s] %s", S(st.failure.category),
      S(st.failure.message or "")))
    for i, f in ipairs(st.failure.fixes or {}) do
      print(string.format("    fix %d: %s%s", i, S(f.title or ""), f.command
        and ("  $ " .. S(f.command)) or ""))
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
  local known = false
  for _, x in ipairs(SUBS) do if x == sub then known = true end end
  if not known then
    vibeml.eprint("vibeml jobs: " .. A.unknown_sub(sub, SUBS))
    vibeml.eprint(USAGE)
    return 2
  end
  if sub == "list" then
    pcall(jobs.poll)
    local list, total =
      jobs.list({ state = o.state, backend = o.backend, limit = o.limit or 20, offset = o.offset })
    if o.json then print(vibeml.json.encode({ jobs = list, total = total })) return 0 end
    if #list == 0 then
      print("no jobs" .. (o.state and (" in state " .. o.state) or "")
        .. " (launch one with `vibeml launch`)") return 0
    end
    print(string.format("%-16s %-11s %-9s %-9s %9s  %s", "ID", "STATE", "BACKEND", "WORKFLOW",
      "COST", "PROGRESS"))
    for _, j in ipairs(list) do
      local p = j.progress or {}
      local S = safe
      print(string.format("%-16s %-11s %-9s %-9s %9s  %s", S(j.id), S(j.state), S(j.backend),
        S(j.workflow or "-"),
        money(j.cost.final or j.cost.accrued), p.step
          and string.format("%d/%s", p.step, tostring(p.total_steps or "?")) or "-"))
    end
    if total > #list then
      print(string.format("(%d of %d; --limit / --offset for more)", #list, total))
    end
    return 0
  end
  local id = o.pos[1]
  if not id then
    vibeml.eprint("vibeml jobs " .. safe(sub) .. ": a job id is required")
    vibeml.eprint(USAGE) return 2
  end
  if sub == "show" then
    pcall(jobs.refresh, id)
    local st, msg = jobs.status(id)
    if not st then vibeml.eprint("vibeml jobs show: " .. safe(msg)) return 1 end
    if o.json then print(vibeml.json.encode(st)) else show_human(st) end
    return 0
  elseif sub == "logs" then
    local stream = o.stream or "stdout"
    local r, msg, code = jobs.logs(id,
      { stream = stream, tail = o.tail or (not o.follow and 100 or 20) })
    if not r then
      vibeml.eprint("vibeml jobs logs: " .. safe(msg)) return code == E.EINVAL and 2 or 1
    end
    -- a job's output is not ours: escape control characters (tabs kept). A person at a
    -- terminal sees progress as a bar; a pipe or --raw gets the lines as they are.
    local human = not o.raw and stream ~= "events" and is_tty()
    local esc, st = human and escapes_ok(), {}
    local function show(lines)
      for _, l in ipairs(lines) do
        if human then for _, x in ipairs(render(l, st, esc)) do print(x) end
        else print(safe(l, true)) end
      end
    end
    show(r.lines)
    if not o.follow then return 0 end
    local cursor = r.cursor
    while true do
      pcall(jobs.refresh, id)
      local more = jobs.logs(id, { stream = stream, since = cursor, pull = false })
      if more then
        show(more.lines)
        cursor = more.cursor
      end
      local js = jobs.status(id)
      if js.state == "completed" or js.state == "failed" or js.state == "terminated" then
        vibeml.eprint(string.format("job %s %s; cost %s", id, js.state,
          money(js.cost.final or js.cost.accrued)))
        return js.state == "completed" and 0 or 1
      end
      vibeml.sleep(1)
    end
  elseif sub == "stop" then
    local st, msg = jobs.stop(id, { reason = "user", grace = o.grace })
    if not st then vibeml.eprint("vibeml jobs stop: " .. safe(msg)) return 1 end
    if o.json then print(vibeml.json.encode(st)) return 0 end
    print(string.format("job %s %s; final cost %s", safe(st.id), safe(st.state),
      money(st.cost.final or st.cost.accrued)))
    return 0
  elseif sub == "cap" then
    local okn, usd = pcall(A.number, "the new cap", o.pos[2] and (o.pos[2]:gsub("^%$", "")),
      { min = 0.000001, what = "an amount in USD", example = "5" })
    if not okn then
      vibeml.eprint("vibeml jobs cap: " .. (type(usd) == "table" and usd.usage or tostring(usd)))
        return 2
    end
    if not usd then
      vibeml.eprint("vibeml jobs cap: the new cap in USD is required (e.g. `vibeml jobs cap "
        .. safe(id) .. " 5`)") return 2
    end
    local st, msg, code = jobs.set_cap(id, usd, { by = "the CLI", confirm = function(question)
      if o.yes then return true end
      vibeml.eprint(question .. " (re-run with --yes to approve)")
      return false
    end })
    if not st then
      vibeml.eprint("vibeml jobs cap: " .. safe(msg))
      return code == E.EMONEY and 3 or (code == E.EINVAL and 2 or 1)
    end
    if o.json then print(vibeml.json.encode(st)) return 0 end
    print(string.format("job %s %s; cap %s, cost so far %s", safe(st.id), safe(st.state),
      require("vibeml.budget").format(st.cost.cap), money(st.cost.accrued)))
    return 0
  end
  return 2
end

return { summary = "list, show, follow the logs of, stop and re-cap training jobs", usage = USAGE,
  main = main, bar = M_bar,
         render = render }
