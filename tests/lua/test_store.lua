-- vibeml.store from Lua: exec/query/first with parameters, types, tx commit/rollback/nesting,
-- migrations per component, the shared handle.
local T = require "vibeml.test"
local S = require "vibeml.store"

local function fresh()
  local dir = vibeml.fs.paths().state
  local path = dir .. "/t" .. tostring(math.random(1, 1 << 30)) .. ".db"
  return assert(vibeml.store.open(path)), path
end

T.case("exec, query, first with positional and named parameters", function()
  local db = fresh()
  db:exec("CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT, n INTEGER, x REAL, j TEXT)")
  T.eq(db:exec("INSERT INTO p(name, n, x, j) VALUES(?, ?, ?, ?)", "a", 3, 2.5, { k = 1 }), 1)
  T.eq(db:last_insert_id(), 1)
  db:exec("INSERT INTO p(name, n, x) VALUES(:name, :n, :x)", { name = "b", n = 1 << 40, x = 0.5 })
  local rows = db:query("SELECT * FROM p ORDER BY id")
  T.eq(#rows, 2)
  T.eq(rows[1].name, "a")
  T.eq(math.type(rows[1].n), "integer")
  T.eq(rows[1].x, 2.5)
  T.eq(vibeml.json.decode(rows[1].j).k, 1)
  T.eq(rows[2].n, 1 << 40)
  T.eq(rows[2].j, nil, "NULL column is nil")
  T.eq(db:first("SELECT name FROM p WHERE id = ?", 2).name, "b")
  T.eq(db:first("SELECT name FROM p WHERE id = ?", 99), nil)
  -- nil and vibeml.null both bind NULL; booleans bind 1/0
  db:exec("INSERT INTO p(name, n, x) VALUES(?, ?, ?)", nil, true, vibeml.null)
  local r = db:first("SELECT * FROM p WHERE id = 3")
  T.eq(r.name, nil); T.eq(r.n, 1); T.eq(r.x, nil)
  T.eq(db:exec("UPDATE p SET n = n + 1"), 3)
  T.eq(db:changes(), 3)
end)

T.case("SQL errors return nil, message, code; misuse raises", function()
  local db = fresh()
  T.fails(vibeml.E.EDB, "no such table", db:query("SELECT * FROM nope"))
  T.fails(vibeml.E.EDB, "no such table", db:exec("INSERT INTO nope VALUES(1)"))
  T.fails(vibeml.E.EDB, "syntax error", db:first("SELEKT 1"))
  db:exec("CREATE TABLE u(k TEXT UNIQUE)")
  db:exec("INSERT INTO u VALUES('a')")
  T.fails(vibeml.E.EDB, "UNIQUE", db:exec("INSERT INTO u VALUES('a')"))
  -- "no row" is a lone nil, not a failure
  T.eq(select("#", db:first("SELECT 1 AS one WHERE 0")), 1)
  T.eq(db:first("SELECT 1 AS one WHERE 0"), nil)
  -- check() passes results through and raises a failure as {code, message}
  T.eq(S.check(db:first("SELECT 2 AS two")).two, 2)
  T.eq(S.check(db:first("SELECT 1 AS one WHERE 0")), nil)
  local e = T.raises("no such table", function() S.check(db:query("SELECT * FROM nope")) end)
  T.eq(e.code, vibeml.E.EDB)
  -- misuse: the argument is named and the message says what is allowed
  -- (no tail calls: Lua names the function only when the caller's frame is still there)
  T.raises("bad argument #3 to 'exec' (2 parameters given, the statement takes 1)",
    function() db:exec("SELECT ?", 1, 2) end)
  T.raises("bad argument #1 to 'exec' (one statement per call: extra text 'SELECT 2')",
    function() db:exec("SELECT 1; SELECT 2") end)
  T.raises("bad argument #2 to 'exec' (parameter 1: cannot store a function",
    function() db:exec("SELECT ?", print) end)
  T.raises("bad argument #2 to 'migrate' (step 2 of 'x' must be SQL text, not a number)",
    function() db:migrate("x", { "CREATE TABLE x1(a)", 7 }) end)
  db:close()
  T.raises("closed", db.query, db, "SELECT 1")
end)

T.case("tx commits, rolls back when fn raises and re-raises, nests as savepoints", function()
  local db = fresh()
  db:exec("CREATE TABLE c(v INTEGER)")
  local a, b = db:tx(function() db:exec("INSERT INTO c VALUES(1)"); return "x", 2 end)
  T.eq(a, "x"); T.eq(b, 2)
  T.raises("boom", db.tx, db, function()
    db:exec("INSERT INTO c VALUES(2)")
    error("boom")
  end)
  -- a failed statement inside, raised by check, rolls the whole transaction back
  local e = T.raises("no such table", db.tx, db, function()
    db:exec("INSERT INTO c VALUES(7)")
    S.check(db:exec("INSERT INTO nope VALUES(1)"))
  end)
  T.eq(e.code, vibeml.E.EDB)
  T.eq(db:first("SELECT count(*) AS n FROM c").n, 1)
  db:tx(function()
    db:exec("INSERT INTO c VALUES(3)")
    pcall(db.tx, db, function() db:exec("INSERT INTO c VALUES(4)"); error("inner") end)
    db:tx(function() db:exec("INSERT INTO c VALUES(5)") end)
  end)
  local vs = {}
  for _, r in ipairs(db:query("SELECT v FROM c ORDER BY v")) do vs[#vs + 1] = r.v end
  T.eq(table.concat(vs, ","), "1,3,5")
  T.raises("invalid option", db.tx, db, function() end, "sideways")
  -- waiting inside a transaction is refused (and rolled back)
  T.raises("cannot wait", db.tx, db, function() db:exec("INSERT INTO c VALUES(9)");
    vibeml.sleep(0) end)
  T.eq(db:first("SELECT count(*) AS n FROM c WHERE v = 9").n, 0)
end)

T.case("tx returns nil, message, code when COMMIT fails, and rolls back", function()
  local db = fresh()
  T.eq(db:first("PRAGMA foreign_keys").foreign_keys, 1)
  db:exec("CREATE TABLE parent(id INTEGER PRIMARY KEY)")
  db:exec("CREATE TABLE child(pid INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
  -- a deferred foreign key is checked at COMMIT: the statement succeeds, the commit does not
  T.fails(vibeml.E.EDB, "FOREIGN KEY", db:tx(function()
    T.eq(db:exec("INSERT INTO child VALUES(42)"), 1)
    return "unreached"
  end))
  T.eq(db:first("SELECT count(*) AS n FROM child").n, 0)
  -- and the handle is usable again
  T.eq(db:tx(function() return db:exec("INSERT INTO parent VALUES(42)") end), 1)
end)

T.case("migrate per component, idempotent, refuses newer schemas", function()
  local db = fresh()
  local steps = { "CREATE TABLE m(a)", "ALTER TABLE m ADD COLUMN b" }
  T.eq(db:migrate("one", { steps[1] }), 1)
  T.eq(db:migrate("one", steps), 1)
  T.eq(db:migrate("one", steps), 0)
  T.eq(db:migrate("two", { "CREATE TABLE m2(z)" }), 1)
  T.eq(db:first("SELECT version FROM schema_versions WHERE component = 'one'").version, 2)
  T.fails(vibeml.E.ESTATE, "upgrade vibeml", db:migrate("one", { steps[1] }))
  T.fails(vibeml.E.EDB, "step 3", db:migrate("one", { steps[1], steps[2], "CREATE TABLE bad(" }))
  T.eq(db:first("SELECT version FROM schema_versions WHERE component = 'one'").version, 2)
end)

T.case("shared handle lives in the state folder", function()
  local db = S.db()
  T.ok(db == S.db(), "same handle")
  T.contains(db:path(), vibeml.fs.paths().state)
  T.contains(db:path(), "vibeml.db")
  T.eq(db:first("PRAGMA journal_mode").journal_mode, "wal")
  T.eq(db:first("PRAGMA foreign_keys").foreign_keys, 1)
end)

return T.run()
