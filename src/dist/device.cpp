#include "sdzero/dist/device.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include "sdzero/core/error.hpp"

#ifdef SDZ_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace sdz {

bool cuda_built() {
#ifdef SDZ_WITH_CUDA
  return true;
#else
  return false;
#endif
}

bool nccl_built() {
#ifdef SDZ_WITH_NCCL
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#ifdef SDZ_WITH_CUDA
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver: clear the sticky error, report no GPU
    return 0;
  }
  return n;
#else
  return 0;
#endif
}

torch::Device pick_device(const std::string& want, int local_rank, int local_size) {
  if (want != "auto" && want != "cpu" && want != "cuda")
    throw Error("unknown device '" + want + "'", "dist.device", "use auto, cpu or cuda");
  if (want == "cpu") return torch::Device(torch::kCPU);
  if (!cuda_built()) {
    if (want == "auto") return torch::Device(torch::kCPU);
    throw Error("this sdzero was built without CUDA", "dist.device=cuda",
                "build the GPU variant (cmake -DSDZ_ENABLE_CUDA=ON, docs/GPU.md) or use dist.device=cpu");
  }
  const int n = cuda_device_count();
  if (n == 0) {
    if (want == "auto") return torch::Device(torch::kCPU);
    throw Error("no GPU is visible to this process", "dist.device=cuda",
                "check nvidia-smi and CUDA_VISIBLE_DEVICES, or use dist.device=cpu");
  }
  if (local_size > n)
    throw Error(std::to_string(local_size) + " ranks on this node but " + std::to_string(n) + " GPU(s) visible",
                "dist.device=" + want,
                "start one rank per GPU (mpirun -npernode " + std::to_string(n) +
                    ", or srun --ntasks-per-node=" + std::to_string(n) + " --gpus-per-task=1)");
  torch::Device d(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
#ifdef SDZ_WITH_CUDA
  c10::cuda::set_device(d.index());
#endif
  return d;
}

std::string device_name(const torch::Device& d) {
  if (!d.is_cuda()) return "cpu";
  std::string s = "cuda:" + std::to_string(d.index());
#ifdef SDZ_WITH_CUDA
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, d.index()) == cudaSuccess) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f GiB", double(p.totalGlobalMem) / double(1ull << 30));
    s += std::string(" (") + p.name + ", " + buf + ")";
  }
#endif
  return s;
}

void use_tf32_matmul(bool on) { at::globalContext().setFloat32MatmulPrecision(on ? "high" : "highest"); }

void synchronize(const torch::Device& d) {
#ifdef SDZ_WITH_CUDA
  if (d.is_cuda()) {
    c10::cuda::CUDAGuard g(d.index());
    c10::cuda::device_synchronize();
  }
#else
  (void)d;
#endif
}

void reset_peak_memory(const torch::Device& d) {
#ifdef SDZ_WITH_CUDA
  if (d.is_cuda()) {
    // The caching allocator knows a device only after its first allocation there; resetting the
    // stats of one it has not seen fails with "Invalid device argument" (torch 2.11).
    (void)torch::empty({1}, torch::TensorOptions().device(d));
    c10::cuda::CUDACachingAllocator::resetPeakStats(d.index());
  }
#else
  (void)d;
#endif
}

int64_t peak_memory_bytes(const torch::Device& d) {
#ifdef SDZ_WITH_CUDA
  if (d.is_cuda()) {
    auto st = c10::cuda::CUDACachingAllocator::getDeviceStats(d.index());
    return st.allocated_bytes[0].peak;  // [0]: the aggregate over both pools
  }
#else
  (void)d;
#endif
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return int64_t(ru.ru_maxrss) * 1024;  // Linux reports kilobytes
}

int64_t device_total_bytes(const torch::Device& d) {
#ifdef SDZ_WITH_CUDA
  if (d.is_cuda()) {
    size_t free_b = 0, total_b = 0;
    c10::cuda::CUDAGuard g(d.index());
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) return int64_t(total_b);
    return 0;
  }
#else
  (void)d;
#endif
  return int64_t(sysconf(_SC_PHYS_PAGES)) * int64_t(sysconf(_SC_PAGE_SIZE));
}

}  // namespace sdz
