// sdz-mpi-ranks: 3
// ZeRO-1 pieces on 3 ranks: the owner partition, reduce-scatter onto owners (equal to allreduce on
// the owners' tensors), and all-gather from owners.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "sdzero/dist/tensor_sync.hpp"

namespace {
int me() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
std::vector<torch::Tensor> shapes() {
  return {torch::zeros({40, 10}), torch::zeros({7}), torch::zeros({300}), torch::zeros({5, 5}), torch::zeros({90})};
}
}  // namespace

TEST(Zero1, PartitionIsContiguousAndBalanced) {
  auto ts = shapes();
  auto o = sdz::partition_owners(ts, 3);
  ASSERT_EQ(o.size(), ts.size());
  for (size_t k = 1; k < o.size(); ++k) EXPECT_GE(o[k], o[k - 1]);
  EXPECT_EQ(o.front(), 0);
  EXPECT_EQ(o.back(), 2);
  // One huge tensor and tiny ones: some rank owns nothing, which is allowed.
  auto lopsided = sdz::partition_owners({torch::zeros({1000}), torch::zeros({1})}, 3);
  EXPECT_EQ(lopsided, (std::vector<int>{1, 2}));
  EXPECT_EQ(sdz::partition_owners({torch::zeros({4})}, 1), std::vector<int>{0});
}

TEST(Zero1, ReduceScatterEqualsAllreduceOnOwnedTensors) {
  auto a = shapes(), b = shapes();
  for (size_t k = 0; k < a.size(); ++k) {
    torch::manual_seed(uint64_t(100 * me() + k));
    a[k].copy_(torch::randn(a[k].sizes()));
    b[k].copy_(a[k]);
  }
  auto owner = sdz::partition_owners(a, 3);
  sdz::allreduce_tensors(MPI_COMM_WORLD, a, 1 << 10, false);
  std::vector<torch::Tensor> before;
  for (auto& t : b) before.push_back(t.clone());
  sdz::reduce_scatter_tensors(MPI_COMM_WORLD, b, owner);
  for (size_t k = 0; k < a.size(); ++k) {
    if (owner[k] == me())  // fp32 sums of 3 values: equal up to the order MPI adds them in
      EXPECT_TRUE(torch::allclose(a[k], b[k], 1e-6, 1e-6)) << "tensor " << k;
    else
      EXPECT_TRUE(torch::equal(b[k], before[k])) << "non-owned tensor " << k << " changed";
  }
}

TEST(Zero1, AllgatherDeliversOwnersBytes) {
  auto ts = shapes();
  ts.push_back(torch::zeros({3, 3}, torch::kFloat64));  // mixed dtypes move as bytes
  auto owner = sdz::partition_owners(ts, 3);
  for (size_t k = 0; k < ts.size(); ++k) ts[k].fill_(owner[k] == me() ? double(k + 1) : -1.0);
  std::vector<int64_t> versions;
  for (auto& t : ts) versions.push_back(int64_t(t._version()));
  sdz::allgather_tensors(MPI_COMM_WORLD, ts, owner);
  // Tensors written by memcpy carry a new version (caches keyed by it refresh); owned ones are untouched.
  for (size_t k = 0; k < ts.size(); ++k) {
    if (owner[k] != me()) {
      EXPECT_GT(int64_t(ts[k]._version()), versions[k]) << k;
    }
  }
  for (size_t k = 0; k < ts.size(); ++k) EXPECT_TRUE(torch::all(ts[k] == double(k + 1)).item<bool>()) << k;
  EXPECT_TRUE(sdz::tensors_identical(MPI_COMM_WORLD, ts));
}

TEST(Zero1, BadOwnersAreAnError) {
  auto ts = shapes();
  EXPECT_THROW(sdz::reduce_scatter_tensors(MPI_COMM_WORLD, ts, {0, 1}), std::exception);
  EXPECT_THROW(sdz::allgather_tensors(MPI_COMM_WORLD, ts, {2, 1, 0, 0, 0}), std::exception);
}
