-- GPU map for Google Cloud (gcp): this cloud's instance types with their GPUs per node (from
-- plugins/catalog/gpu_offers.csv) and any per-instance overrides; the GPUs' own facts (memory,
-- BF16 TFLOPs, architecture factor, aliases) come from vibeml.gpu_specs, shared by every cloud.
-- Plugin kind "gpu_map": data only.
local specs = require "vibeml.gpu_specs"

return {
  kind = "gpu_map",
  name = "gcp",
  cloud = "gcp",
  version = "1.0.0",
  title = "Google Cloud GPUs",
  unsupported = {
    ["P100"] = "Pascal, no tensor cores",
    ["P4"] = "inference card",
  },
  gpus = specs.with{
    ["A100"] = {
      ["instance_types"] = {
        ["a2-highgpu-1g"] = 1,
        ["a2-highgpu-2g"] = 2,
        ["a2-highgpu-4g"] = 4,
        ["a2-highgpu-8g"] = 8,
        ["a2-megagpu-16g"] = 16,
      },
    },
    ["A100-80GB"] = {
      ["instance_types"] = {
        ["a2-ultragpu-1g"] = 1,
        ["a2-ultragpu-2g"] = 2,
        ["a2-ultragpu-4g"] = 4,
        ["a2-ultragpu-8g"] = 8,
      },
    },
    ["B200"] = {
      ["instance_types"] = {
        ["a4-highgpu-8g"] = 8,
      },
    },
    ["H100"] = {
      ["instance_types"] = {
        ["a3-highgpu-1g"] = 1,
        ["a3-highgpu-2g"] = 2,
        ["a3-highgpu-4g"] = 4,
        ["a3-highgpu-8g"] = 8,
      },
    },
    ["H100-MEGA"] = {
      ["instance_types"] = {
        ["a3-megagpu-8g"] = 8,
      },
    },
    ["H200"] = {
      ["instance_types"] = {
        ["a3-ultragpu-8g"] = 8,
      },
    },
    ["L4"] = {
      ["instance_types"] = {
        ["g2-standard-12"] = 1,
        ["g2-standard-16"] = 1,
        ["g2-standard-24"] = 2,
        ["g2-standard-32"] = 1,
        ["g2-standard-4"] = 1,
        ["g2-standard-48"] = 4,
        ["g2-standard-8"] = 1,
        ["g2-standard-96"] = 8,
      },
    },
    ["T4"] = {
      ["instance_types"] = {
        ["n1-highmem-4"] = 1,
        ["n1-highmem-8"] = 2,
        ["n1-standard-64"] = 4,
      },
    },
    ["V100"] = {
      ["instance_types"] = {
        ["n1-highmem-16"] = 2,
        ["n1-highmem-32"] = 4,
        ["n1-highmem-64"] = 8,
        ["n1-highmem-8"] = 1,
      },
    },
  },
}
