-- GPU map for Microsoft Azure (azure): this cloud's instance types with their GPUs per node (from
-- plugins/catalog/gpu_offers.csv) and any per-instance overrides; the GPUs' own facts (memory,
-- BF16 TFLOPs, architecture factor, aliases) come from vibeml.gpu_specs, shared by every cloud.
-- Plugin kind "gpu_map": data only.
local specs = require "vibeml.gpu_specs"

return {
  kind = "gpu_map",
  name = "azure",
  cloud = "azure",
  version = "1.0.0",
  title = "Microsoft Azure GPUs",
  unsupported = {
    ["M60"] = "Maxwell, too old to train with",
    ["MI25"] = "no current ROCm support",
  },
  gpus = specs.with{
    ["A10"] = {
      ["instance_types"] = {
        ["Standard_NC16ads_A10_v4"] = 1,
        ["Standard_NC32ads_A10_v4"] = 2,
        ["Standard_NC8ads_A10_v4"] = 1,
        ["Standard_NV12ads_A10_v5"] = 0.333,
        ["Standard_NV18ads_A10_v5"] = 0.5,
        ["Standard_NV36adms_A10_v5"] = 1,
        ["Standard_NV36ads_A10_v5"] = 1,
        ["Standard_NV6ads_A10_v5"] = 0.167,
        ["Standard_NV72ads_A10_v5"] = 2,
      },
    },
    ["A100"] = {
      ["instance_types"] = {
        ["Standard_ND96asr_v4"] = 8,
      },
    },
    ["A100-80GB"] = {
      ["instance_types"] = {
        ["Standard_NC24ads_A100_v4"] = 1,
        ["Standard_NC48ads_A100_v4"] = 2,
        ["Standard_NC96ads_A100_v4"] = 4,
        ["Standard_ND96amsr_A100_v4"] = 8,
      },
    },
    ["H100"] = {
      ["instance_types"] = {
        ["Standard_NC40ads_H100_v5"] = 1,
        ["Standard_NC80adis_H100_v5"] = 2,
        ["Standard_NCC40ads_H100_v5"] = 1,
        ["Standard_ND96isr_H100_v5"] = 8,
      },
    },
    ["H200"] = {
      ["instance_types"] = {
        ["Standard_ND96isr_H200_v5"] = 8,
      },
    },
    ["MI300X"] = {
      ["instance_types"] = {
        ["Standard_ND96isr_MI300X_v5"] = 8,
      },
    },
    ["T4"] = {
      ["instance_types"] = {
        ["Standard_NC16as_T4_v3"] = 1,
        ["Standard_NC4as_T4_v3"] = 1,
        ["Standard_NC64as_T4_v3"] = 4,
        ["Standard_NC8as_T4_v3"] = 1,
      },
    },
    ["V100"] = {
      ["instance_types"] = {
        ["Standard_NC12s_v3"] = 2,
        ["Standard_NC24rs_v3"] = 4,
        ["Standard_NC24s_v3"] = 4,
        ["Standard_NC6s_v3"] = 1,
      },
    },
    ["V100-32GB"] = {
      ["instance_types"] = {
        ["Standard_ND40rs_v2"] = 8,
      },
    },
  },
}
