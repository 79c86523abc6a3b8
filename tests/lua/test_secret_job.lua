-- End to end: a local job that uses a secret runs to completion; its value reached the job's
-- environment only; afterwards no file under VIBEML_HOME (job folder, task file, logs, the
-- database), no log read back through vibeml.jobs and no tool result holds the value or its
-- base64/hex forms. (Contract between the vault, vibeml.proc and the jobs supervisor.)
local T = require "vibeml.test"
local secrets = require "vibeml.vault"
local SECRET = "hf_JobScan_0a1b2c3d4e5f6789QRS"
local home = vibeml.fs.paths().state

local function scan(dir, needles, hits)
  for _, name in ipairs(vibeml.fs.list(dir) or {}) do
    local p = dir .. "/" .. name
    local kind = vibeml.fs.exists(p)
    if kind == "dir" then scan(p, needles, hits)
    elseif kind == "file" then
      local text = vibeml.fs.read(p) or ""
      for _, n in ipairs(needles) do
        if text:find(n, 1, true) then hits[#hits + 1] = p .. " (" .. n:sub(1, 6) .. "...)" end
      end
    end
  end
  return hits
end

T.case("a local job with a secret leaves no plaintext behind", function()
  local ok_jobs, jobs = pcall(require, "vibeml.jobs")
  T.ok(ok_jobs, "vibeml.jobs is part of this build")
  local r = vibeml.proc.run({ vibeml.proc.self_exe(), "secrets", "set", "HF_TOKEN" },
    { stdin = SECRET })
  T.eq(r.code, 0)
  local h = assert(secrets.env_for({ "HF_TOKEN" }))
  local task = {
    name = "secret-scan",
    secrets = { HF_TOKEN = vibeml.null },
    envs = { VIBEML_PARAMS = "{}" },
    run = 'echo "token is $HF_TOKEN"; printf %s "$HF_TOKEN" | base64; '
      .. 'printf %s "$HF_TOKEN" | od -An -tx1 | tr -d " \\n"; echo; '
      .. 'echo "token again $HF_TOKEN" >&2; test -n "$HF_TOKEN" && echo have-token',
  }
  local job, msg = jobs.launch({ task = task, workflow = "custom" },
    { backend = "local", secrets = h })
  h:close()
  T.ok(job, "launch: " .. tostring(msg))
  local st, werr = jobs.wait(job.id, { timeout = 60, interval = 0.2 })
  T.ok(st, "wait: " .. tostring(werr))
  T.eq(st.state, "completed", "job state")
  local out = jobs.logs(job.id, { stream = "stdout", tail = 50 })
  local text = table.concat(out.lines, "\n")
  T.contains(text, "have-token")                  -- the job really had the value
  T.contains(text, "token is ****")               -- and its log shows stars
  local err = table.concat(jobs.logs(job.id, { stream = "stderr", tail = 50 }).lines, "\n")
  local ev = table.concat(jobs.logs(job.id, { stream = "events", tail = 200 }).lines, "\n")
  local b64 = vibeml.proc.run({ "base64", "-w0" }, { stdin = SECRET }).stdout:gsub("=+$", "")
  local hex = SECRET:gsub(".", function(c) return string.format("%02x", c:byte()) end)
  local needles = { SECRET, b64, hex }
  for _, n in ipairs(needles) do
    T.ok(not text:find(n, 1, true), "stdout log clean")
    T.ok(not err:find(n, 1, true), "stderr log clean")
    T.ok(not ev:find(n, 1, true), "events clean")
  end
  -- tool results about the job and the set-up
  local status_json = vibeml.json.encode(jobs.status(job.id))
  for _, n in ipairs(needles) do T.ok(not status_json:find(n, 1, true), "status clean") end
  local hits = scan(home, needles, {})
  T.eq(#hits, 0, "files holding the secret: " .. table.concat(hits, ", "))
end)

return T.run()
