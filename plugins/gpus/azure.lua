-- GPU map for Microsoft Azure (azure): SkyPilot's accelerator names, aliases people type,
-- memory (GB), dense BF16 TFLOPs (FP16 where the card has no BF16; training.md §6), the
-- architecture factor of the throughput model (training.md §5), and this cloud's instance types
-- with their GPUs per node (from plugins/catalog/gpu_offers.csv). Plugin kind "gpu_map": data only.
return {
  kind = "gpu_map",
  name = "azure",
  cloud = "azure",
  version = "1.0.0",
  title = "Microsoft Azure GPUs",
  gpus = {
    ["A10"] = {
      memory_gb = 24, bf16_tflops = 125, arch = "ampere", arch_factor = 1.0,
      aliases = {"A10-24GB"},
      instance_types = {
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
      memory_gb = 40, bf16_tflops = 312, arch = "ampere", arch_factor = 1.0,
      usable_gb = 39.5, -- what torch reports (training.md §4)
      aliases = {"A100-40GB", "A100-40G", "A100-40", "A100-SXM4-40GB"},
      instance_types = {
        ["Standard_ND96asr_v4"] = 8,
      },
    },
    ["A100-80GB"] = {
      memory_gb = 80, bf16_tflops = 312, arch = "ampere", arch_factor = 1.0,
      usable_gb = 79.3, -- what torch reports (training.md §4)
      aliases = {"A100-80G", "A100-SXM4-80GB", "A100_80GB", "A100-80"},
      instance_types = {
        ["Standard_NC24ads_A100_v4"] = 1,
        ["Standard_NC48ads_A100_v4"] = 2,
        ["Standard_NC96ads_A100_v4"] = 4,
        ["Standard_ND96amsr_A100_v4"] = 8,
      },
    },
    ["H100"] = {
      memory_gb = 80, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"H100-80GB", "H100-SXM", "H100-SXM5", "H100-80G"},
      instance_types = {
        ["Standard_NC40ads_H100_v5"] = 1,
        ["Standard_NC80adis_H100_v5"] = 2,
        ["Standard_NCC40ads_H100_v5"] = 1,
        ["Standard_ND96isr_H100_v5"] = 8,
      },
    },
    ["H200"] = {
      memory_gb = 141, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"H200-SXM", "H200-141GB"},
      instance_types = {
        ["Standard_ND96isr_H200_v5"] = 8,
      },
    },
    ["MI300X"] = {
      memory_gb = 192, bf16_tflops = 1307, arch = "cdna3", arch_factor = 0.6,
      aliases = {"MI300X-192GB", "INSTINCT-MI300X"},
      note = "ROCm: Unsloth support unverified",
      instance_types = {
        ["Standard_ND96isr_MI300X_v5"] = 8,
      },
    },
    ["T4"] = {
      memory_gb = 16, bf16_tflops = 65, arch = "turing", arch_factor = 0.5,
      usable_gb = 14.74, -- what torch reports (training.md §4)
      aliases = {"T4-16GB", "TESLA-T4"},
      note = "no BF16: FP16 mixed precision",
      instance_types = {
        ["Standard_NC16as_T4_v3"] = 1,
        ["Standard_NC4as_T4_v3"] = 1,
        ["Standard_NC64as_T4_v3"] = 4,
        ["Standard_NC8as_T4_v3"] = 1,
      },
    },
    ["V100"] = {
      memory_gb = 16, bf16_tflops = 125, arch = "volta", arch_factor = 0.5,
      aliases = {"V100-16GB", "TESLA-V100"},
      note = "no BF16: FP16 tensor cores",
      instance_types = {
        ["Standard_NC12s_v3"] = 2,
        ["Standard_NC24rs_v3"] = 4,
        ["Standard_NC24s_v3"] = 4,
        ["Standard_NC6s_v3"] = 1,
      },
    },
    ["V100-32GB"] = {
      memory_gb = 32, bf16_tflops = 125, arch = "volta", arch_factor = 0.5,
      aliases = {"V100-32G"},
      note = "no BF16: FP16 tensor cores",
      instance_types = {
        ["Standard_ND40rs_v2"] = 8,
      },
    },
  },
  -- offers of these accelerators are left out of planning:
  unsupported = {
    ["M60"] = "Maxwell, too old to train with",
    ["MI25"] = "no current ROCm support",
  },
}
