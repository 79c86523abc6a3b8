-- `vibeml jobs logs` on a terminal: @@VIBEML progress is one bar (redrawn in place with escapes,
-- else printed again only when its whole percent changes), events are sentences, other lines
-- are printed as they are with control characters escaped.
local T = require "vibeml.test"
local render = require("vibeml.cli.jobs").render
local UP = "\27[1A\r\27[K"

local function step(n, loss)
  return string.format('@@VIBEML {"v":1,"event":"step","step":%d,"total_steps":200,"loss":%s}', n,
    loss or "2.5")
end

T.case("progress is one bar redrawn in place; other lines keep it below them", function()
  local st = {}
  local a = render(step(10), st, true)
  T.eq(#a, 1)
  T.contains(a[1], "[#.......................]   5% step 10/200 loss 2.5")
  T.ok(not a[1]:find("\27", 1, true), "the first bar is printed, not redrawn")
  local b = render(step(20), st, true)
  T.eq(b[1]:sub(1, #UP), UP)
  T.contains(b[1], "step 20/200")
  T.eq(#render(step(20), st, true), 0) -- unchanged: nothing printed
  local c = render("loading shards \27]0;title\7", st, true)
  T.eq(#c, 2)
  T.eq(c[1], UP .. "loading shards \\e]0;title\\x07")
  T.contains(c[2], "step 20/200")
  local d = render('@@VIBEML {"v":1,"event":"checkpoint","step":25,"path":"/ck/checkpoint-25"}', st,
    true)
  T.eq(d[1], UP .. "checkpoint at step 25: /ck/checkpoint-25")
  local e = render('@@VIBEML {"v":1,"event":"end","status":"completed","step":200,"loss":1.25}', st,
    true)
  T.eq(e[1], UP .. "training ended (completed) at step 200, loss 1.25")
  T.eq(render("after", st, true)[1], "after") -- no bar to keep after the end
end)

T.case("without escapes (NO_COLOR, TERM=dumb): a new bar line per whole percent", function()
  local st = {}
  T.eq(#render(step(2), st, false), 1)
  T.eq(#render(step(3, "2.4"), st, false), 0) -- still 1 %
  local x = render(step(4), st, false)
  T.eq(#x, 1)
  T.ok(not x[1]:find("\27", 1, true))
  T.eq(render("plain", st, false)[1], "plain")
end)

return T.run()
