// Device placement and memory figures on a CPU build (the GPU side: tests/gpu, run by
// tools/device/check.sh on a GPU machine).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "sdzero/dist/device.hpp"

using namespace sdz;

namespace {

std::string error_of(const std::string& want, int local_rank, int local_size) {
  try {
    pick_device(want, local_rank, local_size);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(Device, CpuAndAuto) {
  EXPECT_TRUE(pick_device("cpu", 0, 1).is_cpu());
  EXPECT_TRUE(pick_device("cpu", 3, 8).is_cpu());  // any number of CPU ranks per node
  const torch::Device a = pick_device("auto", 0, 1);
  EXPECT_EQ(a.is_cuda(), cuda_built() && cuda_device_count() > 0);
  EXPECT_EQ(device_name(torch::Device(torch::kCPU)), "cpu");
}

TEST(Device, ClearErrors) {
  EXPECT_NE(error_of("gpu", 0, 1).find("unknown device 'gpu'"), std::string::npos);
  EXPECT_NE(error_of("gpu", 0, 1).find("dist.device"), std::string::npos);
  if (!cuda_built()) {
    const std::string e = error_of("cuda", 0, 1);
    EXPECT_NE(e.find("built without CUDA"), std::string::npos) << e;
    EXPECT_NE(e.find("SDZ_ENABLE_CUDA"), std::string::npos) << e;
  } else if (cuda_device_count() > 0) {
    const std::string e = error_of("cuda", 0, cuda_device_count() + 1);
    EXPECT_NE(e.find("GPU(s) visible"), std::string::npos) << e;
  }
  EXPECT_EQ(nccl_built(), cuda_built() && nccl_built());  // NCCL only with CUDA (CMake refuses otherwise)
}

TEST(Device, CpuPeakMemoryGrowsWithTouchedMemory) {
  const torch::Device cpu(torch::kCPU);
  reset_peak_memory(cpu);  // a no-op on the CPU: the figure is the process's peak RSS
  const int64_t before = peak_memory_bytes(cpu);
  EXPECT_GT(before, 0);
  {
    auto t = torch::ones({int64_t(64) << 20}, torch::kFloat32);  // 256 MiB, written
    EXPECT_EQ(t.sum().item<double>(), double(int64_t(64) << 20));
  }
  EXPECT_GE(peak_memory_bytes(cpu) - before, int64_t(200) << 20);
  EXPECT_GT(device_total_bytes(cpu), int64_t(1) << 30);
  synchronize(cpu);  // no-op, must not throw
}

}  // namespace
