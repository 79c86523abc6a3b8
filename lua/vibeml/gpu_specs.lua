-- vibeml.gpu_specs — one table of GPU facts shared by the per-cloud GPU maps (plugins/gpus/):
-- SkyPilot accelerator name -> memory (GB), dense BF16 TFLOPs (FP16 where the card has no BF16),
-- the throughput model's architecture factor, the memory torch reports (usable_gb) and the
-- aliases people type. A cloud's map adds only what
-- is its own: instance types with GPUs per node, and per-instance overrides.
-- vendor ("nvidia" | "amd") and cc (CUDA compute capability, NVIDIA only; bf16 from 8.0) decide
-- which workflows can run on a GPU (their descriptors' gpu.vendor / gpu.min_compute_capability).
-- link = "pcie": cards without NVLink between the GPUs of a node (a cloud map may still override
-- per instance); they scale less inside a node and are not planned across nodes.
--   local specs = require "vibeml.gpu_specs"
--   gpus = specs.with{ ["H100"] = { instance_types = { ["p5.48xlarge"] = 8 } } }
local M = {}

M.specs = {
  ["A10"] = { vendor = "nvidia", link = "pcie", cc = 8.6, memory_gb = 24, bf16_tflops = 125,
    arch = "ampere", arch_factor = 1.0, aliases = {"A10-24GB"} },
  ["A100"] = { vendor = "nvidia", cc = 8.0, memory_gb = 40, bf16_tflops = 312, arch = "ampere",
    arch_factor = 1.0, usable_gb = 39.5,
    aliases = {"A100-40GB", "A100-40G", "A100-40", "A100-SXM4-40GB"} },
  ["A100-80GB"] = { vendor = "nvidia", cc = 8.0, memory_gb = 80, bf16_tflops = 312, arch = "ampere",
    arch_factor = 1.0, usable_gb = 79.3,
    aliases = {"A100-80G", "A100-SXM4-80GB", "A100_80GB", "A100-80"} },
  ["A10G"] = { vendor = "nvidia", link = "pcie", cc = 8.6, memory_gb = 24, bf16_tflops = 70,
    arch = "ampere", arch_factor = 1.0, usable_gb = 22.18, aliases = {"A10G-24GB"},
    note = "tensor peak uncertain (~70 reported)" },
  ["A6000"] = { vendor = "nvidia", link = "pcie", cc = 8.6, memory_gb = 48, bf16_tflops = 155,
    arch = "ampere", arch_factor = 1.0, aliases = vibeml.object{},
    note = "Lambda's name for the RTX A6000" },
  ["B200"] = { vendor = "nvidia", cc = 10.0, memory_gb = 180, bf16_tflops = 2250,
    arch = "blackwell", arch_factor = 0.7, aliases = {"B200-SXM", "HGX-B200"} },
  ["B300"] = { vendor = "nvidia", cc = 10.3, memory_gb = 288, bf16_tflops = 2250,
    arch = "blackwell", arch_factor = 0.7, aliases = {"B300-SXM"},
    note = "BF16 dense taken equal to B200 (ASSUMPTION)" },
  ["GH200"] = { vendor = "nvidia", cc = 9.0, memory_gb = 96, bf16_tflops = 989, arch = "hopper",
    arch_factor = 0.8, aliases = {"GH200-96GB"} },
  ["H100"] = { vendor = "nvidia", cc = 9.0, memory_gb = 80, bf16_tflops = 989, arch = "hopper",
    arch_factor = 0.8, aliases = {"H100-80GB", "H100-SXM", "H100-SXM5", "H100-80G"} },
  ["H100-MEGA"] = { vendor = "nvidia", cc = 9.0, memory_gb = 80, bf16_tflops = 989, arch = "hopper",
    arch_factor = 0.8, aliases = {"H100-MEGA-80GB"},
    note = "GCP a3-megagpu: H100 with more network bandwidth" },
  ["H200"] = { vendor = "nvidia", cc = 9.0, memory_gb = 141, bf16_tflops = 989, arch = "hopper",
    arch_factor = 0.8, aliases = {"H200-SXM", "H200-141GB"} },
  ["L4"] = { vendor = "nvidia", link = "pcie", cc = 8.9, memory_gb = 24, bf16_tflops = 121,
    arch = "ada", arch_factor = 0.5, usable_gb = 22.16, aliases = {"L4-24GB"} },
  ["L40S"] = { vendor = "nvidia", link = "pcie", cc = 8.9, memory_gb = 48, bf16_tflops = 362,
    arch = "ada", arch_factor = 0.9, aliases = {"L40S-48GB"} },
  ["MI300X"] = { vendor = "amd", gfx = "gfx942", memory_gb = 192, bf16_tflops = 1307,
    arch = "cdna3", arch_factor = 0.6, aliases = {"MI300X-192GB", "INSTINCT-MI300X"},
    note = "ROCm: Unsloth support unverified" },
  ["RTX3090"] = { vendor = "nvidia", link = "pcie", cc = 8.6, memory_gb = 24, bf16_tflops = 71,
    arch = "ampere", arch_factor = 0.9, aliases = {"RTX-3090", "3090"} },
  ["RTX4090"] = { vendor = "nvidia", link = "pcie", cc = 8.9, memory_gb = 24, bf16_tflops = 165,
    arch = "ada", arch_factor = 0.9, aliases = {"RTX-4090", "4090", "GEFORCE-RTX-4090"} },
  ["RTX5090"] = { vendor = "nvidia", link = "pcie", cc = 12.0, memory_gb = 32, bf16_tflops = 209,
    arch = "blackwell", arch_factor = 0.7, aliases = {"RTX-5090", "5090"},
    note = "dense BF16 with FP32 accumulate (ASSUMPTION)" },
  ["RTX6000"] = { vendor = "nvidia", link = "pcie", cc = 7.5, memory_gb = 24, bf16_tflops = 130,
    arch = "turing", arch_factor = 0.5, aliases = {"QUADRO-RTX-6000"},
    note = "Quadro RTX 6000 (Turing), FP16 only" },
  ["RTX6000-Ada"] = { vendor = "nvidia", link = "pcie", cc = 8.9, memory_gb = 48, bf16_tflops = 364,
    arch = "ada", arch_factor = 0.9,
    aliases = {"RTX6000ADA", "RTX-6000-ADA", "RTX-6000-ADA-48GB"} },
  ["RTXA5000"] = { vendor = "nvidia", link = "pcie", cc = 8.6, memory_gb = 24, bf16_tflops = 111,
    arch = "ampere", arch_factor = 1.0, aliases = {"RTX-A5000"} },
  ["RTXA6000"] = { vendor = "nvidia", link = "pcie", cc = 8.6, memory_gb = 48, bf16_tflops = 155,
    arch = "ampere", arch_factor = 1.0, aliases = {"RTX-A6000"} },
  ["RTXPRO6000"] = { vendor = "nvidia", link = "pcie", cc = 12.0, memory_gb = 96, bf16_tflops = 500,
    arch = "blackwell", arch_factor = 0.7, aliases = {"RTX-PRO-6000"},
    note = "BF16 dense estimated from FP8 (ASSUMPTION)" },
  ["RTXPRO6000WS"] = { vendor = "nvidia", link = "pcie", cc = 12.0, memory_gb = 96,
    bf16_tflops = 500, arch = "blackwell", arch_factor = 0.7, aliases = {"RTX-PRO-6000-WS"},
    note = "BF16 dense estimated from FP8 (ASSUMPTION)" },
  ["T4"] = { vendor = "nvidia", link = "pcie", cc = 7.5, memory_gb = 16, bf16_tflops = 65,
    arch = "turing", arch_factor = 0.5, usable_gb = 14.74, aliases = {"T4-16GB", "TESLA-T4"},
    note = "no BF16: FP16 mixed precision" },
  ["V100"] = { vendor = "nvidia", cc = 7.0, memory_gb = 16, bf16_tflops = 125, arch = "volta",
    arch_factor = 0.5, aliases = {"V100-16GB", "TESLA-V100"}, note = "no BF16: FP16 tensor cores" },
  ["V100-32GB"] = { vendor = "nvidia", cc = 7.0, memory_gb = 32, bf16_tflops = 125, arch = "volta",
    arch_factor = 0.5, aliases = {"V100-32G"}, note = "no BF16: FP16 tensor cores" },
}

-- A copy of each named GPU's facts merged with the cloud's own fields (instance_types, ...).
function M.with(own)
  local out = {}
  for name, extra in pairs(own) do
    local base = M.specs[name]
    if not base then error("no GPU facts for '" .. tostring(name) .. "' in vibeml.gpu_specs", 2) end
    local g = {}
    for k, v in pairs(base) do
      if type(v) == "table" then local c = {} for i, x in ipairs(v) do c[i] = x end v = c end
      g[k] = v
    end
    for k, v in pairs(extra) do g[k] = v end
    out[name] = g
  end
  return out
end

return M
