-- The launch path fails closed (issue 11 item 6, issue 16 M1): when the module that guards money
-- or secrets cannot load, or the vault cannot give a secret the job needs (missing, damaged
-- vault, wrong passphrase), the launch is refused with a clear error, nothing is started and no
-- job is left pending or counted against the budget.
local T = require "vibeml.test"
local jobs = require "vibeml.jobs"
local jdb = require "vibeml.jobs.db"

local function count_jobs() return jdb.db():first("SELECT count(*) AS n FROM jobs").n end

local function task(secrets)
  return { task = { name = "guarded", secrets = secrets, envs = { VIBEML_PARAMS = "{}" },
                    run = "echo ran" }, workflow = "custom" }
end

local function with_broken(modname, fn)
  local real = jobs.loader
  jobs.loader = function(name)
    if name == modname then error("simulated failure while loading " .. modname) end
    return real(name)
  end
  local ok, err = pcall(fn)
  jobs.loader = real
  if not ok then error(err, 0) end
end

T.case("a budget module that cannot load refuses the launch; nothing is written", function()
  local before = count_jobs()
  with_broken("vibeml.budget", function()
    local job, msg, code = jobs.launch(task(nil), { backend = "local" })
    T.eq(job, nil)
    T.eq(code, "VML_EMONEY")
    T.contains(msg, "the budget module could not be loaded")
    T.contains(msg, "nothing was launched and nothing was spent")
    T.contains(msg, "simulated failure")
  end)
  T.eq(count_jobs(), before, "no job row")
end)

T.case("a secrets module that cannot load refuses the launch", function()
  local before = count_jobs()
  with_broken("vibeml.vault", function()
    local job, msg, code = jobs.launch(task({ HF_TOKEN = vibeml.null }), { backend = "local" })
    T.eq(job, nil)
    T.eq(code, "VML_ESECRET")
    T.contains(msg, "the secrets vault module could not be loaded")
  end)
  T.eq(count_jobs(), before)
end)

T.case("a secret the task names and the vault lacks refuses the launch with the command", function()
  local before = count_jobs()
  local job, msg, code = jobs.launch(task({ HF_TOKEN = vibeml.null }), { backend = "local" })
  T.eq(job, nil)
  T.eq(code, "VML_ESECRET")
  T.contains(msg, "HF_TOKEN")
  T.contains(msg, "vibeml secrets set HF_TOKEN")
  T.eq(count_jobs(), before)
end)

T.case("a damaged vault refuses the launch with the vault's error (no job without its token)",
  function()
  local r = vibeml.proc.run({ vibeml.proc.self_exe(), "secrets", "set", "HF_TOKEN" },
    { stdin = "hf_guardTestToken_0123456789abcdef" })
  T.eq(r.code, 0)
  local vault = vibeml.fs.paths().data .. "/vault"
  local text = assert(vibeml.fs.read(vault))
  -- flip bytes in the middle of the file: the MAC no longer matches
  local mid = #text // 2
  local flipped = text:sub(1, mid - 1) .. (text:sub(mid, mid) == "A" and "B" or "A")
    .. text:sub(mid + 1)
  assert(vibeml.fs.write(vault, flipped, { mode = 0x180 }))
  local before = count_jobs()
  local job, msg, code = jobs.launch(task({ HF_TOKEN = vibeml.null }), { backend = "local" })
  T.eq(job, nil, "no launch without the token")
  T.ok(code == "VML_ESECRET" or (code or ""):match("^VML_E"), tostring(code))
  T.contains(msg, "HF_TOKEN")
  T.contains(msg, "nothing was launched")
  T.eq(count_jobs(), before)
  assert(vibeml.fs.write(vault, text, { mode = 0x180 }))
end)

return T.run()
