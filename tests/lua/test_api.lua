-- The vibeml global in scripts: frozen, complete, and waits that yield to the loop.
local T = require "vibeml.test"

T.case("vibeml is read-only", function()
  -- luacheck: push ignore 122 (the writes are the test)
  T.raises("read-only", function() vibeml.x = 1 end)
  T.raises("read-only", function() vibeml.json.encode = nil end)
  -- luacheck: pop
  T.eq(require("vibeml"), vibeml)
end)

T.case("JSON helpers", function()
  T.eq(vibeml.json.encode(vibeml.array{}), "[]")
  T.eq(vibeml.json.encode({ a = vibeml.null }), '{"a":null}')
  T.ok(vibeml.isnull(vibeml.json.decode("null")))
end)

T.case("sleep waits on the loop and coroutines pass it through", function()
  local t0 = vibeml.monotonic()
  local co = coroutine.wrap(function() vibeml.sleep(0.05) return "x" end)
  T.eq(co(), "x")
  T.ok(vibeml.monotonic() - t0 >= 0.04, "slept")
end)

T.case("expected failures vs misuse", function()
  local v, msg = vibeml.json.decode("{")
  T.eq(v, nil)
  T.contains(msg, "invalid JSON")
  T.raises("bad argument", vibeml.sleep, "soon")
  T.raises("seconds must be", vibeml.sleep, -1)
end)

T.case("events bus", function()
  local ev = require "vibeml.events"
  local got
  local off = ev.on("t", function(x) got = x end)
  ev.on("t", function() error("listener failure is contained") end)
  ev.emit("t", 5)
  T.eq(got, 5)
  off()
  ev.emit("t", 6)
  T.eq(got, 5)
end)

return T.run()
