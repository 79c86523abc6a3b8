-- luacheck settings for every Lua tree (.ci/lint runs `luacheck lua workflows plugins tests/lua`).
-- The globals are the ones core/script.c gives a Lua state, so a name the sandbox removes (io,
-- debug, dofile, os.execute...) is an error here before it is one at run time.

-- core/script.c "setup": Lua 5.4's base library without dofile/loadfile (load takes text only),
-- table, string without dump, math, utf8, coroutine, a small os, and the frozen `vibeml`.
local base = {
  "_G", "_VERSION", "assert", "collectgarbage", "error", "getmetatable", "ipairs", "load",
  "next", "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset", "require",
  "select", "setmetatable", "tonumber", "tostring", "type", "warn", "xpcall",
  "table", "math", "utf8", "coroutine",
  string = { fields = { "byte", "char", "find", "format", "gmatch", "gsub", "len", "lower",
    "match", "pack", "packsize", "rep", "reverse", "sub", "unpack", "upper" } },
  vibeml = { other_fields = true },
}
local function sandbox(os_fields)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  t.os = { fields = os_fields }
  return { read_globals = t }
end
-- VML_PROFILE_SCRIPT: the runtime's own modules, `vibeml run` scripts and the Lua tests
stds.vibeml_script = sandbox { "clock", "date", "difftime", "getenv", "time" }
-- VML_PROFILE_PLUGIN: workflows and plugins (no environment)
stds.vibeml_plugin = sandbox { "clock", "date", "difftime", "time" }

std = "vibeml_script"
max_line_length = 100
-- Lines inside a [[long string]] are data (a shell script, a usage text, a plugin's source written
-- by a test) whose line breaks are part of the value, so they are not wrapped.
max_string_line_length = false

-- Hooks keep the signature their caller documents (a tool's handler(args, ctx), an error rule's
-- fixes(ctx), a resource's read(uri, params), methods' self) even where one body needs less.
self = false
ignore = { "212/ctx", "212/args", "212/uri", "212/params" }

files["workflows"] = { std = "vibeml_plugin" }
files["plugins"] = { std = "vibeml_plugin" }
