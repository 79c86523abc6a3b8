-- GPU map for Vast.ai marketplace (vast): SkyPilot's accelerator names, aliases people type,
-- memory (GB), dense BF16 TFLOPs (FP16 where the card has no BF16; training.md §6), the
-- architecture factor of the throughput model (training.md §5), and this cloud's instance types
-- with their GPUs per node (from plugins/catalog/gpu_offers.csv). Plugin kind "gpu_map": data only.
return {
  kind = "gpu_map",
  name = "vast",
  cloud = "vast",
  version = "1.0.0",
  title = "Vast.ai marketplace GPUs",
  notes = "Marketplace offers: regions are free-text locations; no spot prices in the snapshot.",
  gpus = {
    ["A100"] = {
      memory_gb = 40, bf16_tflops = 312, arch = "ampere", arch_factor = 1.0,
      usable_gb = 39.5, -- what torch reports (training.md §4)
      aliases = {"A100-40GB", "A100-40G", "A100-40", "A100-SXM4-40GB"},
      instance_types = {
        ["1x-A100_SXM4-32-65536"] = 1,
        ["2x-A100_PCIE-32-65536"] = 2,
        ["2x-A100_SXM4-32-65536"] = 2,
      },
    },
    ["H100"] = {
      memory_gb = 80, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"H100-80GB", "H100-SXM", "H100-SXM5", "H100-80G"},
      instance_types = {
        ["1x-H100_NVL-32-65536"] = 1,
        ["1x-H100_SXM-32-65536"] = 1,
        ["2x-H100_SXM-32-65536"] = 2,
        ["4x-H100_SXM-32-65536"] = 4,
        ["8x-H100_SXM-32-65536"] = 8,
      },
    },
    ["H200"] = {
      memory_gb = 141, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"H200-SXM", "H200-141GB"},
      instance_types = {
        ["1x-H200-32-65536"] = 1,
        ["2x-H200-32-65536"] = 2,
        ["4x-H200-32-65536"] = 4,
        ["8x-H200-32-65536"] = 8,
      },
    },
    ["L40S"] = {
      memory_gb = 48, bf16_tflops = 362, arch = "ada", arch_factor = 0.9,
      aliases = {"L40S-48GB"},
      instance_types = {
        ["1x-L40S-32-65536"] = 1,
        ["2x-L40S-32-65536"] = 2,
        ["4x-L40S-32-65536"] = 4,
      },
    },
    ["RTX3090"] = {
      memory_gb = 24, bf16_tflops = 71, arch = "ampere", arch_factor = 0.9,
      aliases = {"RTX-3090", "3090"},
      instance_types = {
        ["1x-RTX_3090-32-65536"] = 1,
        ["2x-RTX_3090-32-65536"] = 2,
        ["4x-RTX_3090-32-65536"] = 4,
        ["5x-RTX_3090-32-65536"] = 5,
        ["8x-RTX_3090-32-65536"] = 8,
      },
    },
    ["RTX4090"] = {
      memory_gb = 24, bf16_tflops = 165, arch = "ada", arch_factor = 0.9,
      aliases = {"RTX-4090", "4090", "GEFORCE-RTX-4090"},
      instance_types = {
        ["1x-RTX_4090-32-65536"] = 1,
        ["2x-RTX_4090-32-65536"] = 2,
        ["4x-RTX_4090-32-65536"] = 4,
        ["5x-RTX_4090-32-65536"] = 5,
        ["8x-RTX_4090-32-65536"] = 8,
      },
    },
    ["RTX5090"] = {
      memory_gb = 32, bf16_tflops = 209, arch = "blackwell", arch_factor = 0.7,
      aliases = {"RTX-5090", "5090"},
      note = "dense BF16 with FP32 accumulate (ASSUMPTION)",
      instance_types = {
        ["1x-RTX_5090-32-65536"] = 1,
        ["2x-RTX_5090-32-65536"] = 2,
        ["4x-RTX_5090-32-65536"] = 4,
        ["8x-RTX_5090-32-65536"] = 8,
      },
    },
    ["RTX6000-Ada"] = {
      memory_gb = 48, bf16_tflops = 364, arch = "ada", arch_factor = 0.9,
      aliases = {"RTX6000ADA", "RTX-6000-ADA", "RTX-6000-ADA-48GB"},
      instance_types = {
        ["2x-RTX_6000Ada-32-65536"] = 2,
      },
    },
    ["RTXA5000"] = {
      memory_gb = 24, bf16_tflops = 111, arch = "ampere", arch_factor = 1.0,
      aliases = {"RTX-A5000"},
      instance_types = {
        ["2x-RTX_A5000-32-65536"] = 2,
        ["4x-RTX_A5000-32-65536"] = 4,
      },
    },
    ["RTXA6000"] = {
      memory_gb = 48, bf16_tflops = 155, arch = "ampere", arch_factor = 1.0,
      aliases = {"RTX-A6000"},
      instance_types = {
        ["2x-RTX_A6000-32-65536"] = 2,
        ["4x-RTX_A6000-32-65536"] = 4,
      },
    },
    ["RTXPRO6000WS"] = {
      memory_gb = 96, bf16_tflops = 500, arch = "blackwell", arch_factor = 0.7,
      aliases = {"RTX-PRO-6000-WS"},
      note = "BF16 dense estimated from FP8 (ASSUMPTION)",
      instance_types = {
        ["1x-RTX_PRO_6000_WS-32-65536"] = 1,
        ["2x-RTX_PRO_6000_WS-32-65536"] = 2,
      },
    },
    ["V100"] = {
      memory_gb = 16, bf16_tflops = 125, arch = "volta", arch_factor = 0.5,
      aliases = {"V100-16GB", "TESLA-V100"},
      note = "no BF16: FP16 tensor cores",
      instance_types = {
        ["1x-Tesla_V100-32-65536"] = 1,
        ["2x-Tesla_V100-32-65536"] = 2,
        ["4x-Tesla_V100-32-65536"] = 4,
      },
    },
  },
  -- offers of these accelerators are left out of planning:
  unsupported = {
    ["RTX3060"] = "12 GB",
    ["RTX4060"] = "8 GB",
    ["RTX4070"] = "12 GB",
    ["RTX5070"] = "12 GB",
    ["RTX5880-Ada"] = "spec not verified",
  },
}
