-- vibeml.workflows: the four shipped descriptors, validation (Hugging Face id grammar, ranges,
-- unknown keys), task generation against golden files (tests/fixtures/golden/*.json, compared
-- structurally; VML_UPDATE_GOLDEN=1 rewrites them), injection inertness, selection, task text.
local T = require "vibeml.test"
local wf = require "vibeml.workflows"
local json = vibeml.json

local SRC = os.getenv("VML_SOURCE_DIR") or "."
local GOLDEN = SRC .. "/tests/fixtures/golden/"

-- {=========================================================== helpers

-- Deep structural comparison; returns nil or the path of the first difference.
local function diff(a, b, path)
  path = path or "$"
  if type(a) ~= type(b) then
    return string.format("%s: %s vs %s", path, type(a), type(b))
  end
  if type(a) == "table" then
    for k, v in pairs(a) do
      local d = diff(v, b[k], path .. "." .. tostring(k))
      if d then return d end
    end
    for k in pairs(b) do
      if a[k] == nil then return path .. "." .. tostring(k) .. ": missing on the left" end
    end
    return nil
  end
  if type(a) == "number" and math.abs(a - b) <= 1e-12 * math.max(1, math.abs(a)) then return nil end
  if a ~= b then return string.format("%s: %s vs %s", path, tostring(a), tostring(b)) end
  return nil
end

-- The task as data: VIBEML_PARAMS decoded so the comparison is structural too.
local function as_data(task)
  local text = wf.encode_task(task)
  local t = json.decode(text)
  t.envs.VIBEML_PARAMS = json.decode(t.envs.VIBEML_PARAMS)
  t.vibeml_files = task.vibeml.files
  return t
end

local function golden(name, task)
  local path = GOLDEN .. name .. ".json"
  local got = as_data(task)
  if os.getenv("VML_UPDATE_GOLDEN") then
    assert(vibeml.fs.write(path, json.encode(got, { indent = 2, sort_keys = true }) .. "\n"))
  end
  local text = assert(vibeml.fs.read(path))
  local want = assert(json.decode(text))
  local d = diff(got, want)
  if d then error("golden " .. name .. " differs at " .. d, 2) end
  return got
end

local function cand(acc, count, cloud, region, spot, itype)
  return { accelerator = acc, count = count, cloud = cloud, region = region, spot = spot,
           instance_type = itype }
end

local function req(model, params_b, cands, extra)
  local p = { job_name = "ft-test", model = model, dataset = "yahma/alpaca-cleaned",
              model_info = { params_b = params_b, gated = false }, candidates = cands,
              checkpoint_bucket = "vibeml-ckpt-ft-test", num_nodes = 1 }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local M1B, M8B, M70B = "meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.1-8B",
  "meta-llama/Llama-3.1-70B"

-- }===========================================================

T.case("the four shipped workflows are listed with their descriptors", function()
  local names = {}
  for _, d in ipairs(wf.list()) do
    names[#names + 1] = d.name
    T.ok(d.title and d.description and d.version and d.method, d.name .. " has metadata")
    T.ok(d.model_sizes.min_b <= d.model_sizes.max_b, d.name .. " sizes")
    T.ok(type(d.vram) == "table" and type(d.throughput) == "table", d.name .. " constants")
    T.ok(d.hyperparameters and next(d.hyperparameters), d.name .. " hyperparameters")
    T.eq(d.build, nil, "descriptor data has no functions")
    T.eq(d.source, "shipped")
  end
  T.eq(table.concat(names, ","), "full,lora,smoke,unsloth")
  T.eq(wf.get("unsloth").method, "qlora")
  T.eq(wf.get("lora").method, "lora")
  T.eq(wf.get("full").method, "full")
  T.eq(wf.get("smoke").gpu.required, false)
  local d, e = wf.get("nope")
  T.eq(d, nil)
  T.contains(e, "workflow 'nope' not found; available: full, lora, smoke, unsloth")
end)

T.case("validate fills defaults and coerces CLI strings", function()
  local p = assert(wf.validate("lora", { model = M8B, dataset = "yahma/alpaca-cleaned",
    hyperparameters = { learning_rate = "1e-4", lora_r = "32", packing = "true" } }))
  T.eq(p.hyperparameters.learning_rate, 1e-4)
  T.eq(math.type(p.hyperparameters.lora_r), "integer")
  T.eq(p.hyperparameters.lora_r, 32)
  T.eq(p.hyperparameters.packing, true)
  T.eq(p.hyperparameters.max_seq_length, 2048, "default filled")
  T.eq(p.job_name, "vibeml-lora")
  T.eq(p.num_nodes, 1)
  -- a bare model name (no owner) is a valid Hub id, e.g. gpt2
  T.ok(wf.validate("smoke", { model = "gpt2", dataset = "c/d" }))
end)

T.case("validation errors say what was wrong and what is allowed", function()
  local base = { model = M8B, dataset = "yahma/alpaca-cleaned" }
  local function try(name, extra)
    local p = {}
    for k, v in pairs(base) do p[k] = v end
    for k, v in pairs(extra) do p[k] = v end
    local ok, e = wf.validate(name, p)
    T.eq(ok, nil, "should fail: " .. json.encode(extra))
    return e
  end
  T.contains(try("lora", { hyperparameters = { learnin_rate = 1 } }),
    "unknown hyperparameter 'learnin_rate' for workflow 'lora'; allowed: chat_template, " ..
      "completion_only_loss, dataset_config")
  T.contains(try("lora", { hyperparameters = { learning_rate = 1 } }),
    "learning_rate' = 1 is above the maximum 0.01 (allowed 1e-07..0.01)")
  T.contains(try("lora", { hyperparameters = { lora_r = 0 } }), "below the minimum 1")
  T.contains(try("lora", { hyperparameters = { lora_r = 2.5 } }), "must be an integer")
  T.contains(try("lora", { hyperparameters = { lr_scheduler = "exp" } }),
    "choose one of: linear, cosine, constant, constant_with_warmup")
  T.contains(try("lora", { hyperparameters = { packing = "maybe" } }), "must be true or false")
  T.contains(try("lora", { epochs = 3 }),
    "unknown parameter 'epochs'; allowed: candidates, checkpoint_bucket")
  T.contains(try("lora", { dataset_format = "csv" }),
    "allowed: auto, alpaca, sharegpt, messages, text")
  T.contains(try("lora", { model = "meta-llama" .. "/" .. string.rep("x", 97) }), "longer than 96")
  T.contains(try("lora", { model = "a/b/c" }), "more than one '/'")
  T.contains(try("lora", { model = "-bad/name" }), "start and end with a letter or digit")
  T.contains(try("lora", { model = "a--b/c" }), "'--' or '..'")
  T.contains(try("lora", { model = "" }), "model id is empty")
  T.contains(try("lora", { model_info = { params_b = 500 } }),
    "outside what workflow 'lora' supports")
  T.contains(try("unsloth", { candidates = { cand("H100", 2, "aws", "us-east-1", true) } }),
    "count 2 is outside what this workflow supports (1..1 GPUs per node)")
  T.contains(try("lora", { num_nodes = 2 }), "runs on one node")
  T.contains(try("lora", { candidates = { { cloud = "aws" } } }), "needs a GPU")
  T.contains(try("lora",
    { candidates = { cand("H100", 1, "aws", "us-east-1", true, "p5;reboot") } }),
    "instance_type")
  T.contains(try("lora", { checkpoint_bucket = "Bad_Bucket" }), "bucket name")
  T.contains(try("lora", { job_name = "My Job" }), "job name")
  T.contains(try("lora", { push_to_hub = "justname" }), "needs an owner")
  T.contains(try("lora", { secrets = { "hf-token" } }), "environment variable name")
end)

T.case("injection: quotes, $(), backticks, ;, newlines and spaces are rejected", function()
  local evil = { 'x"; rm -rf ~', "x'y", "a/$(id)", "a/`id`", "a/b;ls", "a/b\nc", "a/b c",
                 "a/b|c", "a/b&c", "a/b\\c", "a/b\0c" }
  for _, s in ipairs(evil) do
    for _, field in ipairs({ "model", "dataset", "push_to_hub" }) do
      local p = { model = M1B, dataset = "c/d" }
      p[field] = s
      local ok, e = wf.validate("lora", p)
      T.eq(ok, nil, field .. " " .. string.format("%q", s) .. " must be rejected")
      T.ok(e:find("contains", 1, true) or e:find("more than one", 1, true), e)
    end
    local ok, e = wf.validate("lora", { model = M1B, dataset = "c/d",
      hyperparameters = { dataset_split = s } })
    T.eq(ok, nil, "dataset_split " .. string.format("%q", s))
    T.contains(e, "hyperparameter 'dataset_split'")
    ok = wf.validate("lora", { model = M1B, dataset = "c/d", hyperparameters = { lora_r = s } })
    T.eq(ok, nil, "lora_r " .. string.format("%q", s))
  end
  local _, e = wf.validate("lora", { model = 'x"; rm -rf ~', dataset = "c/d" })
  T.contains(e, 'contains a quote (")')
  _, e = wf.validate("lora", { model = "a/$(id)", dataset = "c/d" })
  T.contains(e, "contains '$'")
  _, e = wf.validate("lora", { model = "a/b\nc", dataset = "c/d" })
  T.contains(e, "contains a newline")
end)

T.case("user-supplied text never reaches setup, run or argv: only VIBEML_PARAMS carries it",
  function()
  -- distinctive but valid values in every user-controlled field
  local p = { job_name = "zq-job-marker", model = "zqowner/ZqModel-Marker-7B",
              dataset = "zqdata/Zq-Dataset-Marker", push_to_hub = "zqpush/Zq-Push-Marker",
              checkpoint_bucket = "zq-bucket-marker", dataset_format = "alpaca",
              model_info = { params_b = 7, gated = true },
              candidates = { cand("H100", 1, "aws", "us-east-1", true) } }
  for _, name in ipairs({ "unsloth", "lora", "full", "smoke" }) do
    local hp = { dataset_split = "train[:123]zq", dataset_config = "zqconfigmarker" }
    if name == "smoke" then hp = { dataset_file = "zq/data-marker.jsonl" } end
    p.hyperparameters = hp
    local task = assert(wf.build(name, p))
    local markers = { "ZqModel", "Zq-Dataset", "Zq-Push", "zqconfig", "zq/data", "]zq" }
    for _, m in ipairs(markers) do
      T.ok(not task.setup:find(m, 1, true), name .. " setup carries " .. m)
      T.ok(not task.run:find(m, 1, true), name .. " run carries " .. m)
      for k, v in pairs(task.envs) do
        if k ~= "VIBEML_PARAMS" then T.ok(not v:find(m, 1, true), name .. " env " .. k) end
      end
    end
    local doc = json.decode(task.envs.VIBEML_PARAMS)
    T.eq(doc.model, p.model)
    T.eq(doc.dataset, p.dataset)
    T.eq(doc.push_to_hub, p.push_to_hub)
    T.eq(doc.dataset_format, "alpaca")
    -- setup/run are the workflow's constant text: the same for any parameters
    local other = assert(wf.build(name, { model = "o/p", dataset = "q/r",
      candidates = p.candidates, model_info = { params_b = 7 } }))
    T.eq(task.setup, other.setup, name .. " setup is constant")
    T.eq(task.run, other.run, name .. " run is constant")
    -- secrets by name only
    T.ok(vibeml.isnull(task.secrets.HF_TOKEN), name .. ": HF_TOKEN listed by name (gated + push)")
  end
end)

T.case("golden: unsloth 1B, 8B, 70B", function()
  local t = golden("unsloth_1b", assert(wf.build("unsloth", req(M1B, 1.24,
    { cand("L4", 1, "gcp", "us-central1", true), cand("T4", 1, "aws", "us-east-1", true) }))))
  T.eq(#t.resources.ordered, 2)
  T.eq(t.resources.job_recovery.strategy, "EAGER_NEXT_REGION")
  T.eq(t.run:match("python train.py") ~= nil, true)
  t = golden("unsloth_8b", assert(wf.build("unsloth", req(M8B, 8.03,
    { cand("A10G", 1, "aws", "us-east-1", true, "g5.2xlarge") }))))
  T.eq(t.resources.accelerators, "A10G:1")
  T.eq(t.resources.instance_type, "g5.2xlarge")
  t = golden("unsloth_70b", assert(wf.build("unsloth", req(M70B, 70.6,
    { cand("A100-80GB", 1, "lambda", "us-east-1", false),
      cand("H100", 1, "nebius", "eu-north1", false) }))))
  T.eq(t.resources.job_recovery, nil, "on-demand: no spot recovery")
  -- storage is the backend's (vibeml.jobs.storage): a workflow's task mounts nothing
  T.eq(t.file_mounts, nil, "the workflow mounts no bucket itself")
  local ok, e = wf.build("unsloth", req(M70B, 70.6, {}, { num_nodes = 2 }))
  T.eq(ok, nil); T.contains(e, "runs on one node")
end)

T.case("golden: lora 1B, 8B, 70B (multi-GPU through accelerate)", function()
  local t = golden("lora_1b", assert(wf.build("lora", req(M1B, 1.24,
    { cand("L4", 1, "gcp", "us-central1", true) }))))
  -- several GPUs share the model with ZeRO-3 (default) as in full
  T.contains(t.run, "accelerate launch --config_file accelerate_zero3.json")
  T.contains(t.run, "python train.py")
  t = golden("lora_8b", assert(wf.build("lora", req(M8B, 8.03,
    { cand("L40S", 1, "nebius", "eu-north1", true),
      cand("A100-80GB", 1, "aws", "us-east-1", true) }))))
  T.eq(t.resources.disk_size, 100)
  t = golden("lora_70b", assert(wf.build("lora", req(M70B, 70.6,
    { cand("H200", 2, "nebius", "eu-north1", true), cand("H100", 4, "aws", "us-east-1", true) }))))
  T.eq(t.resources.ordered[1].accelerators, "H200:2")
  T.eq(t.resources.ordered[2].accelerators, "H100:4")
  T.contains(t.run, '--num_processes "$((NODES * GPUS))"')
  -- exact pins, the descriptor's list
  T.contains(t.setup, '"torch==2.8.0" "transformers==4.56.2" "trl==1.9.0" "peft==0.17.1"')
  T.contains(t.setup, '"bitsandbytes==0.47.0"')
  T.eq(wf.get("lora").pins[3], "trl==1.9.0")
end)

T.case("golden: full 1B, 8B, 70B (ZeRO-3 / FSDP2, multi-node)", function()
  local t = golden("full_1b", assert(wf.build("full", req(M1B, 1.24,
    { cand("A100-80GB", 1, "aws", "us-east-1", false) }))))
  T.eq(t.resources.job_recovery, nil)
  t = golden("full_8b", assert(wf.build("full", req(M8B, 8.03,
    { cand("H100", 4, "nebius", "eu-north1", true), cand("H100", 4, "aws", "us-east-1", true) },
    { hyperparameters = { distributed = "fsdp2", optim = "adamw_8bit" } }))))
  T.contains(t.run, "--config_file accelerate_fsdp2.json")
  t = golden("full_70b", assert(wf.build("full", req(M70B, 70.6,
    { cand("H100", 8, "aws", "us-east-1", true, "p5.48xlarge"),
      cand("H200", 8, "nebius", "eu-north1", true) },
    { num_nodes = 2, hyperparameters = { learning_rate = 1e-5 } }))))
  T.eq(t.num_nodes, 2)
  T.contains(t.run, "--config_file accelerate_zero3.json")
  T.contains(t.run, '--machine_rank "${SKYPILOT_NODE_RANK:-0}"')
  T.contains(t.run, 'MASTER_ADDR="$(echo "$SKYPILOT_NODE_IPS" | head -n1)"')
  T.contains(t.run, '--num_machines "$NODES"')
  T.eq(t.resources.job_recovery.max_restarts_on_errors, 2)
  T.eq(t.envs.VIBEML_PARAMS.hyperparameters.learning_rate, 1e-5)
  local files = {}
  for _, f in ipairs(t.vibeml_files) do files[#files + 1] = f.path end
  T.eq(table.concat(files, ","),
    "train.py,vibeml_hf.py,accelerate_zero3.json,accelerate_fsdp2.json")
  -- disk: save_total_limit + 1 full checkpoints (16 bytes/parameter) per node, model, output,
  -- caches
  local kit = require "vibeml.taskkit"
  local d = kit.disk_parts(70.6, "full", { hp = { save_total_limit = 1 }, nodes = 2,
    throughput = wf.get("full").throughput })
  T.ok(t.resources.disk_size >= 2 * d.checkpoint_each, "disk holds two checkpoints: "
    .. t.resources.disk_size)
  T.ok(d.checkpoint_each > 70.6 * 16 / 2, "per node: half the shards and the gathered model")
end)

T.case("task text: JSON for a *.yaml file, strings for envs, no exponents, no vibeml section",
  function()
  local task = assert(wf.build("full", req(M8B, 8.03, { cand("H100", 4, "aws", "us-east-1", true) },
    { hyperparameters = { learning_rate = 1e-5 } })))
  local text, files = wf.encode_task(task)
  T.ok(not text:find('"vibeml"', 1, true), "no vibeml section")
  T.ok(not text:find("\\/", 1, true), "no escaped slashes")
  T.ok(not text:find("\t", 1, true), "no tabs")
  T.eq(#files, 4)
  -- outside strings there is no exponent number
  T.eq(wf._plain_numbers(text), text, "no exponent numbers outside strings")
  T.eq(wf._plain_numbers('{"a":1e-05,"b":"1e-05","c":2.5E+3,"d":[-3e2]}'),
    '{"a":0.00001,"b":"1e-05","c":2500.0,"d":[-300.0]}')
  T.eq(wf._plain_numbers('{"s":"x\\"1e5\\"","n":7}'), '{"s":"x\\"1e5\\"","n":7}')
  local t = json.decode(text)
  for k, v in pairs(t.envs) do T.eq(type(v), "string", "envs." .. k) end
end)

T.case("selection: model size, budget, preference, deadline, with the reason", function()
  local n, why = wf.select({ params_b = 8, preference = "cheapest" })
  T.eq(n, "unsloth"); T.contains(why, "cheapest")
  n, why = wf.select({ params_b = 8, preference = "balanced" })
  T.eq(n, "lora"); T.contains(why, "bf16 LoRA")
  n, why = wf.select({ params_b = 70, preference = "balanced" })
  T.eq(n, "unsloth"); T.contains(why, "large")
  n = wf.select({ params_b = 1, preference = "best_quality" })
  T.eq(n, "full")
  n, why = wf.select({ params_b = 70, preference = "best_quality", budget = 20 })
  T.eq(n, "lora"); T.contains(why, "too much for a $20.00 budget")
  n, why = wf.select({ params_b = 100, preference = "best_quality" })
  T.eq(n, "unsloth"); T.contains(why, "full supports 0.1-72B models; lora supports 0.1-72B")
  n = wf.select({ gpu = false })
  T.eq(n, "smoke")
  -- with the planner's estimates: budget and deadline decide
  local est = { full = { cost = 300, duration_h = 10 }, lora = { cost = 40, duration_h = 3 },
                unsloth = { cost = 12, duration_h = 4 } }
  n, why = wf.select({ params_b = 8, preference = "best_quality", budget = 50 },
    function(name) return est[name] end)
  T.eq(n, "lora"); T.contains(why, "full would cost about $300.00, over the $50.00 budget")
  T.contains(why, "estimated $40.00")
  n = wf.select({ params_b = 8, preference = "balanced", deadline_h = 3.5 },
    function(name) return est[name] end)
  T.eq(n, "lora")
  n, why = wf.select({ params_b = 8, preference = "cheapest", deadline_h = 3.5 },
    function(name) return est[name] end)
  T.eq(n, "lora"); T.contains(why, "past the 3.5 h deadline")
  n, why = wf.select({ params_b = 8, preference = "best_quality" },
    function(name) if name ~= "full" then return est[name] end end)
  T.eq(n, "lora"); T.contains(why, "full has no GPU offer that fits")
  n, why = wf.select({ params_b = 8, preference = "cheapest", budget = 1 },
    function(name) return est[name] end)
  T.eq(n, nil); T.contains(why, "no workflow fits")
end)

T.case("smoke builds a CPU task without accelerators", function()
  local task = assert(wf.build("smoke", { model = "vibeml/smoke", dataset = "vibeml/builtin",
    candidates = { { cloud = "aws", region = "us-east-1", spot = false } } }))
  T.eq(task.resources.accelerators, nil)
  T.eq(task.resources.cpus, "2+")
  T.eq(task.run, "python3 train.py")
  T.eq(task.file_mounts, nil, "no bucket: checkpoints beside the job")
  T.eq(json.decode(task.envs.VIBEML_PARAMS).checkpoint_dir, "checkpoints")
end)

T.case("check_task refuses local paths, workdir and files outside the job folder", function()
  local good =
    assert(wf.build("smoke", { model = "a/b", dataset = "c/d", checkpoint_bucket = "vibeml-x" }))
  T.ok(wf.check_task(good))
  local function bad(mut, needle)
    local t =
      assert(wf.build("smoke", { model = "a/b", dataset = "c/d", checkpoint_bucket = "vibeml-x" }))
    t.file_mounts = t.file_mounts or {}
    mut(t)
    local ok, e = wf.check_task(t)
    T.eq(ok, nil, needle)
    T.contains(e, needle)
  end
  bad(function(t) t.file_mounts["/keys"] = "~/.ssh" end, "never a path on this machine")
  bad(function(t) t.file_mounts["/keys"] = { source = "/home/me", mode = "COPY" } end,
    "never a path")
  bad(function(t) t.workdir = "/home/me" end, "must not set workdir")
  bad(function(t) t.vibeml.files[1].path = "../../.bashrc" end, "relative path inside the job")
  bad(function(t) t.vibeml.files[1].embedded = "/etc/passwd" end, "shipped workflows/")
  bad(function(t) t.secrets = { HF_TOKEN = "hf_x" } end, "secret names only")
  bad(function(t) t.envs.N = 3 end, "envs.N must be a string")
  -- "://" inside a local path does not make it a bucket
  bad(function(t) t.file_mounts["/x"] = "/etc://x" end,
    "file_mounts./x = /etc://x: only buckets (s3://, gs://, ...) may be mounted, never a path")
  bad(function(t) t.file_mounts["/x"] = { source = "/etc://x", mode = "COPY" } end,
    "file_mounts./x = /etc://x: only buckets")
  bad(function(t) t.run = nil end, "the task needs a 'run' command")
  bad(function(t) t.resources = nil end, "the task needs a 'resources' table")
  -- a bucket URL is fine
  local t = assert(wf.build("smoke", { model = "a/b", dataset = "c/d" }))
  t.file_mounts = { ["/data"] = "s3://my-bucket/data",
    ["/x"] = { source = "gs://b", mode = "MOUNT" } }
  T.ok(wf.check_task(t))
end)


-- The same rule on both paths: a workflow whose trial build mounts "/etc://x" never loads; one
-- that does so only for some parameters loads, and wf.build refuses that task.
T.case("a \"/etc://x\" mount is refused at plugin load and at task build", function()
  local plugins = require "vibeml.plugins"
  local dir = vibeml.fs.paths().config .. "/plugins"
  assert(vibeml.fs.mkdirs(dir))
  local function source(cond)
    return table.concat({
      "local kit = require 'vibeml.taskkit'",
      "return { kind = 'workflow', name = 'etcwf', title = 'T', description = 'D',",
      "  version = '1', method = 'lora', model_sizes = { min_b = 0, max_b = 1 },",
      "  vram = {}, throughput = {}, hyperparameters = {}, gpu = { required = false,",
      "  min_count = 0, max_count = 0 }, build = function(p)",
      "    local t = kit.task { workflow = 'etcwf', p = p, setup = '', run = 'x' }",
      "    if " .. cond .. " then t.file_mounts = { ['/x'] = '/etc://x' } end",
      "    return t end }", "" }, "\n")
  end
  assert(vibeml.fs.write(dir .. "/etcwf.lua", source("true")))
  assert(plugins.set_dirs({ dir }))
  local err = plugins.errors()[1]
  T.eq(err and err.name, "etcwf")
  T.contains(err.message, "trial build with sample parameters: the task: file_mounts./x = "
    .. "/etc://x: only buckets (s3://, gs://, ...) may be mounted, never a path on this machine")
  T.eq(wf.get("etcwf"), nil, "never went live")
  assert(vibeml.fs.write(dir .. "/etcwf.lua", source("p.model == 'a/etc'")))
  plugins.rescan()
  T.eq(#plugins.errors(), 0)
  T.ok(wf.build("etcwf", { model = "a/b", dataset = "c/d" }))
  local task, e = wf.build("etcwf", { model = "a/etc", dataset = "c/d" })
  T.eq(task, nil)
  T.contains(e, "workflow 'etcwf' built an unsafe task: file_mounts./x = /etc://x: only buckets")
  assert(vibeml.fs.remove(dir .. "/etcwf.lua"))
  plugins.rescan()
  T.eq(wf.get("etcwf"), nil)
end)

T.case("pins: exact versions in one list per workflow, installed as listed", function()
  for _, name in ipairs({ "unsloth", "lora", "full" }) do
    local d = wf.get(name)
    T.ok(type(d.pins) == "table" and #d.pins >= 5, name .. " has pins")
    local task =
      assert(wf.build(name, req(M8B, 8.03, { cand("H100", 1, "aws", "us-east-1", true) })))
    for _, pin in ipairs(d.pins) do
      T.ok(pin:match("^[%w_.-]+==[%w.+-]+$"), name .. ": exact pin " .. pin)
      T.contains(task.setup, '"' .. pin .. '"')
    end
    T.ok(not task.setup:find(">=", 1, true), name .. ": no open ranges in setup")
    T.eq(d.gpu.vendor, "nvidia")
  end
  -- lora and full share one environment, so one list
  T.eq(table.concat(wf.get("lora").pins, " "), table.concat(wf.get("full").pins, " "))
  local has_bnb = false
  for _, pin in ipairs(wf.get("lora").pins) do if pin:find("^bitsandbytes==") then
    has_bnb = true end end
  T.ok(has_bnb, "lora offers 8-bit optimizers, so it installs bitsandbytes")
end)

return T.run()
