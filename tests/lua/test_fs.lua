-- vibeml.fs: atomic writes, listing, stat, paths under VIBEML_HOME.
local T = require "vibeml.test"
local fs = vibeml.fs

local home = os.getenv("VIBEML_HOME")

T.case("paths come from VIBEML_HOME and exist", function()
  local p = fs.paths()
  T.eq(p.state, home)
  T.eq(p.config, home)
  T.eq(fs.exists(p.data), "dir")
end)

T.case("write, read, append, stat", function()
  local f = home .. "/a.txt"
  T.ok(fs.write(f, "hello"))
  T.eq(fs.read(f), "hello")
  T.ok(fs.append(f, " world"))
  T.eq(fs.read(f), "hello world")
  local st = fs.stat(f)
  T.eq(st.type, "file")
  T.eq(st.size, 11)
  T.eq(st.mode, tonumber("600", 8))
  T.ok(fs.remove(f))
  T.eq(fs.exists(f), nil)
end)

T.case("expected failures return nil, message, code", function()
  local v, msg, code = fs.read(home .. "/missing")
  T.eq(v, nil)
  T.contains(msg, "No such file")
  T.eq(code, "VML_ENOENT")
end)

T.case("mkdirs and sorted list", function()
  T.ok(fs.mkdirs(home .. "/x/y/z"))
  for _, n in ipairs({ "b", "a", "c" }) do fs.write(home .. "/x/" .. n, n) end
  local names = fs.list(home .. "/x")
  T.eq(table.concat(names, ","), "a,b,c,y")
end)

T.case("an atomic write leaves no temp file behind", function()
  local f = home .. "/atomic.json"
  fs.write(f, string.rep("x", 100000))
  fs.write(f, "small")
  T.eq(fs.read(f), "small")
  for _, n in ipairs(fs.list(home)) do T.ok(not n:find("%.tmp%."), n) end
end)

return T.run()
