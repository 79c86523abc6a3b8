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
T.case("stuck in set-up: warns at 3x the set-up estimate, stops at 6x, never once a step came",
  function()
  local warn, stop = rule("setup_slow"), rule("stuck_in_setup")
  T.eq(warn.action, "warn"); T.eq(stop.action, "stop")
  local function ctx(quiet, n)
    return { steps = n and steps({ 3 }) or {}, now = 5000 + quiet, setup_since = 5000,
      state = "running",
             plan = { setup_s = 300, setup_source = "the plan's set-up estimate" }, job_id = "j9" }
  end
  T.eq(warn.check(ctx(899), warn.settings), nil)
  T.contains(warn.check(ctx(901), warn.settings), "no first step 901 s after the set-up began")
  T.eq(stop.check(ctx(1799), stop.settings), nil)
  T.contains(stop.check(ctx(1801), stop.settings), "the limit is 1800 s")
  T.eq(stop.check(ctx(5000, true), stop.settings), nil) -- a step arrived: the stall rule's business
  local c = ctx(5000); c.setup_since = nil                 -- not setting up (waiting for capacity)
  T.eq(stop.check(c, stop.settings), nil)
  -- a short set-up is judged against min_s, not against 6 x a few seconds
  local short = ctx(599); short.plan.setup_s = 18
  T.eq(stop.check(short, stop.settings), nil)
  local fixes = stop.fixes(ctx(0), stop.settings)
  T.eq(fixes[1].tool, "get_job_logs"); T.eq(fixes[2].arguments.job_id, "j9")
end)

T.case(
  "the set-up estimate: the plan's figure, else the workflow's ranges, else the sizing defaults",
    function()
  local s, src =
    wd.setup_estimate({ workflow = "smoke", estimate = vibeml.json.encode({ setup_s = 42 }) })
  T.eq(s, 42); T.contains(src, "plan")
  s =
    wd.setup_estimate({ workflow = "smoke",
    estimate = vibeml.json.encode({ setup_s = { expected = 50, max = 90 } }) })
  T.eq(s, 50)
  -- smoke: set-up 5-30 s and warm-up 0-1 s, their middles; no download (it runs on CPU)
  s, src =
    wd.setup_estimate({ workflow = "smoke", estimate = vibeml.json.encode({ duration_h = 0.05 }) })
  T.eq(s, 18); T.contains(src, "workflow smoke")
  -- lora: set-up 180-300 s, warm-up 20-60 s, and an 8 B bf16 model at its 150 MB/s and 1 GB/s
  s, src = wd.setup_estimate({ workflow = "lora" })
  T.eq(math.floor(s), math.floor(240 + 40 + 16e9 / 150e6 + 16e9 / 1e9))
  T.contains(src, "workflow lora")
  -- a workflow that says nothing: the sizing defaults
  local S = require("vibeml.sizing").SETUP
  s, src = wd.setup_estimate({ workflow = "no-such-workflow" })
  T.eq(math.floor(s),
    math.floor(
    S.install[2] + S.warmup[2] + 16e9 / (S.download_mb_s[2] * 1e6) + 16e9 / (S.load_gb_s * 1e9)))
  T.contains(src, "default")
end)
T.case("webhook URLs: http(s) with a host only; scheme and host lower-cased; clear refusals",
  function()
  local n = require "vibeml.notify"
  T.eq(n.check_url("HTTPS://Hooks.Example.COM/T0/Ab"), "https://hooks.example.com/T0/Ab")
  T.eq(n.check_url("http://[::1]:8080/h"), "http://[::1]:8080/h")
  T.eq(n.check_url("https://user:pw@ntfy.example/topic"), "https://user:pw@ntfy.example/topic")
  local function refused(url, want)
    local ok, msg, code = n.check_url(url)
    T.eq(ok, nil); T.eq(code, "VML_EINVAL"); T.contains(msg, want)
  end
  refused("file:///etc/passwd", "only over http or https")
  refused("hooks.example.com/x", "no scheme")
  refused("http://", "names no host")
  refused("http://exa\nmple.com/", "control characters")
  refused("http://host:0/", "port must be a number")
  refused("http://ho$t/", "is not a host name")
  refused(string.rep("a", 3000), "longer than 2048")
end)

return T.run()
