-- Changing a running job's cost cap (jobs.set_cap, the set_job_cap tool, budget.set_cap) with
-- real processes on the local backend and the real ledger: a raised cap is the one the job is
-- stopped at (it runs past the old one), the change is an event and the re-quote's cap; a cap
-- below the cost so far, an ended job and a stopping job are refused; a raise over the month's
-- budget is asked (elicitation) or refused with the numbers, and the ledger holds the new cap.
local T = require "vibeml.test"
local jobs = require "vibeml.jobs"
local budget = require "vibeml.budget"

-- one step every 0.1 s, a checkpoint on SIGTERM (as a training would)
local TRAIN = [[
trap 'echo "step=$i" > "$VIBEML_CHECKPOINT_DIR/checkpoint-$i"; exit 143' TERM
for i in $(seq 1 400); do
  echo "@@VIBEML {\"v\":1,\"event\":\"step\",\"step\":$i,\"total_steps\":400,\"loss\":1.5}"
  sleep 0.1
done
]]
local function task() return { task = { name = "capped", run = TRAIN }, workflow = "tiny" } end

-- the job's cap-change events (kind "cost" with old_cap), oldest first
local function events_of(id)
  local out = {}
  for _, l in ipairs(jobs.logs(id, { stream = "events", tail = 100000 }).lines) do
    local e = vibeml.json.decode(l)
    if e.kind == "cost" and e.data.old_cap then out[#out + 1] = e.data end
  end
  return out
end

local function ctx(answer)
  local c = { asked = {} }
  function c:progress() end
  function c:log() end
  function c:supports(what) return answer ~= nil and what == "elicitation" end
  function c:elicit(q, _schema)
    self.asked[#self.asked + 1] = q
    return { action = answer and "accept" or "decline", content = { raise = answer == true } }
  end
  return c
end

T.case("the ledger: a raise is reserved; over the month's budget it is asked or refused", function()
  assert(budget.set_limits{ monthly = 10, per_job = false })
  assert(budget.reserve{ job_id = "other", amount = 4, cap = 4 })
  assert(budget.reserve{ job_id = "j1", amount = 2, cap = 2 })
  T.eq(budget.accrue("j1", 1), false)
  local ok, info = budget.set_cap{ job_id = "j1", cap = 5 }
  T.ok(ok, tostring(info)); T.eq(info.old_cap, 2); T.eq(info.needed, 3)
  T.eq(budget.status().reserved, 9)
  local over, cap = budget.over_cap("j1", 2.5)
  T.eq(over, false); T.eq(cap, 5)
  -- 4 + 8 > 10: refused with the numbers and the fix when nobody can be asked
  local r, msg, code, i = budget.set_cap{ job_id = "j1", cap = 8 }
  T.eq(r, nil); T.eq(code, "VML_EMONEY"); T.eq(i.remaining, 1)
  T.contains(msg,
    "Raising the cap to $8.00 needs $3.00 more, but only $1.00 remains of this month's budget " ..
    "($10.00 for")
  T.contains(msg, "vibeml budget set --monthly 12"); T.contains(msg, "a cap of at most $6.00")
  -- declined, then approved through elicitation (recorded as an override)
  local c = ctx(false)
  r, msg = budget.set_cap{ job_id = "j1", cap = 8, ctx = c }
  T.eq(r, nil); T.contains(msg, "declined"); T.contains(c.asked[1], "Raise the cap anyway?")
  T.eq(budget.status().reserved, 9)
  ok, info = budget.set_cap{ job_id = "j1", cap = 8, ctx = ctx(true) }
  T.ok(ok, tostring(info)); T.eq(info.override, true)
  local row
  for _, j in ipairs(budget.status().jobs) do if j.job_id == "j1" then row = j end end
  T.eq(row.reserved, 8); T.eq(row.cap, 8); T.eq(row.override_by, "elicitation")
  -- below the cost so far, and after settlement
  r, msg, code = budget.set_cap{ job_id = "j1", cap = 0.5 }
  T.eq(r, nil); T.eq(code, "VML_EINVAL");
    T.contains(msg, "below what job j1 has already cost ($2.50)")
  assert(budget.settle("j1", 2))
  r, msg, code = budget.set_cap{ job_id = "j1", cap = 9 }
  T.eq(r, nil); T.eq(code, "VML_ESTATE"); T.ok(msg)
  -- above the per-job cap
  assert(budget.set_limits{ per_job = 3 })
  assert(budget.reserve{ job_id = "j2", amount = 1, cap = 1 })
  r, msg, code = budget.set_cap{ job_id = "j2", cap = 4 }
  T.eq(r, nil); T.eq(code, "VML_EMONEY"); T.contains(msg, "above the per-job cap of $3.00")
  assert(budget.set_limits{ monthly = false, per_job = false })
end)

T.case("a raised cap is enforced: the job runs past its old cap and stops at the new one",
  function()
  -- 3600 $/h = 1 $/s: the old cap 1 $ would stop it after about 1 s, the new 3 $ after about 3 s
  local job = assert(jobs.launch(task(), { backend = "local", rate_hr = 3600, cap = 1, grace = 5 }))
  local st, msg = job:set_cap(3, { by = "the test" })
  T.ok(st, tostring(msg))
  T.eq(st.cost.cap, 3)
  st = assert(job:wait{ timeout = 30 })
  T.eq(st.state, "terminated"); T.eq(st.stop_reason, "budget")
  T.ok(st.cost.final >= 3 and st.cost.final < 5, "stopped at the new cap, not the old: "
    .. st.cost.final)
  local ev = events_of(job.id)
  T.contains(ev[1].message, "cap raised from $1.00 to $3.00 by the test")
  T.eq(ev[1].old_cap, 1); T.eq(ev[1].cap, 3)
  -- ended: refused, the cap stays
  local r, why, code = jobs.set_cap(job.id, 10)
  T.eq(r, nil); T.eq(code, "VML_ESTATE"); T.contains(why, "has ended (terminated)")
  T.eq(jobs.status(job.id).cost.cap, 3)
end)

T.case("lowering below the cost so far is refused; lowering above it is enforced; the tool",
  function()
  local job =
    assert(jobs.launch(task(), { backend = "local", rate_hr = 3600, cap = 20, grace = 5 }))
  while (jobs.status(job.id).cost.accrued or 0) < 1.5 do vibeml.sleep(0.1) end
  local r, why, code = jobs.set_cap(job.id, 0.5)
  T.eq(r, nil); T.eq(code, "VML_EINVAL");
    T.contains(why, "below what job " .. job.id .. " has already cost")
  T.raises("USD above 0", function() assert(jobs.set_cap(job.id, -1)) end)
  -- the tool, as an MCP client calls it: lowered to 4 $, stopped there
  local tool = require "vibeml.tools.set_job_cap"
  local st, text = tool.handler({ job_id = job.id, max_cost = 4 }, ctx())
  T.ok(st, tostring(text)); T.contains(text, "cap is now $4.00")
  T.eq(jobs.status(job.id).cost.cap, 4)
  st = assert(job:wait{ timeout = 30 })
  T.eq(st.stop_reason, "budget")
  T.ok(st.cost.final >= 4 and st.cost.final < 6, "stopped at the lowered cap: " .. st.cost.final)
  T.contains(events_of(job.id)[1].message, "cap lowered from $20.00 to $4.00 by an MCP client")
  local _, m2 = tool.handler({ job_id = "nope", max_cost = 4 }, ctx())
  T.contains(m2, "no job 'nope'")
end)

return T.run()
