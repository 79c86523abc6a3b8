-- GPU map for Nebius AI Cloud (nebius): SkyPilot's accelerator names, aliases people type,
-- memory (GB), dense BF16 TFLOPs (FP16 where the card has no BF16; training.md §6), the
-- architecture factor of the throughput model (training.md §5), and this cloud's instance types
-- with their GPUs per node (from plugins/catalog/gpu_offers.csv). Plugin kind "gpu_map": data only.
return {
  kind = "gpu_map",
  name = "nebius",
  cloud = "nebius",
  version = "1.0.0",
  title = "Nebius AI Cloud GPUs",
  gpus = {
    ["B200"] = {
      memory_gb = 180, bf16_tflops = 2250, arch = "blackwell", arch_factor = 0.7,
      aliases = {"B200-SXM", "HGX-B200"},
      instance_types = {
        ["gpu-b200-sxm_8gpu-160vcpu-1792gb"] = 8,
      },
    },
    ["H100"] = {
      memory_gb = 80, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"H100-80GB", "H100-SXM", "H100-SXM5", "H100-80G"},
      instance_types = {
        ["gpu-h100-sxm_1gpu-16vcpu-200gb"] = 1,
        ["gpu-h100-sxm_8gpu-128vcpu-1600gb"] = 8,
      },
    },
    ["H200"] = {
      memory_gb = 141, bf16_tflops = 989, arch = "hopper", arch_factor = 0.8,
      aliases = {"H200-SXM", "H200-141GB"},
      instance_types = {
        ["gpu-h200-sxm_1gpu-16vcpu-200gb"] = 1,
        ["gpu-h200-sxm_8gpu-128vcpu-1600gb"] = 8,
      },
    },
    ["L40S"] = {
      memory_gb = 48, bf16_tflops = 362, arch = "ada", arch_factor = 0.9,
      aliases = {"L40S-48GB"},
      instance_types = {
        ["gpu-l40s-a_1gpu-16vcpu-64gb"] = 1,
        ["gpu-l40s-a_1gpu-24vcpu-96gb"] = 1,
        ["gpu-l40s-a_1gpu-32vcpu-128gb"] = 1,
        ["gpu-l40s-a_1gpu-40vcpu-160gb"] = 1,
        ["gpu-l40s-a_1gpu-8vcpu-32gb"] = 1,
        ["gpu-l40s-d_1gpu-16vcpu-96gb"] = 1,
        ["gpu-l40s-d_1gpu-32vcpu-192gb"] = 1,
        ["gpu-l40s-d_1gpu-48vcpu-288gb"] = 1,
        ["gpu-l40s-d_2gpu-64vcpu-384gb"] = 2,
        ["gpu-l40s-d_2gpu-96vcpu-576gb"] = 2,
        ["gpu-l40s-d_4gpu-128vcpu-768gb"] = 4,
        ["gpu-l40s-d_4gpu-192vcpu-1152gb"] = 4,
      },
    },
  },
}
