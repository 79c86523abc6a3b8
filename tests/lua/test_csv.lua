-- vibeml.csv: the RFC 4180 reader the price catalog uses.
local T = require "vibeml.test"
local csv = require "vibeml.csv"

T.case("quoted fields with commas, quotes and line breaks; CRLF; BOM", function()
  local text = '\239\187\191a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\nlines",\r\n'
  local h, rows = csv.parse(text)
  T.eq(table.concat(h, "|"), "a|b|c")
  T.eq(#rows, 2)
  T.eq(rows[1][2], "x, y"); T.eq(rows[1][3], 'say "hi"')
  T.eq(rows[2][2], "two\nlines"); T.eq(rows[2][3], "")
end)

T.case("no trailing newline, blank lines skipped", function()
  local _, rows = csv.parse("a,b\n1,2\n\n3,4")
  T.eq(#rows, 2); T.eq(rows[2][2], "4")
end)

T.case("a cut-off file is an error, not a short table", function()
  local h, err = csv.parse("a,b,c\n1,2,3\n4,5")
  T.eq(h, nil); T.contains(err, "line 3: 2 fields where the header has 3")
  local h2, err2 = csv.parse('a,b\n1,"unterminated')
  T.eq(h2, nil); T.contains(err2, "unterminated quoted field")
  local h3, err3 = csv.parse('a,b\n"x"y,2')
  T.eq(h3, nil); T.contains(err3, "text after a closing quote")
end)

T.case("records by header name; quote() round-trips", function()
  local recs = assert(csv.records("cloud,region\nvast,\"Japan, JP, AS\"\n"))
  T.eq(recs[1].region, "Japan, JP, AS")
  local line = csv.quote('a "b", c')
  local _, rows = csv.parse("x\n" .. line .. "\n")
  T.eq(rows[1][1], 'a "b", c')
end)

return T.run()
