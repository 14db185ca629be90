// sdz-mpi-ranks: 1
// NCCL behind dist/tensor_sync on GPU tensors, against the MPI path on host copies of the same
// tensors. One rank per GPU: tools/device/check.sh also runs it with one rank per visible GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mpi.h>
#include <torch/torch.h>

#include "sdzero/dist/device.hpp"
#include "sdzero/dist/tensor_sync.hpp"
#include "sdzero/dist/world.hpp"

using namespace sdz;

namespace {

int rank_of(MPI_Comm c) {
  int r = 0;
  MPI_Comm_rank(c, &r);
  return r;
}

std::vector<torch::Tensor> make(int rank, const torch::Device& d) {
  torch::manual_seed(100 + rank);
  return {torch::randn({1000}).to(d), torch::randn({37, 5}).to(d), torch::randn({4096}).to(d, torch::kBFloat16),
          torch::randn({3}).to(d, torch::kFloat64)};
}

std::vector<torch::Tensor> host(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> h;
  for (const auto& t : ts) h.push_back(t.cpu().contiguous());
  return h;
}

TEST(Nccl, BroadcastDeliversTheRootsBytes) {
  ASSERT_TRUE(nccl_built());
  int local = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &local);
  auto d = pick_device("cuda", local % std::max(1, cuda_device_count()), 1);
  auto g = make(rank_of(MPI_COMM_WORLD), d);
  auto ref = host(g);
  broadcast_tensors(MPI_COMM_WORLD, 0, ref, 1000);   // MPI path
  const size_t moved = broadcast_tensors(MPI_COMM_WORLD, 0, g, 1000);  // NCCL path, several buckets
  size_t bytes = 0;
  for (const auto& t : g) bytes += t.nbytes();
  EXPECT_EQ(moved, bytes);
  for (size_t k = 0; k < g.size(); ++k) EXPECT_TRUE(torch::equal(g[k].cpu(), ref[k])) << k;
  EXPECT_TRUE(tensors_identical(MPI_COMM_WORLD, g));
}

TEST(Nccl, AllreduceSumsAndAveragesInFp32) {
  int local = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &local);
  auto d = pick_device("cuda", local % std::max(1, cuda_device_count()), 1);
  for (bool average : {false, true}) {
    auto g = make(rank_of(MPI_COMM_WORLD), d);
    auto ref = host(g);
    allreduce_tensors(MPI_COMM_WORLD, ref, 2048, average);
    allreduce_tensors(MPI_COMM_WORLD, g, 2048, average);
    for (size_t k = 0; k < g.size(); ++k) {
      auto diff = (g[k].cpu().to(torch::kFloat64) - ref[k].to(torch::kFloat64)).abs().max().item<double>();
      EXPECT_LT(diff, g[k].scalar_type() == torch::kBFloat16 ? 1e-2 : 1e-5) << "tensor " << k << " average " << average;
      EXPECT_TRUE(g[k].is_cuda());
    }
  }
}

TEST(Nccl, WeightSyncBandwidth) {
  // One GPU per rank; with a single rank a broadcast moves nothing, so there is no figure to report.
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  int local = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &local);
  auto d = pick_device("cuda", local % std::max(1, cuda_device_count()), 1);
  std::vector<torch::Tensor> w;
  for (int i = 0; i < 16; ++i) w.push_back(torch::zeros({int64_t(16) << 20}, torch::TensorOptions().device(d)));
  broadcast_tensors(MPI_COMM_WORLD, 0, w, size_t(256) << 20);
  synchronize(d);
  MPI_Barrier(MPI_COMM_WORLD);
  const double t0 = MPI_Wtime();
  size_t moved = 0;
  for (int r = 0; r < 5; ++r) moved += broadcast_tensors(MPI_COMM_WORLD, 0, w, size_t(256) << 20);
  synchronize(d);
  MPI_Barrier(MPI_COMM_WORLD);
  const double s = MPI_Wtime() - t0;
  // Baseline in the same run: a device-to-device copy of the same bytes (read + write counted).
  auto a = torch::empty({int64_t(moved / 5)}, torch::TensorOptions().dtype(torch::kUInt8).device(d)), b = torch::empty_like(a);
  b.copy_(a);
  synchronize(d);
  const double c0 = MPI_Wtime();
  for (int r = 0; r < 5; ++r) b.copy_(a);
  synchronize(d);
  const double cs = MPI_Wtime() - c0;
  if (rank_of(MPI_COMM_WORLD) == 0)
    std::printf("[gpu] weight sync: %d rank(s), %.2f GB/s broadcast; d2d copy %.1f GB/s (read+write)%s\n", n,
                double(moved) / s / 1e9, 2.0 * double(moved) / cs / 1e9,
                n == 1 ? " -- one rank: NCCL broadcast is a no-op, not a bandwidth figure" : "");
  EXPECT_GT(moved, size_t(0));
}

}  // namespace
