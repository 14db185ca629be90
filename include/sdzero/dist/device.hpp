// defines: device placement — which torch device a rank computes on (`dist.device`: auto | cpu | cuda),
// one GPU per rank by its node-local rank, checked before any work starts — and the device's memory
// figures (peak bytes since a reset) that `sdzero plan --memory --measure` and the benchmarks report.
// CPU builds compile the same calls: `cuda` is then an error that says which build is needed.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace sdz {

// True when this binary was built against a CUDA libtorch (SDZ_ENABLE_CUDA).
bool cuda_built();
// GPUs this process can see (0 on CPU builds or without a driver).
int cuda_device_count();
// True when this binary was built with NCCL (SDZ_ENABLE_NCCL).
bool nccl_built();

// `want`: "auto" (a GPU when the build has CUDA and one is visible, else the CPU), "cpu" or "cuda".
// With cuda, rank `local_rank` of the `local_size` ranks on this node gets GPU local_rank; more ranks
// per node than GPUs is an error (ranks sharing one GPU would break NCCL and halve each one's memory).
// Also makes the chosen GPU the current device of this process.
torch::Device pick_device(const std::string& want, int local_rank, int local_size);
std::string device_name(const torch::Device& d);  // "cpu" or "cuda:0 (NVIDIA H100 80GB HBM3, 79.6 GiB)"

// The fp32 matmuls that bf16 compute leaves in fp32 (lm_head, its gradients) run on tensor cores in
// TF32 on GPUs (10-bit mantissa products, fp32 accumulation): in fp32 proper they would take longer
// than the whole bf16 body of a training step. Set for bf16 runs on a GPU; CPUs ignore it.
void use_tf32_matmul(bool on);

// Waits for the device's queued work (CUDA); a no-op on the CPU. Timers around GPU work need it.
void synchronize(const torch::Device& d);

// Peak memory: on CUDA the caching allocator's peak of allocated bytes since reset_peak_memory; on
// the CPU the process's peak resident set (getrusage), which cannot be reset: callers subtract a
// figure taken before the work.
void reset_peak_memory(const torch::Device& d);
int64_t peak_memory_bytes(const torch::Device& d);
// Bytes the device has in all (CUDA); the machine's physical memory on the CPU.
int64_t device_total_bytes(const torch::Device& d);

}  // namespace sdz
