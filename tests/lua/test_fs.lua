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

T.case("read{regular = true} refuses symlinks, FIFOs and folders without blocking", function()
  local f, link, fifo = home .. "/log.txt", home .. "/link.log", home .. "/fifo.log"
  T.ok(fs.write(f, "line\n"))
  T.eq(fs.read(f, { regular = true }), "line\n")
  T.eq(vibeml.proc.run({ "ln", "-s", f, link }).code, 0)
  T.eq(vibeml.proc.run({ "mkfifo", fifo }).code, 0)
  T.eq(fs.read(link), "line\n") -- the plain read follows links, as before
  local v, msg, code = fs.read(link, { regular = true })
  T.eq(v, nil)
  T.contains(msg, "is a symbolic link")
  T.eq(code, "VML_EPERM")
  -- a FIFO nobody writes: a plain open would block forever here
  v, msg, code = fs.read(fifo, { regular = true })
  T.eq(v, nil)
  T.contains(msg, "is not a regular file (a FIFO)")
  T.eq(code, "VML_EPERM")
  v, msg = fs.read(home, { regular = true })
  T.eq(v, nil)
  T.contains(msg, "a folder")
  v, msg, code = fs.read(home .. "/missing", { regular = true })
  T.eq(v, nil); T.eq(type(msg), "string"); T.eq(code, "VML_ENOENT")
end)

T.case("a path with a NUL byte is refused, not cut short", function()
  T.ok(fs.write(home .. "/cut", "x"))
  T.raises("must not contain a NUL byte", fs.read, home .. "/cut\0.evil")
  T.raises("must not contain a NUL byte", fs.write, home .. "/cut\0.evil", "y")
  T.eq(fs.read(home .. "/cut"), "x")
  T.raises("must not contain a NUL byte", fs.exists, home .. "/cut\0")
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
