-- Writes the task each workflow generates for a grid of requests (sizes 0.5-72 B, every dataset
-- format, 1-16 GPUs) into arg[1], one JSON file each, and manifest.json describing them; sizes a
-- workflow does not cover must be refused. Used by tests/integration/test_workflow_tasks.sh.
local wf = require "vibeml.workflows"
local out = assert(arg[1], "usage: dump_tasks.lua OUTDIR")
local SIZES = { 0.5, 1.5, 3, 7, 8, 14, 32, 70, 72, 405 } -- 405: outside every range
local GPUS = { 1, 2, 4, 8, 16 }
local manifest, n, refused = {}, 0, 0
for _, name in ipairs({ "unsloth", "lora", "full" }) do
  local d = assert(wf.get(name))
  for _, size in ipairs(SIZES) do
    for _, fmt in ipairs(wf.FORMATS) do
      for _, g in ipairs(GPUS) do
        local per = math.min(g, 8)
        local nodes = g // per
        local ok_count = per <= d.gpu.max_count and (nodes == 1 or d.gpu.multi_node)
        if ok_count then
          local hp = {}
          if name == "full" and size > 30 then hp.optim = "adamw_8bit" end
          local p = { job_name = "grid-" .. name, model = "org/Model-" .. size .. "B",
            dataset = "org/data", dataset_format = fmt, hyperparameters = hp,
            model_info = { params_b = size, gated = false }, num_nodes = nodes,
            checkpoint_bucket = "vibeml-grid",
            candidates = { { accelerator = "H100", count = per, cloud = "aws", region = "us-east-1", spot = true },
                           { accelerator = "A100-80GB", count = per, cloud = "gcp", region = "us-central1", spot = false } } }
          local task, err = wf.build(name, p)
          local inside = size >= d.model_sizes.min_b and size <= d.model_sizes.max_b
          if inside then
            assert(task, name .. " " .. size .. "B " .. fmt .. " " .. g .. " GPUs: " .. tostring(err))
            n = n + 1
            local file = string.format("%s_%s_%s_%d.json", name, tostring(size), fmt, g)
            assert(vibeml.fs.write(out .. "/" .. file, (wf.encode_task(task))))
            local clean = assert(wf.validate(name, p))
            manifest[#manifest + 1] = { file = file, workflow = name, method = d.method,
              params_b = size, nodes = nodes, gpus = g,
              save_total_limit = clean.hyperparameters.save_total_limit,
              lora_r = clean.hyperparameters.lora_r,
              ckpt_bytes_per_param = d.throughput.checkpoint_bytes_per_param,
              files = task.vibeml.files }
          else
            assert(not task, name .. " accepted a " .. size .. "B model outside its range")
            refused = refused + 1
          end
        end
      end
    end
  end
end
assert(vibeml.fs.write(out .. "/manifest.json", vibeml.json.encode({ tasks = vibeml.array(manifest),
  refused = refused }, { indent = 1 })))
print(string.format("%d tasks written, %d out-of-range requests refused", n, refused))
