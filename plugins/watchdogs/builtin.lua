-- SPDX-License-Identifier: MIT
--
-- The shipped watchdog rules (issue 15): they look at a running job's recent steps and warn, or
-- stop the job (SIGTERM: the training program saves a checkpoint and exits) before it wastes
-- money. A user overrides a rule by dropping a file of the same form into <config>/watchdogs/
-- (a rule with the same id and no check changes only its action and settings, e.g.
-- { id = "stalled", action = "warn", settings = { min_s = 600 } }), or adds rules with checks.
--
-- check(ctx, settings) returns the evidence (a sentence) when the rule fires, else nil.
-- ctx: { steps = { {step=, loss=, ts=, step_time_s=, tokens_per_s=}, ... } (oldest first, the
--        recent ones), new = the steps that arrived in this call, now = seconds (epoch),
--        state = job state, hp = the job's hyperparameters, plan = { step_s=, duration_h=,
--        setup_s=, setup_source= } (what the estimate implies, when it says; setup_s: expected
--        seconds of install, download and load before the first step, and where that figure came
--        from), started_at =, setup_since = when the current machine began its set-up (nil
--        outside that stretch), backend = }
-- fixes(ctx, settings) returns { {title=, tool=, arguments=} | {title=, command=} ... }.
local function finite(x)
  return type(x) == "number" and x == x and x ~= math.huge and x ~= -math.huge
end

local function mean(list, from, to)
  local s, n = 0, 0
  for i = from, to do
    local v = list[i] and list[i].loss
    if finite(v) then s, n = s + v, n + 1 end
  end
  return n > 0 and s / n or nil
end

-- launch_training with job_id relaunches that job's request; the hyperparameters given change it
local function relaunch(ctx, hp, title)
  return { title = title, tool = "launch_training",
    arguments = { job_id = ctx.job_id, hyperparameters = hp } }
end

local function lower_lr(ctx, factor)
  local lr = tonumber((ctx.hp or {}).learning_rate)
  if not lr then
    return { title = "Relaunch with a lower learning rate (about a third of this one)",
      tool = "launch_training",
             arguments = { job_id = ctx.job_id } }
  end
  local new = tonumber(string.format("%.3g", lr * factor))
  return relaunch(ctx, { learning_rate = new },
    string.format("Relaunch with learning_rate %s (was %s) from the last checkpoint", tostring(new),
      tostring(lr)))
end

-- no step yet on this machine, `factor` times the expected set-up (and min_s) after it began
local function setup_check(ctx, s)
  local since, want = ctx.setup_since, ctx.plan and ctx.plan.setup_s
  if #ctx.steps > 0 or not since or not want or want <= 0 then return nil end
  local limit = math.max(s.min_s or 0, (s.factor or 1) * want)
  local quiet = ctx.now - since
  if quiet > limit then
    return string.format(
      "no first step %.0f s after the set-up began (expected about %.0f s from %s; "
      .. "the limit is %.0f s)", quiet, want, tostring(ctx.plan.setup_source or "the plan"), limit)
  end
end

local function setup_fixes(ctx, stopped)
  local f = {
    { title =
      "Read the job's output for the set-up step that hangs or fails (pip errors, a download that "
        .. "stalls, a gated model waiting for access, out of disk)", tool = "get_job_logs",
      arguments = { job_id = ctx.job_id, stream = "stderr", tail = 100 },
      command = "vibeml jobs logs " .. tostring(ctx.job_id) .. " --stream stderr" },
  }
  if stopped then
    f[#f + 1] =
      { title = "When the cause is fixed, relaunch (nothing was trained: it starts from step 0)",
                  tool = "launch_training", arguments = { job_id = ctx.job_id } }
  end
  f[#f + 1] =
    { title =
    "If this set-up is slow but healthy (a very large model download), allow more time: a file "
      .. "in <config>/watchdogs/ with { id = \"stuck_in_setup\", settings = { factor = 12 } }" }
  return f
end

return {
  kind = "watchdog",
  name = "builtin",
  version = "1.0.0",
  description =
    "non-finite loss, divergence, stalled steps, stuck in set-up, throughput far below the plan",
  rules = {
    { id = "non_finite_loss", action = "stop",
      message = "The training loss became NaN or infinite; every step from here on is wasted.",
      check = function(ctx)
        for _, s in ipairs(ctx.steps) do
          local l = s.loss
          if l ~= nil and (type(l) == "string" or not finite(l)) then
            return string.format("loss %s at step %s", tostring(l), tostring(s.step))
          end
        end
      end,
      fixes = function(ctx)
        return { lower_lr(ctx, 0.3),
                 { title =
                   "Check the data for empty or extreme examples, and keep gradient clipping on " ..
                   "(max_grad_norm 1.0)" } }
      end },

    { id = "divergence", action = "stop",
      settings = { window = 8, factor = 3, logs = 3 },
      message = "The loss diverged: it stayed far above its recent average.",
      -- every position in the recent steps is judged, so a pull that brings many logs at once
      -- (a cloud job's log is read every few seconds) misses nothing
      check = function(ctx, s)
        local st, n = ctx.steps, #ctx.steps
        for last = s.window + s.logs, n do
          local base = mean(st, last - s.logs - s.window + 1, last - s.logs)
          local all = base and base > 0
          for i = last - s.logs + 1, last do
            if not all then break end
            local l = st[i].loss
            all = finite(l) and l > s.factor * base
          end
          if all then
            return string.format(
              "loss %.4g at step %s, above %g x the average %.4g of the %d logs before, for %d " ..
              "logs in a row",
              st[last].loss, tostring(st[last].step), s.factor, base, s.window, s.logs)
          end
        end
      end,
      fixes = function(ctx)
        return { lower_lr(ctx, 0.3),
                 { title = "Add learning-rate warm-up (warmup_ratio 0.03-0.1) and keep gradient "
                     .. "clipping on" } }
      end },

    { id = "stalled", action = "stop",
      -- no step for `factor` times the recent time between logged steps, and at least min_s
      settings = { factor = 20, min_s = 300 },
      message =
        "The job stopped making steps: it is billed but not training (a hang in data loading, a " ..
        "collective or the disk).",
      check = function(ctx, s)
        local st, n = ctx.steps, #ctx.steps
        if ctx.state ~= "running" or n < 3 then return nil end
        local gap = (st[n].ts - st[math.max(1, n - 10)].ts) / math.max(1, math.min(10, n - 1))
        local limit = math.max(s.min_s, s.factor * gap)
        local quiet = ctx.now - st[n].ts
        if quiet > limit then
          return string.format("no step for %.0f s since step %s (steps were logged every %.2f s; "
            .. "the limit is %.0f s)", quiet, tostring(st[n].step), gap, limit)
        end
      end,
      fixes = function(ctx)
        return {
          { title = "Read the end of the job's log for a hang (data loader, NCCL, disk full)",
          tool = "get_job_logs",
                   arguments = { job_id = ctx.job_id } },
                 { title =
                   "Relaunch from the last checkpoint (a fresh VM often clears a stuck device)",
                   tool = "launch_training",
                   arguments = { job_id = ctx.job_id } } }
      end },

    -- Stuck in set-up: no first step long after the machine began its set-up. The plan's
    -- set-up figure is an expected value whose pessimistic bound is at most about 2.7x it (slow
    -- provisioning; a download at half the expected speed is 2x), so 3x is past anything the plan
    -- allowed for: a warning. At 6x a healthy set-up is very unlikely (a hung pip, a gated model
    -- waiting for access, a dead mirror) and the job has billed six set-ups for nothing: it is
    -- stopped. min_s keeps short set-ups (seconds) from being judged on noise. The two share
    -- setup_check below; a user file changes either's factor or min_s by id.
    { id = "setup_slow", action = "warn",
      settings = { factor = 3, min_s = 120 },
      message = "The job is still setting up (no first step) well past the set-up estimate.",
      check = function(ctx, s) return setup_check(ctx, s) end,
      fixes = function(ctx) return setup_fixes(ctx, false) end },

    { id = "stuck_in_setup", action = "stop",
      settings = { factor = 6, min_s = 600 },
      message =
        "The job never made its first step, far past the set-up estimate: it is billed but not " ..
        "training. "
        .. "It was stopped before any step, so there is no checkpoint: a relaunch starts from " ..
          "the beginning.",
      check = function(ctx, s) return setup_check(ctx, s) end,
      fixes = function(ctx) return setup_fixes(ctx, true) end },

    { id = "slow_throughput", action = "warn",
      -- after `skip` logs (warm-up), the time per step over the last `logs` logs is more than
      -- 1/fraction times what the plan's expected duration allows per step
      settings = { fraction = 0.25, skip = 3, logs = 5 },
      message =
        "Training runs far slower than planned, so it will take longer and cost more than quoted.",
      check = function(ctx, s)
        local want = ctx.plan and ctx.plan.step_s
        local st, n = ctx.steps, #ctx.steps
        if not want or want <= 0 or n < s.skip + s.logs then return nil end
        local a, b = st[n - s.logs], st[n]
        if not (a and a.step and b.step and b.step > a.step) then return nil end
        local got = (b.ts - a.ts) / (b.step - a.step)
        if got * s.fraction > want then
          return string.format(
            "%.3g s per step over the last %d logs, planned %.3g s (%.1fx slower)",
            got, s.logs, want, got / want)
        end
      end,
      fixes = function(ctx)
        return {
          { title = "Check the GPU is used (not a CPU fallback) and the data loader keeps up" },
                 { title = "Raise the batch size if memory allows, or plan again on a faster GPU",
                   tool = "plan_training" } }
      end },
  },
}
