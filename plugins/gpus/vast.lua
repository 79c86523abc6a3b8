-- GPU map for Vast.ai marketplace (vast): this cloud's instance types with their GPUs per node
-- (from
-- plugins/catalog/gpu_offers.csv) and any per-instance overrides; the GPUs' own facts (memory,
-- BF16 TFLOPs, architecture factor, aliases) come from vibeml.gpu_specs, shared by every cloud.
-- Plugin kind "gpu_map": data only.
local specs = require "vibeml.gpu_specs"

return {
  kind = "gpu_map",
  name = "vast",
  cloud = "vast",
  version = "1.0.0",
  title = "Vast.ai marketplace GPUs",
  notes = "Marketplace offers: regions are free-text locations; no spot prices in the snapshot.",
  -- SkyPilot's Vast cloud lists MULTI_NODE among its unsupported features ("the interconnection
  -- among nodes are non-trivial on Vast", sky/clouds/vast.py): plans use one node here
  multi_node = false,
  -- ... and STORAGE_MOUNTING ("Mounting object stores is not supported on Vast"): a job there
  -- cannot keep checkpoints or outputs in a bucket, so its results would die with the VM;
  -- the planner offers no Vast machine to VibeML's cloud jobs
  storage_mount = false,
  unsupported = {
    ["RTX3060"] = "12 GB",
    ["RTX4060"] = "8 GB",
    ["RTX4070"] = "12 GB",
    ["RTX5070"] = "12 GB",
    ["RTX5880-Ada"] = "spec not verified",
  },
  gpus = specs.with{
    ["A100"] = {
      ["instance_types"] = {
        ["1x-A100_SXM4-32-65536"] = 1,
        ["2x-A100_PCIE-32-65536"] = 2,
        ["2x-A100_SXM4-32-65536"] = 2,
      },
    },
    ["H100"] = {
      ["instance_types"] = {
        ["1x-H100_NVL-32-65536"] = 1,
        ["1x-H100_SXM-32-65536"] = 1,
        ["2x-H100_SXM-32-65536"] = 2,
        ["4x-H100_SXM-32-65536"] = 4,
        ["8x-H100_SXM-32-65536"] = 8,
      },
    },
    ["H200"] = {
      ["instance_types"] = {
        ["1x-H200-32-65536"] = 1,
        ["2x-H200-32-65536"] = 2,
        ["4x-H200-32-65536"] = 4,
        ["8x-H200-32-65536"] = 8,
      },
    },
    ["L40S"] = {
      ["instance_types"] = {
        ["1x-L40S-32-65536"] = 1,
        ["2x-L40S-32-65536"] = 2,
        ["4x-L40S-32-65536"] = 4,
      },
    },
    ["RTX3090"] = {
      ["instance_types"] = {
        ["1x-RTX_3090-32-65536"] = 1,
        ["2x-RTX_3090-32-65536"] = 2,
        ["4x-RTX_3090-32-65536"] = 4,
        ["5x-RTX_3090-32-65536"] = 5,
        ["8x-RTX_3090-32-65536"] = 8,
      },
    },
    ["RTX4090"] = {
      ["instance_types"] = {
        ["1x-RTX_4090-32-65536"] = 1,
        ["2x-RTX_4090-32-65536"] = 2,
        ["4x-RTX_4090-32-65536"] = 4,
        ["5x-RTX_4090-32-65536"] = 5,
        ["8x-RTX_4090-32-65536"] = 8,
      },
    },
    ["RTX5090"] = {
      ["instance_types"] = {
        ["1x-RTX_5090-32-65536"] = 1,
        ["2x-RTX_5090-32-65536"] = 2,
        ["4x-RTX_5090-32-65536"] = 4,
        ["8x-RTX_5090-32-65536"] = 8,
      },
    },
    ["RTX6000-Ada"] = {
      ["instance_types"] = {
        ["2x-RTX_6000Ada-32-65536"] = 2,
      },
    },
    ["RTXA5000"] = {
      ["instance_types"] = {
        ["2x-RTX_A5000-32-65536"] = 2,
        ["4x-RTX_A5000-32-65536"] = 4,
      },
    },
    ["RTXA6000"] = {
      ["instance_types"] = {
        ["2x-RTX_A6000-32-65536"] = 2,
        ["4x-RTX_A6000-32-65536"] = 4,
      },
    },
    ["RTXPRO6000WS"] = {
      ["instance_types"] = {
        ["1x-RTX_PRO_6000_WS-32-65536"] = 1,
        ["2x-RTX_PRO_6000_WS-32-65536"] = 2,
      },
    },
    ["V100"] = {
      ["instance_types"] = {
        ["1x-Tesla_V100-32-65536"] = 1,
        ["2x-Tesla_V100-32-65536"] = 2,
        ["4x-Tesla_V100-32-65536"] = 4,
      },
    },
  },
}
