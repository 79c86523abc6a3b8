-- Hugging Face lookups against tests/fixtures/hf_stub.py (HF_ENDPOINT points there, no HF_TOKEN).
local T = require "vibeml.test"
local hf = require "vibeml.hf"
local planner = require "vibeml.planner"
local GOOD = "hf_test_good_token_123"

T.case("found model: parameter count from safetensors, gated, no token", function()
  local m = assert(hf.model_info("meta-llama/Llama-3.1-8B", { no_cache = true }))
  T.eq(m.params_b, 8.030261248)
  T.eq(m.params_source, "safetensors")
  T.eq(m.gated, "manual")
  T.eq(m.private, false)
  T.eq(m.access, "no_token")
  T.eq(m.model_type, "llama")
end)

T.case("gated model: access checked with the token (200 / 403)", function()
  local m = assert(hf.model_info("meta-llama/Llama-3.1-8B", { no_cache = true, token = GOOD }))
  T.eq(m.access, "granted")
  local m2 = assert(hf.model_info("meta-llama/Llama-3.1-8B", { no_cache = true, token = "hf_other" }))
  T.eq(m2.access, "denied")
end)

T.case("4-bit bitsandbytes repo: packed U8 counted twice, statistics left out", function()
  local m = assert(hf.model_info("unsloth/Meta-Llama-3.1-8B-bnb-4bit", { no_cache = true }))
  T.eq(m.quantized, "4bit")
  T.eq(m.params_b, (1050939392 + 2 * 3489660928) / 1e9)
  T.eq(m.base_model, "meta-llama/Meta-Llama-3.1-8B")
end)

T.case("missing model: the product's wording, with close matches", function()
  local m, msg, code = hf.model_info("meta-llama/Llama-3.1-8X", { no_cache = true })
  T.eq(m, nil)
  T.eq(code, "VML_ENOENT")
  T.contains(msg, "Model 'meta-llama/Llama-3.1-8X' not found on Hugging Face")
  T.contains(msg, "Did you mean: meta-llama/Llama-3.1-8B")
  local m2, msg2 = hf.model_info("nobody/zzz-qqq", { no_cache = true })
  T.eq(m2, nil)
  T.contains(msg2, "Model 'nobody/zzz-qqq' not found on Hugging Face")
end)

T.case("private model: 401 reads as not found without a token, found with one", function()
  local m, msg, code = hf.model_info("private-org/secret-model-3B", { no_cache = true })
  T.eq(m, nil); T.eq(code, "VML_ENOENT")
  T.contains(msg, "vibeml secrets set HF_TOKEN")
  local m2 = assert(hf.model_info("private-org/secret-model-3B", { no_cache = true, token = GOOD }))
  T.eq(m2.private, true)
  T.eq(m2.params_b, 3.212749824)
  local m3, msg3, code3 = hf.model_info("private-org/secret-model-3B", { no_cache = true, token = "bad" })
  T.eq(m3, nil); T.eq(code3, "VML_EAUTH")
end)

T.case("invalid ids are refused before any request", function()
  local m, msg, code = hf.model_info("../../etc/passwd")
  T.eq(m, nil); T.eq(code, "VML_EINVAL")
  T.eq(hf.valid_id("a/b/c"), nil)
  T.ok(hf.valid_id("Qwen/Qwen2.5-0.5B"))
end)

T.case("dataset: rows, columns and format from the viewer's /info", function()
  local d = assert(hf.dataset_info("yahma/alpaca-cleaned", { no_cache = true }))
  T.eq(d.rows, 51760)
  T.eq(table.concat(d.columns, ","), "input,instruction,output")
  T.eq(d.format, "alpaca")
  T.eq(d.mean_tokens, math.floor(40014618 / 51760 / 4 + 16))
  local c = assert(hf.dataset_info("org/chat-data", { no_cache = true }))
  T.eq(c.format, "messages")
  T.eq(c.rows, 2000)
end)

T.case("gated dataset without /info: rows from /size", function()
  local d = assert(hf.dataset_info("gated-org/gated-data", { no_cache = true }))
  T.eq(d.gated, "auto")
  T.eq(d.rows, 10000)
  T.eq(d.mean_tokens, math.floor(4000000 / 10000 / 4 + 16))
end)

T.case("missing dataset: the product's wording", function()
  local d, msg, code = hf.dataset_info("nobody/no-data", { no_cache = true })
  T.eq(d, nil); T.eq(code, "VML_ENOENT")
  T.contains(msg, "Dataset 'nobody/no-data' not found on Hugging Face")
end)

T.case("answers are cached on disk", function()
  local a = assert(hf.model_info("Qwen/Qwen2.5-0.5B"))
  T.eq(a.cached, nil)
  local b = assert(hf.model_info("Qwen/Qwen2.5-0.5B"))
  T.eq(b.cached, true)
  T.eq(b.params_b, a.params_b)
  T.eq(vibeml.fs.exists(vibeml.fs.paths().data .. "/hf-cache/model__Qwen_Qwen2.5-0.5B.json"), "file")
end)

T.case("cached answers expire", function()
  local path = vibeml.fs.paths().data .. "/hf-cache/model__Qwen_Qwen2.5-7B.json"
  local a = assert(hf.model_info("Qwen/Qwen2.5-7B"))
  local c = vibeml.json.decode(vibeml.fs.read(path))
  c.at = vibeml.time() - 2 * 24 * 3600 -- two days old: past the one-day expiry
  c.info.params_b = 1.0
  vibeml.fs.write(path, vibeml.json.encode(c))
  local b = assert(hf.model_info("Qwen/Qwen2.5-7B"))
  T.eq(b.cached, nil)
  T.eq(b.params_b, a.params_b)
  -- a fresh entry is used as it is (no request)
  c.at = vibeml.time()
  vibeml.fs.write(path, vibeml.json.encode(c))
  T.eq(assert(hf.model_info("Qwen/Qwen2.5-7B")).params_b, 1.0)
end)

T.case("plan uses the Hub's facts: size, gating warning, dataset rows", function()
  local p = assert(planner.plan { model = "meta-llama/Llama-3.1-8B", dataset = "yahma/alpaca-cleaned",
                                  no_task = true })
  T.eq(p.model_info.params_b, 8.030261248)
  T.eq(p.dataset_info.rows, 51760)
  local gated = false
  for _, w in ipairs(p.warnings) do if w:find("gated", 1, true) then gated = true end end
  T.ok(gated, "gated warning")
  T.ok(p.tokens > 51760 * 100, "tokens from the dataset size")
end)

T.case("plan: missing model and missing dataset fail with the product's wording", function()
  local p, msg = planner.plan { model = "meta-llama/Llama-3.1-8X", dataset = "yahma/alpaca-cleaned" }
  T.eq(p, nil)
  T.contains(msg, "Model 'meta-llama/Llama-3.1-8X' not found on Hugging Face")
  local p2, msg2 = planner.plan { model = "Qwen/Qwen2.5-7B", dataset = "nobody/no-data" }
  T.eq(p2, nil)
  T.contains(msg2, "Dataset 'nobody/no-data' not found on Hugging Face")
end)

T.case("plan: preference data is flagged for supervised workflows", function()
  local p = assert(planner.plan { model = "Qwen/Qwen2.5-7B", dataset = "org/prefs", no_task = true })
  local flagged = false
  for _, w in ipairs(p.warnings) do if w:find("preference", 1, true) then flagged = true end end
  T.ok(flagged)
end)

T.case("plan: no safetensors count → size from the name, stated", function()
  local p = assert(planner.plan { model = "old-org/pytorch-only-13b", no_task = true })
  T.eq(p.model_info.params_b, 13)
  local said = false
  for _, a in ipairs(p.assumptions) do if a:find("no safetensors", 1, true) then said = true end end
  T.ok(said)
end)

return T.run()
