-- GPU map for Amazon Web Services (aws): SkyPilot's accelerator names, aliases people type,
-- memory (GB), dense BF16 TFLOPs (FP16 where the card has no BF16; training.md §6), the
-- architecture factor of the throughput model (training.md §5), and this cloud's instance types
-- with their GPUs per node (from plugins/catalog/gpu_offers.csv). Plugin kind "gpu_map": data only.
return {
  kind = "gpu_map",
  name = "aws",
  cloud = "aws",
  version = "1.0.0",
  title = "Amazon Web Services GPUs",
  notes = "The snapshot has on-demand prices only for AWS; spot prices come with `vibeml catalog refresh`.",
  gpus = {
    ["A100"] = {
      memory_gb = 40, bf16_tflops = 312, arch = "ampere", arch_factor = 1.0,
      usable_gb = 39.5, -- what torch reports (training.md §4)
      aliases = {"A100-40GB", "A100-40G", "A100-40", "A100-SXM4-40GB"},
      instance_types = {
        ["p4d.24xlarge"] = 8,
      },
    },
    ["A100-80GB"] = {
      memory_gb = 80, bf16_tflops = 312, arch = "ampere", arch_factor = 1.0,
      usable_gb = 79.3, -- what torch reports (training.md §4)
      aliases = {"A100-80G", "A100-SXM4-80GB", "A100_80GB", "A100-80"},
      instance_types = {
        ["p4de.24xlarge"] = 8,
      },
    },
    ["A10G"] = {
      memory_gb = 24, bf16_tflops = 70, arch = "ampere", arch_factor = 1.0,
      usable_gb = 22.18, -- what torch reports (training.md §4)
      aliases = {"A10G-24GB"},
      note = "tensor peak uncertain (~70 reported); training.md §6",
      instance_types = {
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
      memory_gb = 180, bf16_tflops = 2250, arch = "blackwell", arch_factor = 0.7,
      aliases = {"B200-SXM", "HGX-B200"},
      instance_types = {
        ["p6-b200.48xlarge"] = 8,
      },
    },
    ["B300"] = {
      memory_gb = 288, bf16_tflops = 2250, arch = "blackwell", arch_factor = 0.7,
      aliases = {"B300-SXM"},
      note = "BF16 dense taken equal to B200 (ASSUMPTION)",
      instance_types = {
        ["p6-b300.48xlarge"] = 8,
      },
    },
    ["H100"] = {
      memory_gb = 80, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"H100-80GB", "H100-SXM", "H100-SXM5", "H100-80G"},
      instance_types = {
        ["p5.48xlarge"] = 8,
        ["p5.4xlarge"] = 1,
      },
    },
    ["H200"] = {
      memory_gb = 141, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"H200-SXM", "H200-141GB"},
      instance_types = {
        ["p5en.48xlarge"] = 8,
      },
    },
    ["L4"] = {
      memory_gb = 24, bf16_tflops = 121, arch = "ada", arch_factor = 0.5,
      usable_gb = 22.16, -- what torch reports (training.md §4)
      aliases = {"L4-24GB"},
      instance_types = {
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
      memory_gb = 48, bf16_tflops = 362, arch = "ada", arch_factor = 0.9,
      aliases = {"L40S-48GB"},
      instance_types = {
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
      memory_gb = 96, bf16_tflops = 500, arch = "blackwell", arch_factor = 0.7,
      aliases = {"RTX-PRO-6000"},
      note = "BF16 dense estimated from FP8 (ASSUMPTION)",
      instance_types = {
        ["g7e.12xlarge"] = 2,
        ["g7e.24xlarge"] = 4,
        ["g7e.2xlarge"] = 1,
        ["g7e.48xlarge"] = 8,
        ["g7e.4xlarge"] = 1,
        ["g7e.8xlarge"] = 1,
      },
    },
    ["T4"] = {
      memory_gb = 16, bf16_tflops = 65, arch = "turing", arch_factor = 0.5,
      usable_gb = 14.74, -- what torch reports (training.md §4)
      aliases = {"T4-16GB", "TESLA-T4"},
      note = "no BF16: FP16 mixed precision",
      instance_types = {
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
      memory_gb = 16, bf16_tflops = 125, arch = "volta", arch_factor = 0.5,
      aliases = {"V100-16GB", "TESLA-V100"},
      note = "no BF16: FP16 tensor cores",
      instance_types = {
        ["p3.16xlarge"] = 8,
        ["p3.2xlarge"] = 1,
        ["p3.8xlarge"] = 4,
      },
    },
    ["V100-32GB"] = {
      memory_gb = 32, bf16_tflops = 125, arch = "volta", arch_factor = 0.5,
      aliases = {"V100-32G"},
      note = "no BF16: FP16 tensor cores",
      instance_types = {
        ["p3dn.24xlarge"] = 8,
      },
    },
  },
  -- offers of these accelerators are left out of planning:
  unsupported = {
    ["K80"] = "Kepler, no longer supported by current CUDA wheels",
    ["M60"] = "Maxwell, too old to train with",
    ["Radeon Pro V520"] = "not supported for training",
    ["T4g"] = "ARM host (Graviton): training images not provided",
  },
}
