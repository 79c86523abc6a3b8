-- GPU map for Google Cloud (gcp): SkyPilot's accelerator names, aliases people type,
-- memory (GB), dense BF16 TFLOPs (FP16 where the card has no BF16; training.md §6), the
-- architecture factor of the throughput model (training.md §5), and this cloud's instance types
-- with their GPUs per node (from plugins/catalog/gpu_offers.csv). Plugin kind "gpu_map": data only.
return {
  kind = "gpu_map",
  name = "gcp",
  cloud = "gcp",
  version = "1.0.0",
  title = "Google Cloud GPUs",
  gpus = {
    ["A100"] = {
      memory_gb = 40, bf16_tflops = 312, arch = "ampere", arch_factor = 1.0,
      usable_gb = 39.5, -- what torch reports (training.md §4)
      aliases = {"A100-40GB", "A100-40G", "A100-40", "A100-SXM4-40GB"},
      instance_types = {
        ["a2-highgpu-1g"] = 1,
        ["a2-highgpu-2g"] = 2,
        ["a2-highgpu-4g"] = 4,
        ["a2-highgpu-8g"] = 8,
        ["a2-megagpu-16g"] = 16,
      },
    },
    ["A100-80GB"] = {
      memory_gb = 80, bf16_tflops = 312, arch = "ampere", arch_factor = 1.0,
      usable_gb = 79.3, -- what torch reports (training.md §4)
      aliases = {"A100-80G", "A100-SXM4-80GB", "A100_80GB", "A100-80"},
      instance_types = {
        ["a2-ultragpu-1g"] = 1,
        ["a2-ultragpu-2g"] = 2,
        ["a2-ultragpu-4g"] = 4,
        ["a2-ultragpu-8g"] = 8,
      },
    },
    ["B200"] = {
      memory_gb = 180, bf16_tflops = 2250, arch = "blackwell", arch_factor = 0.7,
      aliases = {"B200-SXM", "HGX-B200"},
      instance_types = {
        ["a4-highgpu-8g"] = 8,
      },
    },
    ["H100"] = {
      memory_gb = 80, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"H100-80GB", "H100-SXM", "H100-SXM5", "H100-80G"},
      instance_types = {
        ["a3-highgpu-1g"] = 1,
        ["a3-highgpu-2g"] = 2,
        ["a3-highgpu-4g"] = 4,
        ["a3-highgpu-8g"] = 8,
      },
    },
    ["H100-MEGA"] = {
      memory_gb = 80, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"H100-MEGA-80GB"},
      note = "GCP a3-megagpu: H100 with more network bandwidth",
      instance_types = {
        ["a3-megagpu-8g"] = 8,
      },
    },
    ["H200"] = {
      memory_gb = 141, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"H200-SXM", "H200-141GB"},
      instance_types = {
        ["a3-ultragpu-8g"] = 8,
      },
    },
    ["L4"] = {
      memory_gb = 24, bf16_tflops = 121, arch = "ada", arch_factor = 0.5,
      usable_gb = 22.16, -- what torch reports (training.md §4)
      aliases = {"L4-24GB"},
      instance_types = {
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
      memory_gb = 16, bf16_tflops = 65, arch = "turing", arch_factor = 0.5,
      usable_gb = 14.74, -- what torch reports (training.md §4)
      aliases = {"T4-16GB", "TESLA-T4"},
      note = "no BF16: FP16 mixed precision",
      instance_types = {
        ["n1-highmem-4"] = 1,
        ["n1-highmem-8"] = 2,
        ["n1-standard-64"] = 4,
      },
    },
    ["V100"] = {
      memory_gb = 16, bf16_tflops = 125, arch = "volta", arch_factor = 0.5,
      aliases = {"V100-16GB", "TESLA-V100"},
      note = "no BF16: FP16 tensor cores",
      instance_types = {
        ["n1-highmem-16"] = 2,
        ["n1-highmem-32"] = 4,
        ["n1-highmem-64"] = 8,
        ["n1-highmem-8"] = 1,
      },
    },
  },
  -- offers of these accelerators are left out of planning:
  unsupported = {
    ["P100"] = "Pascal, no tensor cores",
    ["P4"] = "inference card",
  },
}
