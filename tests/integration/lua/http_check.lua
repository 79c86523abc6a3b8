-- vibeml.http against tests/fixtures/hf_stub.py (its /_test routes); STUB = its base URL.
local T = require "vibeml.test"
local base = assert(os.getenv("STUB"))
local http = vibeml.http

T.case("GET returns status, lower-cased headers and body", function()
  local r = assert(http.request { url = base .. "/_test/echo", headers = { ["X-Test"] = "abc" } })
  T.eq(r.status, 200)
  T.eq(r.headers["content-type"], "application/json")
  local j = vibeml.json.decode(r.body)
  T.eq(j.x, "abc")
  T.eq(j.method, "GET")
end)

T.case("HTTP errors are replies, not failures", function()
  local r = assert(http.request { url = base .. "/api/models/no/such" })
  T.eq(r.status, 404)
  T.eq(r.headers["x-error-code"], "RepoNotFound")
end)

T.case("POST sends the body", function()
  local r = assert(http.request { method = "POST", url = base .. "/_test/post", body = "a=1&b=2" })
  T.eq(vibeml.json.decode(r.body).body, "a=1&b=2")
end)

T.case("time-out gives VML_ETIMEOUT", function()
  local t0 = vibeml.monotonic()
  local r, msg, code = http.request { url = base .. "/_test/slow?s=3", timeout = 0.3 }
  T.eq(r, nil)
  T.eq(code, "VML_ETIMEOUT")
  T.contains(msg, "within 0.3 s")
  T.ok(vibeml.monotonic() - t0 < 2.5, "returned before the server answered")
end)

T.case("size limit gives VML_ELIMIT", function()
  local r, msg, code = http.request { url = base .. "/_test/big?n=200000", max_bytes = 1000 }
  T.eq(r, nil)
  T.eq(code, "VML_ELIMIT")
  T.contains(msg, "1000 bytes")
  local ok = assert(http.request { url = base .. "/_test/big?n=5000", max_bytes = 5000 })
  T.eq(#ok.body, 5000)
end)

T.case("redirects are followed up to the limit", function()
  local r = assert(http.request { url = base .. "/_test/redirect/2" })
  T.eq(r.status, 200)
  T.contains(r.url, "/_test/echo")
  local r2, msg, code = http.request { url = base .. "/_test/redirect/9", max_redirects = 3 }
  T.eq(r2, nil)
  T.eq(code, "VML_EHTTP")
  local r3 = assert(http.request { url = base .. "/_test/redirect/1", max_redirects = 0 })
  T.eq(r3.status, 302)
end)

T.case("only http and https, also across redirects", function()
  local r, msg, code = http.request { url = "file:///etc/passwd" }
  T.eq(r, nil); T.eq(code, "VML_EINVAL")
  local r2, msg2, code2 = http.request { url = base .. "/_test/ftp-redirect" }
  T.eq(r2, nil); T.eq(code2, "VML_EHTTP")
end)

T.case("output_file receives the body; a failure removes it", function()
  local path = vibeml.fs.paths().data .. "/dl.bin"
  local r = assert(http.request { url = base .. "/_test/big?n=3000", output_file = path })
  T.eq(r.body, nil); T.eq(r.size, 3000)
  T.eq(#vibeml.fs.read(path), 3000)
  local bad = vibeml.fs.paths().data .. "/dl2.bin"
  T.eq(http.request { url = base .. "/_test/big?n=3000", output_file = bad, max_bytes = 10 }, nil)
  T.eq(vibeml.fs.exists(bad), nil)
end)

T.case("connection refused is VML_EHTTP", function()
  local r, msg, code = http.request { url = "http://127.0.0.1:9/", timeout = 5 }
  T.eq(r, nil); T.eq(code, "VML_EHTTP")
end)

T.case("header injection is refused", function()
  T.raises("header 'X-A': a name without ':', spaces or line breaks, a value without line breaks",
    http.request, { url = base, headers = { ["X-A"] = "a\r\nX-B: b" } })
  T.raises("header 'X B'", http.request, { url = base, headers = { ["X B"] = "b" } })
end)

return T.run()
