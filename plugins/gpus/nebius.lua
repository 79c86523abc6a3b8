-- GPU map for Nebius AI Cloud (nebius): this cloud's instance types with their GPUs per node (from
-- plugins/catalog/gpu_offers.csv) and any per-instance overrides; the GPUs' own facts (memory,
-- BF16 TFLOPs, architecture factor, aliases) come from vibeml.gpu_specs, shared by every cloud.
-- Plugin kind "gpu_map": data only.
local specs = require "vibeml.gpu_specs"

return {
  kind = "gpu_map",
  name = "nebius",
  cloud = "nebius",
  version = "1.0.0",
  title = "Nebius AI Cloud GPUs",
  gpus = specs.with{
    ["B200"] = {
      ["instance_types"] = {
        ["gpu-b200-sxm_8gpu-160vcpu-1792gb"] = 8,
      },
    },
    ["H100"] = {
      ["instance_types"] = {
        ["gpu-h100-sxm_1gpu-16vcpu-200gb"] = 1,
        ["gpu-h100-sxm_8gpu-128vcpu-1600gb"] = 8,
      },
    },
    ["H200"] = {
      ["instance_types"] = {
        ["gpu-h200-sxm_1gpu-16vcpu-200gb"] = 1,
        ["gpu-h200-sxm_8gpu-128vcpu-1600gb"] = 8,
      },
    },
    ["L40S"] = {
      ["instance_types"] = {
        ["gpu-l40s-a_1gpu-16vcpu-64gb"] = 1,
        ["gpu-l40s-a_1gpu-24vcpu-96gb"] = 1,
        ["gpu-l40s-a_1gpu-32vcpu-128gb"] = 1,
        ["gpu-l40s-a_1gpu-40vcpu-160gb"] = 1,
        ["gpu-l40s-a_1gpu-8vcpu-32gb"] = 1,
        ["gpu-l40s-d_1gpu-16vcpu-96gb"] = 1,
        ["gpu-l40s-d_1gpu-32vcpu-192gb"] = 1,
        ["gpu-l40s-d_1gpu-48vcpu-288gb"] = 1,
        ["gpu-l40s-d_2gpu-64vcpu-384gb"] = 2,
        ["gpu-l40s-d_2gpu-96vcpu-576gb"] = 2,
        ["gpu-l40s-d_4gpu-128vcpu-768gb"] = 4,
        ["gpu-l40s-d_4gpu-192vcpu-1152gb"] = 4,
      },
    },
  },
}
