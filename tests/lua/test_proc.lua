-- vibeml.proc: argv (no shell), env, stdin, capture, streaming read, timeouts with group kill,
-- detached processes, liveness by pid + start time.
local T = require "vibeml.test"
local P = vibeml.proc

T.case("run captures code, stdout, stderr; argv is never a shell string", function()
  local r = assert(P.run({ "sh", "-c", "echo out; echo err >&2; exit 3" }))
  T.eq(r.code, 3); T.eq(r.stdout, "out\n"); T.eq(r.stderr, "err\n"); T.eq(r.timed_out, false)
  local evil = "x\"; touch /tmp/vml_pwned_$$; echo \""
  r = assert(P.run({ "printf", "%s", evil }))
  T.eq(r.stdout, evil)
  r = assert(P.run({ "cat" }, { stdin = "abc\0def" }))
  T.eq(r.stdout, "abc\0def")
end)

T.case("env adds, removes and clears; cwd", function()
  local r =
    assert(P.run({ "sh", "-c", "echo \"$FOO|$HOME\"" },
    { env = { FOO = "bar baz", HOME = false } }))
  T.eq(r.stdout, "bar baz|\n")
  r = assert(P.run({ "/usr/bin/env" }, { clear_env = true, env = { ONLY = "1" } }))
  T.eq(r.stdout, "ONLY=1\n")
  r = assert(P.run({ "pwd" }, { cwd = "/" }))
  T.eq(r.stdout, "/\n")
  T.raises("env names", P.run, { "true" }, { env = { ["A B"] = "x" } })
end)

T.case("missing program is an expected failure", function()
  local ok, msg, code = P.run({ "/nonexistent/prog" })
  T.eq(ok, nil); T.contains(msg, "/nonexistent/prog"); T.eq(code, "VML_ENOENT")
  T.raises("argv", P.run, {})
end)

T.case("timeout stops the whole group: TERM first, KILL after grace, no orphan left", function()
  local pidfile = vibeml.fs.paths().state .. "/grandchild.pid"
  local t0 = vibeml.monotonic()
  local r =
    assert(P.run({ "sh", "-c", "trap '' TERM; sleep 60 & echo $! > " .. pidfile .. "; wait" },
    { timeout = 0.3, grace = 0.3, group = true }))
  T.ok(r.timed_out, "timed out")
  T.eq(r.signal, 9)
  T.ok(vibeml.monotonic() - t0 < 5, "stopped promptly")
  local gpid = math.tointeger(tonumber((vibeml.fs.read(pidfile):gsub("%s", ""))))
  vibeml.sleep(0.2)
  T.eq(P.alive(gpid), false, "grandchild killed with its group")
end)

T.case("graceful stop lets a TERM handler finish", function()
  local p =
    assert(P.spawn({ "sh", "-c", "trap 'echo bye; exit 0' TERM; while true; do sleep 0.05; done" },
    { group = true }))
  vibeml.sleep(0.2)
  p:stop(5)
  local r = p:wait()
  T.eq(r.code, 0); T.eq(r.stdout, "bye\n")
end)

T.case("read streams chunks, then nil; wait with timeout", function()
  local p = assert(P.spawn({ "sh", "-c", "echo a; sleep 0.1; echo b >&2; sleep 0.1; echo c" }))
  local got = {}
  while true do
    local s, chunk = p:read()
    if not s then break end
    got[#got + 1] = s .. "=" .. chunk:gsub("\n", "")
  end
  T.eq(table.concat(got, ","), "stdout=a,stderr=b,stdout=c")
  T.eq(p:wait().code, 0)
  local q = assert(P.spawn({ "sleep", "5" }))
  local r, _, code = q:wait(0.1)
  T.eq(r, nil); T.eq(code, "VML_ETIMEOUT")
  T.ok(q:kill("KILL"))
  T.eq(q:wait().signal, 9)
end)

T.case("detached process with file output outlives its handle; liveness by pid + start", function()
  local dir = vibeml.fs.paths().state
  local p = assert(P.spawn({ "sh", "-c", "echo started; sleep 0.4; echo done" },
    { detached = true, stdout = { file = dir .. "/d.out" }, stderr = { file = dir .. "/d.out" } }))
  local pid = p:pid()
  local st = P.start_time(pid)
  T.ok(st and st > 0, "start time")
  T.ok(P.alive(pid, st), "alive")
  T.eq(P.alive(pid, st + 1), false, "another start time is another process")
  p:release()
  vibeml.sleep(0.8)
  T.eq(vibeml.fs.read(dir .. "/d.out"), "started\ndone\n")
  T.eq(P.alive(pid), false)
  T.contains(P.self_exe(), "vibeml")
end)

T.case("secrets reach the child's environment from C (SecretEnv), never argv", function()
  local V = vibeml.vault
  local se = assert(V.from_environ({ "PATH" }))
  local r = assert(P.run({ "/usr/bin/env" }, { clear_env = true, secrets = se }))
  T.eq(r.stdout, "PATH=" .. os.getenv("PATH") .. "\n")
  r = assert(P.run({ "/usr/bin/env" }, { clear_env = true, secrets = { se } }))
  T.contains(r.stdout, "PATH=")
  T.raises("SecretEnv", P.run, { "true" }, { secrets = "PATH" })
end)

return T.run()
