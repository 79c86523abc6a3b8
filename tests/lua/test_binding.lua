-- The binding convention (core/lapi.h, docs/binding.md) from Lua: vibeml.E is the whole of
-- core/err.h's VML_ERRNO_MAP and frozen; misuse raises "bad argument ..." naming what is
-- allowed; runtime failures return nil, message, code with code one of vibeml.E.
local T = require "vibeml.test"
local E = vibeml.E

-- the names in core/err.h, read from the source tree (the build's own list, not a copy)
local function errno_map()
  local text = assert(vibeml.fs.read(assert(os.getenv("VML_SOURCE_DIR")) .. "/core/err.h"))
  local names = {}
  for name in text:gmatch("X%((E[A-Z]+), %-%d+, \"") do names[#names + 1] = name end
  return names
end

T.case("vibeml.E holds every code of VML_ERRNO_MAP and nothing else", function()
  local names = errno_map()
  T.ok(#names >= 27, "parsed " .. #names .. " codes from core/err.h")
  for _, n in ipairs(names) do T.eq(E[n], "VML_" .. n, n) end
  local count = 0
  for k, v in pairs(E) do
    count = count + 1
    T.eq(v, "VML_" .. k)
  end
  T.eq(count, #names)
  T.eq(E.ESECRET, "VML_ESECRET")
end)

T.case("vibeml.E is frozen and an unknown name raises", function()
  T.raises("vibeml.E has no code 'ENOSUCH' (known: EINVAL, ENOMEM, EIO", function()
    return E.ENOSUCH end)
  T.raises("no code 'VML_EINVAL'", function() return E.VML_EINVAL end)
  T.raises("read-only", function() E.EINVAL = "x" end)
  T.raises("read-only", function() E.ENEW = "VML_ENEW" end)
  T.ok(not pcall(rawset, E, "ENEW", "x"), "rawset")
  T.ok(not pcall(setmetatable, E, nil), "setmetatable")
  T.eq(getmetatable(E), "read-only")
  T.eq(E.EINVAL, "VML_EINVAL")
end)

T.case("argument errors name the argument, the field and what is allowed", function()
  -- called by their full names (a local alias would lend the message its own name)
  T.raises("bad argument #1 to 'request' ('url' is required",
    function() vibeml.http.request({}) end)
  T.raises("bad argument #1 to 'request' ('url' must be a string, not a number)",
    function() vibeml.http.request({ url = 5 }) end)
  T.raises("('timeout' must be a number, not a string)",
    function() vibeml.http.request({ url = "http://127.0.0.1:1/", timeout = "soon" }) end)
  T.raises("('max_redirects' must be between 0 and 20)",
    function() vibeml.http.request({ url = "http://127.0.0.1:1/", max_redirects = 99 }) end)
  T.raises("('headers' must be a table of name = value)",
    function() vibeml.http.request({ url = "http://127.0.0.1:1/", headers = "x" }) end)
  T.raises("(header 'a b': a name without ':', spaces or line breaks",
    function() vibeml.http.request({ url = "http://127.0.0.1:1/",
      headers = { ["a b"] = "v" } }) end)

  T.raises("bad argument #1 to 'run' (argv[2] is a table, not a string)",
    function() vibeml.proc.run({ "true", {} }) end)
  T.raises("bad argument #1 to 'run' (argv[1] must not contain a NUL byte)",
    function() vibeml.proc.run({ "tr\0ue" }) end)
  T.raises(
    "bad argument #2 to 'run' (opts.stdout must be \"pipe\", \"null\", \"inherit\" or {file = " ..
      "path}, not \"loud\")",
    function() vibeml.proc.run({ "true" }, { stdout = "loud" }) end)
  T.raises("bad argument #2 to 'run' (opts.env must be a table of NAME = value, not a string)",
    function() vibeml.proc.run({ "true" }, { env = "A=1" }) end)
  T.raises("bad argument #2 to 'run' (opts.env.A must be a string (or false to remove it))",
    function() vibeml.proc.run({ "true" }, { env = { A = {} } }) end)

  T.raises("bad argument #1 to 'encode'", function() vibeml.json.encode({ f = print }) end)
  T.raises("bad argument #1 to 'set_dirs'", function()
    local many = {}
    for i = 1, 1000 do many[i] = "/tmp/d" .. i end
    vibeml._plugins.set_dirs(many)
  end)
end)

T.case("runtime failures return nil, message, code from vibeml.E", function()
  local home = vibeml.fs.paths().state
  T.fails(E.ENOENT, "no-such-file", vibeml.fs.read(home .. "/no-such-file"))
  T.fails(E.EINVAL, "path too long", vibeml.fs.write(home .. "/" .. string.rep("p", 4300), "x"))
  T.fails(E.EJSON, "", vibeml.json.decode("{"))
  T.fails(E.EHTTP, "", vibeml.http.request({ url = "http://127.0.0.1:1/", timeout = 5 }))
  local p = assert(vibeml.proc.spawn({ "sleep", "5" }))
  T.fails(E.ETIMEOUT, "timeout", p:wait(0.05))
  p:kill("KILL")
  p:wait()
  T.fails(E.ENOENT, "no plugin named", vibeml._plugins.call("no-such-plugin", "f", {}))
end)

return T.run()
