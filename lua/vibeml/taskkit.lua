-- vibeml.taskkit — pieces every workflow plugin's build(p) uses to make a SkyPilot task
-- (see docs/plugins.md). Pure functions, no globals: it runs inside a plugin's sandboxed
-- state (require "vibeml.taskkit") as well as in the host.
--
-- The rules it keeps for every workflow:
--   * user-supplied values (model, dataset, hyperparameters, hub repo) travel ONLY inside the one
--     JSON document in envs.VIBEML_PARAMS, which the static training script reads; setup and run
--     are constant text chosen by the workflow (they never splice a parameter);
--   * envs are strings; secrets are listed by name (value vibeml.null) and never carried;
--   * the candidates become resources.ordered, best first, so SkyPilot fails over down the
--     plan's own ranking (any_of would let it re-pick by hourly price and break "cheapest whole
--     job"); spot runs get job_recovery (managed jobs);
--   * where checkpoints and outputs go is not the workflow's business: the backend gives each
--     job its own folders (VIBEML_CHECKPOINT_DIR, VIBEML_OUTPUT_DIR; on a cloud, under the
--     durable bucket it mounts, see vibeml.jobs.storage) and ships task.vibeml.files as the
--     task's workdir.
local M = {}

M.MAX_RESTARTS_ON_ERRORS = 2

-- Shell prelude of setup and run: a function printing @@VIBEML phase events (protocol:
-- workflows/README.md).
M.PHASE_FN = [[vibeml_phase() { printf '@@VIBEML ]]
  .. [[{"v":1,"event":"phase","ts":%s,"phase":"%s","status":"%s"}\n' "$(date +%s)" "$1" "$2"; }]]

-- resources.ordered entries from the ranked candidates (best first).
local function ordered(p, need_gpu)
  local out = {}
  for _, c in ipairs(p.candidates or {}) do
    local r = {}
    if c.cloud then
      r.infra = c.region and (c.cloud .. "/" .. c.region) or c.cloud
    end
    if need_gpu and c.accelerator then
      r.accelerators = c.accelerator .. ":" .. math.tointeger(c.count or 1)
    end
    if c.instance_type then r.instance_type = c.instance_type end
    if c.cpus then r.cpus = tostring(c.cpus) end
    r.use_spot = c.spot and true or false
    out[#out + 1] = r
  end
  return out
end

-- Disk for one node, in GB: the Python environment (PyTorch with its CUDA libraries), the model
-- download (bf16, 2 bytes per parameter) and dataset caches, the outputs (a full model, or an
-- adapter plus the merged/GGUF copies when asked) and save_total_limit + 1 checkpoints (the Trainer
-- writes the new one before it deletes the oldest; a checkpoint bucket mounted MOUNT_CACHED keeps
-- them on this disk until they are uploaded), plus 15 % headroom.
-- opts: hp (validated hyperparameters), nodes, vram/throughput (the descriptor's constants).
M.ENV_GB = 40
M.DATA_CACHE_GB = 20
function M.disk_parts(params_b, method, opts)
  opts = opts or {}
  local sizing = require "vibeml.sizing"
  local hp = opts.hp or {}
  local p = params_b or 1
  local parts = { env = M.ENV_GB, data = M.DATA_CACHE_GB, model = p * 2 }
  local out = 0
  if method == "full" then
    out = p * 2
  else
    if hp.merge_adapter then out = out + p * 2 end
    if hp.save_gguf and hp.save_gguf ~= "none" then out = out + p * 2 + p * 1.1 end
  end
  parts.output = out
  local keep = (tonumber(hp.save_total_limit) or 2) + 1
  local ckpt = 0
  if method == "full" or method == "lora" or method == "qlora" then
    ckpt = sizing.checkpoint_bytes(method, p, { nodes = opts.nodes, rank = tonumber(hp.lora_r),
      vram = opts.vram, throughput = opts.throughput }) / 1e9
  end
  parts.checkpoint_each = ckpt
  parts.checkpoints = keep * ckpt
  parts.total = (parts.env + parts.data + parts.model + parts.output + parts.checkpoints) * 1.15
  return parts
end

function M.disk_gb(params_b, method, opts)
  local gb = math.ceil(M.disk_parts(params_b, method, opts).total)
  if gb < 100 then gb = 100 end
  return math.tointeger(gb)
end

-- The resources table: the candidates in the plan's order, disk, recovery for managed spot runs.
function M.resources(p, opts)
  opts = opts or {}
  local list = ordered(p, opts.gpu ~= false)
  local res = { disk_size = opts.disk_size
    or M.disk_gb((p.model_info or {}).params_b, opts.method) }
  local spot = false
  for _, r in ipairs(list) do if r.use_spot then spot = true end end
  if #list == 1 then
    for k, v in pairs(list[1]) do res[k] = v end
  elseif #list > 1 then
    res.ordered = list
  end
  if spot then
    -- preemptions recover by default; a crash of the training code is retried a few times,
    -- and the script resumes from its last checkpoint
    res.job_recovery = { strategy = "EAGER_NEXT_REGION",
                         max_restarts_on_errors = opts.max_restarts or M.MAX_RESTARTS_ON_ERRORS }
  end
  if opts.cpus then res.cpus = opts.cpus end
  return res
end

-- The checkpoint folder named in the parameters document: a relative default that the backend
-- always overrides with the job's own folder (VIBEML_CHECKPOINT_DIR). No mounts here: the
-- backend mounts the durable bucket (vibeml.jobs.storage).
function M.checkpoints()
  return nil, "checkpoints"
end

-- Secrets by name only: required ones plus HF_TOKEN when the model is gated or a push is asked.
function M.secrets(p, desc_secrets)
  local names, seen = {}, {}
  local function add(n) if n and not seen[n] then seen[n] = true; names[#names + 1] = n end end
  for _, n in ipairs((desc_secrets or {}).required or {}) do add(n) end
  if (p.model_info or {}).gated or p.push_to_hub then add("HF_TOKEN") end
  for _, n in ipairs(p.secrets or {}) do add(n) end
  if #names == 0 then return nil end
  local out = {}
  for _, n in ipairs(names) do out[n] = vibeml.null end
  return out
end

-- The one JSON document the training script reads (env VIBEML_PARAMS).
function M.params_doc(workflow, p, ckpt_dir, extra)
  local doc = {
    v = 1,
    workflow = workflow,
    job_name = p.job_name,
    model = p.model,
    dataset = p.dataset,
    dataset_format = p.dataset_format or "auto",
    hyperparameters = vibeml.object(p.hyperparameters or {}),
    checkpoint_dir = ckpt_dir,
    push_to_hub = p.push_to_hub or vibeml.null,
    hub_private = p.hub_private ~= false, -- pushed models are private unless asked otherwise
    num_nodes = math.tointeger(p.num_nodes or 1),
  }
  for k, v in pairs(extra or {}) do doc[k] = v end
  return vibeml.json.encode(doc, { sort_keys = true })
end

-- Assembles a task. spec = {workflow=, p=, desc_secrets=, setup=, run=, files={...},
-- gpu=bool, method=, envs={...constant extra envs}}.
function M.task(spec)
  local p = spec.p
  local mounts, ckpt = M.checkpoints()
  local envs = { VIBEML_PARAMS = M.params_doc(spec.workflow, p, ckpt, spec.extra),
                 VIBEML_WORKFLOW = spec.workflow,
                 PYTHONUNBUFFERED = "1" }
  for k, v in pairs(spec.envs or {}) do envs[k] = v end
  local files = {}
  for _, f in ipairs(spec.files or {}) do files[#files + 1] = { path = f[1], embedded = f[2] } end
  return {
    name = p.job_name,
    num_nodes = math.tointeger(p.num_nodes or 1),
    resources = M.resources(p, { gpu = spec.gpu, method = spec.method, disk_size = spec.disk_size,
                                 cpus = spec.cpus }),
    envs = envs,
    secrets = M.secrets(p, spec.desc_secrets),
    file_mounts = mounts,
    setup = spec.setup,
    run = spec.run,
    vibeml = { workflow = spec.workflow, checkpoint_dir = ckpt, files = files },
  }
end

-- One `pip install -q "a==1" "b==2"` line for exact pins.
local function pip_line(pins)
  local q = {}
  for i, p in ipairs(pins) do q[i] = '"' .. p .. '"' end
  return "pip install -q " .. table.concat(q, " ")
end

-- The setup of a workflow with its own Python environment at `env` (a path under $HOME, shared by
-- workflows that pin the same list): create the venv once (virtualenv where python3-venv is
-- missing), then install the exact pins, the first one (torch) alone before the rest because
-- other packages' setup imports it. Constant text: nothing from the user is spliced in.
function M.venv_setup(env, pins)
  return table.concat({
    "set -e",
    M.PHASE_FN,
    "vibeml_phase install start",
    'if [ ! -x "' .. env .. '/bin/python" ]; then',
    '  python3 -m venv "' .. env
      .. '" || { python3 -m pip install -q --user virtualenv && python3 -m virtualenv "' .. env
      .. '"; }',
    "fi",
    '. "' .. env .. '/bin/activate"',
    "pip install -q --upgrade pip",
    pip_line({ pins[1] }),
    pip_line(pins),
    "vibeml_phase install end",
  }, "\n")
end

-- The run of such a workflow: activate `env`, fast Hub downloads, then `line`.
function M.venv_run(env, line)
  return table.concat({
    "set -e",
    '. "' .. env .. '/bin/activate"',
    "export HF_HUB_ENABLE_HF_TRANSFER=1",
    line,
  }, "\n")
end

-- The accelerate config file for each value of the TRL workflows' `distributed` hyperparameter
-- (the files live in workflows/full/).
M.ACCELERATE_CONFIGS = { zero3 = "accelerate_zero3.json", fsdp2 = "accelerate_fsdp2.json" }

-- The files a Hugging Face workflow ships as the task's workdir: its train.py, the shared
-- vibeml_hf.py beside it and, with `accelerate`, the accelerate configs.
function M.hf_files(workflow, accelerate)
  local files = { { "train.py", "workflows/" .. workflow .. "/train.py" },
                  { "vibeml_hf.py", "workflows/vibeml_hf.py" } }
  if accelerate then
    files[#files + 1] = { "accelerate_zero3.json", "workflows/full/accelerate_zero3.json" }
    files[#files + 1] = { "accelerate_fsdp2.json", "workflows/full/accelerate_fsdp2.json" }
  end
  return files
end

-- Hyperparameters shared by the Hugging Face workflows (unsloth, lora, full). `over` replaces
-- or adds entries (a value false removes one).
function M.hf_hyperparameters(over)
  local hp = {
    epochs = { type = "number", default = 1, min = 0.01, max = 100,
               description = "passes over the dataset (ignored when max_steps > 0)" },
    max_steps = { type = "integer", default = -1, min = -1, max = 10000000,
                  description = "optimizer steps to run; -1 = use epochs" },
    learning_rate = { type = "number", default = 2e-4, min = 1e-7, max = 1e-2,
                      description = "peak learning rate" },
    lr_scheduler = { type = "string", default = "linear",
                     enum = { "linear", "cosine", "constant", "constant_with_warmup" },
                     description = "learning-rate schedule" },
    warmup_ratio = { type = "number", default = 0.03, min = 0, max = 0.5,
                     description = "fraction of steps used to warm the learning rate up (the "
                       .. "script turns it into warmup_steps)" },
    eval_fraction = { type = "number", default = 0.02, min = 0, max = 0.2,
                      description = "share of the examples held out to measure eval loss at each "
                        .. "checkpoint; 0 = no evaluation" },
    eval_max_rows = { type = "integer", default = 500, min = 1, max = 100000,
                      description = "at most this many held-out examples" },
    chat_template = { type = "string", default = "auto", enum = { "auto", "chatml", "model" },
                      description = "chat template for conversational data: auto = the model's "
                        .. "own, or chatml for a base model without one; model = the model's own "
                        .. "(fails without one); chatml = always ChatML" },
    completion_only_loss = { type = "boolean", default = true,
                             description = "prompt/completion data: train on the completion only "
                               .. "(the prompt is context)" },
    weight_decay = { type = "number", default = 0.01, min = 0, max = 1,
                     description = "AdamW weight decay" },
    max_seq_length = { type = "integer", default = 2048, min = 64, max = 131072,
                       description = "tokens per training sequence (longer ones are cut)" },
    per_device_batch_size = { type = "integer", default = 2, min = 1, max = 256,
                              description = "sequences per GPU per micro-step" },
    gradient_accumulation_steps = { type = "integer", default = 4, min = 1, max = 1024,
                                    description = "micro-steps per optimizer step" },
    packing = { type = "boolean", default = false,
                description =
                  "pack short examples into full-length sequences (faster on short data)" },
    save_steps = { type = "integer", default = 100, min = 1, max = 1000000,
                   description = "save a checkpoint every N optimizer steps" },
    save_total_limit = { type = "integer", default = 2, min = 1, max = 20,
                         description = "checkpoints kept (older ones are deleted)" },
    logging_steps = { type = "integer", default = 5, min = 1, max = 100000,
                      description = "report progress every N steps" },
    seed = { type = "integer", default = 3407, min = 0, max = 2147483647,
             description = "random seed" },
    dataset_split = { type = "string", default = "train",
                      description = "dataset split, e.g. train or train[:1000]" },
    dataset_config = { type = "string", description = "dataset configuration (subset) name" },
    max_samples = { type = "integer", default = 0, min = 0, max = 1000000000,
                    description = "use at most N examples; 0 = all" },
    lora_r = { type = "integer", default = 16, min = 1, max = 1024, description = "LoRA rank" },
    lora_alpha = { type = "integer", default = 32, min = 1, max = 2048,
      description = "LoRA alpha" },
    lora_dropout = { type = "number", default = 0.05, min = 0, max = 0.5,
                     description = "LoRA dropout" },
    merge_adapter = { type = "boolean", default = false,
                      description = "also save a merged 16-bit model next to the adapter" },
  }
  for k, v in pairs(over or {}) do
    if v == false then hp[k] = nil else hp[k] = v end
  end
  return hp
end

-- The run line for the Hugging Face workflows: one process on one GPU, accelerate across the
-- GPUs of a node, and across nodes with SkyPilot's node variables. Constant text: GPU and node
-- counts come from SkyPilot's environment at run time, whichever candidate was picked.
function M.launch_line(script, accelerate_config)
  local cfg = accelerate_config and ("--config_file " .. accelerate_config .. " ") or "--multi_gpu "
  return table.concat({
    'NODES="${SKYPILOT_NUM_NODES:-1}"',
    'GPUS="${SKYPILOT_NUM_GPUS_PER_NODE:-1}"',
    'if [ "$NODES" -gt 1 ] || [ "$GPUS" -gt 1 ]; then',
    '  MASTER_ADDR="$(echo "$SKYPILOT_NODE_IPS" | head -n1)"',
    '  accelerate launch ' .. cfg
      .. '--num_machines "$NODES" --machine_rank "${SKYPILOT_NODE_RANK:-0}" '
      .. '--main_process_ip "${MASTER_ADDR:-127.0.0.1}" --main_process_port 29500 '
      .. '--num_processes "$((NODES * GPUS))" ' .. script,
    'else',
    '  python ' .. script,
    'fi',
  }, "\n")
end

return M
