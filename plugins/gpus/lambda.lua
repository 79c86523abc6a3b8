-- GPU map for Lambda Cloud (lambda): SkyPilot's accelerator names, aliases people type,
-- memory (GB), dense BF16 TFLOPs (FP16 where the card has no BF16; training.md §6), the
-- architecture factor of the throughput model (training.md §5), and this cloud's instance types
-- with their GPUs per node (from plugins/catalog/gpu_offers.csv). Plugin kind "gpu_map": data only.
return {
  kind = "gpu_map",
  name = "lambda",
  cloud = "lambda",
  version = "1.0.0",
  title = "Lambda Cloud GPUs",
  gpus = {
    ["A10"] = {
      memory_gb = 24, bf16_tflops = 125, arch = "ampere", arch_factor = 1.0,
      aliases = {"A10-24GB"},
      instance_types = {
        ["gpu_1x_a10"] = 1,
      },
    },
    ["A100"] = {
      memory_gb = 40, bf16_tflops = 312, arch = "ampere", arch_factor = 1.0,
      usable_gb = 39.5, -- what torch reports (training.md §4)
      aliases = {"A100-40GB", "A100-40G", "A100-40", "A100-SXM4-40GB"},
      instance_types = {
        ["gpu_1x_a100"] = 1,
        ["gpu_1x_a100_sxm4"] = 1,
        ["gpu_2x_a100"] = 2,
        ["gpu_4x_a100"] = 4,
        ["gpu_8x_a100"] = 8,
      },
    },
    ["A100-80GB"] = {
      memory_gb = 80, bf16_tflops = 312, arch = "ampere", arch_factor = 1.0,
      usable_gb = 79.3, -- what torch reports (training.md §4)
      aliases = {"A100-80G", "A100-SXM4-80GB", "A100_80GB", "A100-80"},
      instance_types = {
        ["gpu_8x_a100_80gb_sxm4"] = 8,
      },
    },
    ["A6000"] = {
      memory_gb = 48, bf16_tflops = 155, arch = "ampere", arch_factor = 1.0,
      aliases = {},
      note = "Lambda's name for the RTX A6000",
      instance_types = {
        ["gpu_1x_a6000"] = 1,
        ["gpu_2x_a6000"] = 2,
        ["gpu_4x_a6000"] = 4,
      },
    },
    ["B200"] = {
      memory_gb = 180, bf16_tflops = 2250, arch = "blackwell", arch_factor = 0.7,
      aliases = {"B200-SXM", "HGX-B200"},
      instance_types = {
        ["gpu_1x_b200_sxm6"] = 1,
        ["gpu_2x_b200_sxm6"] = 2,
        ["gpu_4x_b200_sxm6"] = 4,
        ["gpu_8x_b200_sxm6"] = 8,
      },
    },
    ["GH200"] = {
      memory_gb = 96, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"GH200-96GB"},
      instance_types = {
        ["gpu_1x_gh200"] = 1,
      },
    },
    ["H100"] = {
      memory_gb = 80, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"H100-80GB", "H100-SXM", "H100-SXM5", "H100-80G"},
      instance_types = {
        ["gpu_1x_h100_pcie"] = 1,
        ["gpu_1x_h100_sxm5"] = 1,
        ["gpu_2x_h100_sxm5"] = 2,
        ["gpu_4x_h100_sxm5"] = 4,
        ["gpu_8x_h100_sxm5"] = 8,
      },
      -- PCIe H100s: lower peak and no NVLink between GPUs
      instance_overrides = { gpu_1x_h100_pcie = { bf16_tflops = 756, interconnect = "pcie" } },
    },
    ["RTX6000"] = {
      memory_gb = 24, bf16_tflops = 130, arch = "turing", arch_factor = 0.5,
      aliases = {"QUADRO-RTX-6000"},
      note = "Quadro RTX 6000 (Turing), FP16 only",
      instance_types = {
        ["gpu_1x_rtx6000"] = 1,
      },
    },
    ["V100"] = {
      memory_gb = 16, bf16_tflops = 125, arch = "volta", arch_factor = 0.5,
      aliases = {"V100-16GB", "TESLA-V100"},
      note = "no BF16: FP16 tensor cores",
      instance_types = {
        ["gpu_8x_v100"] = 8,
        ["gpu_8x_v100_n"] = 8,
      },
    },
  },
}
