-- vibeml.tty: user and job text printed to terminals has its control characters escaped
-- (issue 16: job names with ESC/CR/NUL were printed raw by the CLI).
local T = require "vibeml.test"
local safe = require("vibeml.tty").safe

T.case("control characters become visible escapes; other text is unchanged", function()
  T.eq(safe("plain name-1 é ✓"), "plain name-1 é ✓")
  T.eq(safe("a\27[2Jb"), "a\\e[2Jb")
  T.eq(safe("ok\rFAKE"), "ok\\rFAKE")
  T.eq(safe("cut\0here"), "cut\\0here")
  T.eq(safe("bell\7 del\127"), "bell\\x07 del\\x7f")
  T.eq(safe("two\nlines\tcol"), "two\\nlines\\tcol")
  T.eq(safe("col\tumn\27", true), "col\tumn\\e")
  T.eq(safe("csi \194\155 31m"), "csi \\u{009b} 31m")   -- C1 CSI as UTF-8
  T.eq(safe("raw \155[31m \233"), "raw \\x9b[31m \\xe9") -- not UTF-8: high bytes escaped
  T.eq(safe(42), "42")
end)

T.case("the CLI prints a job name with ESC/BEL/CR escaped", function()
  local exe = vibeml.proc.self_exe()
  -- (an argv cannot hold NUL; names with NUL come through MCP and are escaped the same way)
  local name = "evil\27]0;owned\7\rname"
  local r = vibeml.proc.run({ exe, "launch", "--model", "test/tiny-0.1B", "--dataset", "test/text",
    "--workflow", "smoke", "--backend", "local", "--offline", "--param", "max_steps=5", "--name",
      name,
    "--json" })
  T.eq(r.code, 0, r.stderr)
  local id = vibeml.json.decode(r.stdout).id
  r = vibeml.proc.run({ exe, "jobs", "show", id })
  T.eq(r.code, 0, r.stderr)
  T.ok(not r.stdout:find("[\0\7\13\27]"), "no raw control characters: " .. r.stdout)
  T.contains(r.stdout, "evil\\e]0;owned\\x07\\r")
  r = vibeml.proc.run({ exe, "jobs", "logs", id, "--follow" }, { timeout = 120 })
  T.ok(not r.stdout:find("[\0\27]"), "log lines escaped")
end)

return T.run()
