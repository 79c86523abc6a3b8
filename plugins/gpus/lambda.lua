-- GPU map for Lambda Cloud (lambda): this cloud's instance types with their GPUs per node (from
-- plugins/catalog/gpu_offers.csv) and any per-instance overrides; the GPUs' own facts (memory,
-- BF16 TFLOPs, architecture factor, aliases) come from vibeml.gpu_specs, shared by every cloud.
-- Plugin kind "gpu_map": data only.
local specs = require "vibeml.gpu_specs"

return {
  kind = "gpu_map",
  name = "lambda",
  cloud = "lambda",
  version = "1.0.0",
  title = "Lambda Cloud GPUs",
  gpus = specs.with{
    ["A10"] = {
      ["instance_types"] = {
        ["gpu_1x_a10"] = 1,
      },
    },
    ["A100"] = {
      ["instance_types"] = {
        ["gpu_1x_a100"] = 1,
        ["gpu_1x_a100_sxm4"] = 1,
        ["gpu_2x_a100"] = 2,
        ["gpu_4x_a100"] = 4,
        ["gpu_8x_a100"] = 8,
      },
    },
    ["A100-80GB"] = {
      ["instance_types"] = {
        ["gpu_8x_a100_80gb_sxm4"] = 8,
      },
    },
    ["A6000"] = {
      ["instance_types"] = {
        ["gpu_1x_a6000"] = 1,
        ["gpu_2x_a6000"] = 2,
        ["gpu_4x_a6000"] = 4,
      },
    },
    ["B200"] = {
      ["instance_types"] = {
        ["gpu_1x_b200_sxm6"] = 1,
        ["gpu_2x_b200_sxm6"] = 2,
        ["gpu_4x_b200_sxm6"] = 4,
        ["gpu_8x_b200_sxm6"] = 8,
      },
    },
    ["GH200"] = {
      ["instance_types"] = {
        ["gpu_1x_gh200"] = 1,
      },
    },
    ["H100"] = {
      ["instance_overrides"] = {
        ["gpu_1x_h100_pcie"] = {
          ["bf16_tflops"] = 756,
          ["interconnect"] = "pcie",
        },
      },
      ["instance_types"] = {
        ["gpu_1x_h100_pcie"] = 1,
        ["gpu_1x_h100_sxm5"] = 1,
        ["gpu_2x_h100_sxm5"] = 2,
        ["gpu_4x_h100_sxm5"] = 4,
        ["gpu_8x_h100_sxm5"] = 8,
      },
    },
    ["RTX6000"] = {
      ["instance_types"] = {
        ["gpu_1x_rtx6000"] = 1,
      },
    },
    ["V100"] = {
      ["instance_types"] = {
        ["gpu_8x_v100"] = 8,
        ["gpu_8x_v100_n"] = 8,
      },
    },
  },
}
