-- GPU map for Amazon Web Services (aws): this cloud's instance types with their GPUs per node (from
-- plugins/catalog/gpu_offers.csv) and any per-instance overrides; the GPUs' own facts (memory,
-- BF16 TFLOPs, architecture factor, aliases) come from vibeml.gpu_specs, shared by every cloud.
-- Plugin kind "gpu_map": data only.
local specs = require "vibeml.gpu_specs"

return {
  kind = "gpu_map",
  name = "aws",
  cloud = "aws",
  version = "1.0.0",
  title = "Amazon Web Services GPUs",
  notes =
    "The snapshot has on-demand prices only for AWS; spot prices come with `vibeml catalog " ..
    "refresh`.",
  unsupported = {
    ["K80"] = "Kepler, no longer supported by current CUDA wheels",
    ["M60"] = "Maxwell, too old to train with",
    ["Radeon Pro V520"] = "not supported for training",
    ["T4g"] = "ARM host (Graviton): training images not provided",
  },
  gpus = specs.with{
    ["A100"] = {
      ["instance_types"] = {
        ["p4d.24xlarge"] = 8,
      },
    },
    ["A100-80GB"] = {
      ["instance_types"] = {
        ["p4de.24xlarge"] = 8,
      },
    },
    ["A10G"] = {
      ["instance_types"] = {
        ["g5.12xlarge"] = 4,
        ["g5.16xlarge"] = 1,
        ["g5.24xlarge"] = 4,
        ["g5.2xlarge"] = 1,
        ["g5.48xlarge"] = 8,
        ["g5.4xlarge"] = 1,
        ["g5.8xlarge"] = 1,
        ["g5.xlarge"] = 1,
      },
    },
    ["B200"] = {
      ["instance_types"] = {
        ["p6-b200.48xlarge"] = 8,
      },
    },
    ["B300"] = {
      ["instance_types"] = {
        ["p6-b300.48xlarge"] = 8,
      },
    },
    ["H100"] = {
      ["instance_types"] = {
        ["p5.48xlarge"] = 8,
        ["p5.4xlarge"] = 1,
      },
    },
    ["H200"] = {
      ["instance_types"] = {
        ["p5en.48xlarge"] = 8,
      },
    },
    ["L4"] = {
      ["instance_types"] = {
        ["g6.12xlarge"] = 4,
        ["g6.16xlarge"] = 1,
        ["g6.24xlarge"] = 4,
        ["g6.2xlarge"] = 1,
        ["g6.48xlarge"] = 8,
        ["g6.4xlarge"] = 1,
        ["g6.8xlarge"] = 1,
        ["g6.xlarge"] = 1,
        ["g6f.2xlarge"] = 0.25,
        ["g6f.4xlarge"] = 0.5,
        ["g6f.large"] = 0.125,
        ["g6f.xlarge"] = 0.125,
        ["gr6.4xlarge"] = 1,
        ["gr6.8xlarge"] = 1,
        ["gr6f.4xlarge"] = 0.5,
      },
    },
    ["L40S"] = {
      ["instance_types"] = {
        ["g6e.12xlarge"] = 4,
        ["g6e.16xlarge"] = 1,
        ["g6e.24xlarge"] = 4,
        ["g6e.2xlarge"] = 1,
        ["g6e.48xlarge"] = 8,
        ["g6e.4xlarge"] = 1,
        ["g6e.8xlarge"] = 1,
        ["g6e.xlarge"] = 1,
      },
    },
    ["RTXPRO6000"] = {
      ["instance_types"] = {
        ["g7e.12xlarge"] = 2,
        ["g7e.24xlarge"] = 4,
        ["g7e.2xlarge"] = 1,
        ["g7e.48xlarge"] = 8,
        ["g7e.4xlarge"] = 1,
        ["g7e.8xlarge"] = 1,
      },
    },
    ["T4"] = {
      ["instance_types"] = {
        ["g4dn.12xlarge"] = 4,
        ["g4dn.16xlarge"] = 1,
        ["g4dn.2xlarge"] = 1,
        ["g4dn.4xlarge"] = 1,
        ["g4dn.8xlarge"] = 1,
        ["g4dn.metal"] = 8,
        ["g4dn.xlarge"] = 1,
      },
    },
    ["V100"] = {
      ["instance_types"] = {
        ["p3.16xlarge"] = 8,
        ["p3.2xlarge"] = 1,
        ["p3.8xlarge"] = 4,
      },
    },
    ["V100-32GB"] = {
      ["instance_types"] = {
        ["p3dn.24xlarge"] = 8,
      },
    },
  },
}
