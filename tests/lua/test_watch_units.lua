-- Issue 15 pieces without a job: vibeml.mac (HMAC-SHA256, RFC 4231 vectors), the shipped
-- watchdog rules judged on made-up step histories, and a user override file.
local T = require "vibeml.test"

T.case("vibeml.mac is HMAC-SHA256 (RFC 4231 cases 1 and 2)", function()
  T.eq(vibeml.mac(string.rep("\11", 20), "Hi There"),
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
  T.eq(vibeml.mac("Jefe", "what do ya want for nothing?"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
  local ok = pcall(vibeml.mac, {}, "x")
  T.eq(ok, false)
end)

local wd = require "vibeml.jobs.watchdog"
local function rule(id)
  for _, r in ipairs(wd.rules()) do if r.id == id then return r end end
end
local function steps(losses, dt)
  local out = {}
  for i, l in ipairs(losses) do out[i] = { step = 5 * i, loss = l, ts = 1000 + i * (dt or 1) } end
  return out
end

T.case("shipped rules: NaN, divergence and stall fire on their histories, not on a healthy one",
  function()
  local healthy = steps({ 3.4, 3.3, 3.2, 3.1, 3.0, 2.9, 2.9, 2.8, 2.7, 2.7, 2.6, 2.6, 2.5 })
  local ctx = { steps = healthy, new = {}, now = 1000 + 14, state = "running",
    hp = { learning_rate = 5 }, plan = { step_s = 1 } }
  for _, r in ipairs(wd.rules()) do
    T.eq(r.check(ctx, r.settings), nil)
  end
  local nan = steps({ 3.4, 3.3, "nan" })
  T.contains(rule("non_finite_loss").check({ steps = nan }, {}), "loss nan at step 15")
  local div = steps({ 3, 3, 3, 3, 3, 3, 3, 3, 3, 30, 300, 3000, 3000 })
  T.contains(rule("divergence").check({ steps = div }, rule("divergence").settings),
    "for 3 logs in a row")
  -- two high logs only: not yet
  T.eq(rule("divergence").check({ steps = steps({ 3, 3, 3, 3, 3, 3, 3, 3, 3, 30, 300 }) },
    rule("divergence").settings), nil)
  local st = rule("stalled")
  T.eq(st.check({ steps = healthy, now = 1013 + 299, state = "running" }, st.settings), nil)
  T.contains(st.check({ steps = healthy, now = 1013 + 301, state = "running" }, st.settings),
    "no step for 301 s")
  T.eq(st.check({ steps = healthy, now = 1013 + 301, state = "recovering" }, st.settings), nil)
  local slow = rule("slow_throughput")
  T.contains(slow.check({ steps = steps({ 3, 3, 3, 3, 3, 3, 3, 3, 3 }, 25), plan = { step_s = 1 } },
    slow.settings), "5.0x slower")
  local fix = rule("non_finite_loss").fixes({ job_id = "j1", hp = { learning_rate = 5 } })
  T.eq(fix[1].arguments.hyperparameters.learning_rate, 1.5)
end)

T.case("a user file overrides a shipped rule's settings and action; a bad one is refused",
  function()
  local dir = vibeml.fs.paths().config .. "/watchdogs"
  vibeml.fs.mkdirs(dir)
  vibeml.fs.write(dir .. "/mine.lua",
    'return { kind = "watchdog", name = "mine", rules = { { id = "stalled", action = "warn", ' ..
    'settings = { min_s = 7 } } } }')
  vibeml.fs.write(dir .. "/bad.lua",
    'return { kind = "watchdog", name = "bad", rules = { { id = "x", action = "explode" } } }')
  wd.reset()
  local st = rule("stalled")
  T.eq(st.action, "warn"); T.eq(st.settings.min_s, 7); T.eq(st.settings.factor, 20)
  T.eq(rule("x"), nil)
  vibeml.fs.remove(dir .. "/mine.lua"); vibeml.fs.remove(dir .. "/bad.lua")
  wd.reset()
  T.eq(rule("stalled").action, "stop")
end)
return T.run()
