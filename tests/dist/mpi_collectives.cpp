// sdz-mpi-ranks: 3
// Byte collectives, tensor sync and the communicators of a 1+1+1 split layout, on 3 ranks.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "sdzero/dist/bytes.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/dist/groups.hpp"
#include "sdzero/dist/tensor_sync.hpp"

namespace {
int me() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
sdz::Bytes pattern(int from, int to) {  // a buffer whose length and contents name its route
  sdz::Bytes b(size_t(10 * from + to + 1));
  for (size_t i = 0; i < b.size(); ++i) b[i] = uint8_t(from * 31 + to * 7 + int(i));
  return b;
}
}  // namespace

TEST(Collectives, AlltoallvDeliversEveryRouteIntact) {
  std::vector<sdz::Bytes> send;
  for (int to = 0; to < 3; ++to) send.push_back(pattern(me(), to));
  send[1].clear();  // an empty route still works
  auto got = sdz::alltoallv(MPI_COMM_WORLD, send);
  ASSERT_EQ(got.size(), 3u);
  for (int from = 0; from < 3; ++from) EXPECT_EQ(got[size_t(from)], me() == 1 ? sdz::Bytes{} : pattern(from, me()));
}

TEST(Collectives, GathervScattervAndBcast) {
  auto all = sdz::gatherv(MPI_COMM_WORLD, 2, pattern(me(), 9));
  if (me() == 2) {
    ASSERT_EQ(all.size(), 3u);
    for (int r = 0; r < 3; ++r) EXPECT_EQ(all[size_t(r)], pattern(r, 9));
  } else {
    EXPECT_TRUE(all.empty());
  }
  std::vector<sdz::Bytes> parts;
  if (me() == 0)
    for (int r = 0; r < 3; ++r) parts.push_back(pattern(5, r));
  EXPECT_EQ(sdz::scatterv(MPI_COMM_WORLD, 0, parts), pattern(5, me()));
  sdz::Bytes b = me() == 1 ? pattern(1, 1) : sdz::Bytes{};
  sdz::bcast(MPI_COMM_WORLD, 1, b);
  EXPECT_EQ(b, pattern(1, 1));
}

TEST(Collectives, GatherLinesKeepsRankOrderAndEmptyLines) {
  // Rank r sends r lines: "1.0" from rank 1, then "2.0" and an empty line from rank 2; rank 0 none.
  std::string mine;
  for (int i = 0; i < me(); ++i) mine += (i == 1 ? std::string() : std::to_string(me()) + "." + std::to_string(i)) + "\n";
  const std::vector<std::string> lines = sdz::gather_lines(MPI_COMM_WORLD, 1, mine);
  if (me() == 1)
    EXPECT_EQ(lines, (std::vector<std::string>{"1.0", "2.0", ""}));
  else
    EXPECT_TRUE(lines.empty());
}

TEST(Collectives, ScalarReductions) {
  EXPECT_DOUBLE_EQ(sdz::allreduce_sum(MPI_COMM_WORLD, 0.5 * me()), 1.5);
  EXPECT_EQ(sdz::allreduce_sum(MPI_COMM_WORLD, int64_t(me() + 1)), 6);
  EXPECT_DOUBLE_EQ(sdz::allreduce_max(MPI_COMM_WORLD, double(me())), 2.0);
  EXPECT_FALSE(sdz::all_true(MPI_COMM_WORLD, me() != 1));
  EXPECT_TRUE(sdz::all_true(MPI_COMM_WORLD, true));
}

TEST(TensorSync, BroadcastMakesEveryRankHoldTheRootsTensorsInSmallBuckets) {
  torch::manual_seed(uint64_t(100 + me()));  // different values on every rank first
  std::vector<torch::Tensor> ts = {torch::randn({7, 5}), torch::randn({300}), torch::randn({2, 2}).to(torch::kBFloat16),
                                   torch::randint(0, 100, {9}, torch::kInt64)};
  std::vector<torch::Tensor> root_copy;
  for (auto& t : ts) root_copy.push_back(t.clone());
  std::vector<int64_t> versions;
  for (auto& t : ts) versions.push_back(int64_t(t._version()));
  // What rank 1 holds is what everyone must end with: send it around by gather for the check.
  size_t moved = sdz::broadcast_tensors(MPI_COMM_WORLD, 1, ts, 256);  // 256 B buckets: many buckets
  // A receiver's tensors were written by memcpy: their version counters must say so, or the caches
  // keyed by them (bf16 compute copies, oneDNN packed weights) would keep the old values.
  if (me() != 1) {
    for (size_t i = 0; i < ts.size(); ++i) EXPECT_GT(int64_t(ts[i]._version()), versions[i]) << i;
  }
  size_t total = 0;
  for (auto& t : ts) total += t.nbytes();
  EXPECT_EQ(moved, total);
  EXPECT_TRUE(sdz::tensors_identical(MPI_COMM_WORLD, ts));
  if (me() == 1) {
    for (size_t i = 0; i < ts.size(); ++i) EXPECT_TRUE(torch::equal(ts[i], root_copy[i]));
  }
}

TEST(TensorSync, AllreduceEqualsTheSumComputedByHand) {
  std::vector<torch::Tensor> mine, sum;
  for (int r = 0; r < 3; ++r) {
    torch::manual_seed(uint64_t(7 + r));
    std::vector<torch::Tensor> t = {torch::randn({13}), torch::randn({4, 4})};
    if (r == me()) mine = {t[0].clone(), t[1].clone()};
    if (sum.empty()) {
      sum = t;
    } else {
      for (size_t i = 0; i < t.size(); ++i) sum[i] = sum[i] + t[i];
    }
  }
  sdz::allreduce_tensors(MPI_COMM_WORLD, mine, 40, /*average=*/false);
  for (size_t i = 0; i < mine.size(); ++i) EXPECT_TRUE(torch::allclose(mine[i], sum[i], 1e-6, 1e-6));
  std::vector<torch::Tensor> avg = {torch::full({3}, double(me()))};
  sdz::allreduce_tensors(MPI_COMM_WORLD, avg, 1 << 20, /*average=*/true);
  EXPECT_TRUE(torch::allclose(avg[0], torch::full({3}, 1.0)));
}

TEST(TensorSync, ReduceScatterThenAllgatherEqualsAllreduce) {
  torch::manual_seed(uint64_t(50 + me()));
  torch::Tensor g = torch::randn({12});
  torch::Tensor full = g.clone();
  std::vector<torch::Tensor> v = {full};
  sdz::allreduce_tensors(MPI_COMM_WORLD, v, 1 << 20, false);
  torch::Tensor shard = sdz::reduce_scatter_flat(MPI_COMM_WORLD, g);
  EXPECT_EQ(shard.numel(), 4);
  EXPECT_TRUE(torch::allclose(shard, full.narrow(0, 4 * me(), 4), 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(sdz::allgather_flat(MPI_COMM_WORLD, shard), full, 1e-6, 1e-6));
}

TEST(TensorSync, IdentityCheckSeesOneDifferentBit) {
  torch::Tensor t = torch::ones({64});
  EXPECT_TRUE(sdz::tensors_identical(MPI_COMM_WORLD, {t}));
  if (me() == 2) t[17] = std::nextafter(1.0f, 2.0f);
  EXPECT_FALSE(sdz::tensors_identical(MPI_COMM_WORLD, {t}));
}

TEST(Groups, SplitLayoutCarvesRoleGroupsAndBridges) {
  sdz::Layout l = sdz::make_layout("split", 1, 1, 1, 3, true);
  sdz::Groups g(MPI_COMM_WORLD, l);
  int n = 0;
  MPI_Comm_size(g.role_comm(), &n);
  EXPECT_EQ(n, 1);
  EXPECT_EQ(g.learners() != MPI_COMM_NULL, me() == 2);
  // Bridges: learner root (rank 2) is rank 0 of both; rollout rank 0 is in the policy bridge only.
  EXPECT_EQ(g.policy_bridge() != MPI_COMM_NULL, me() == 0 || me() == 2);
  EXPECT_EQ(g.teacher_bridge() != MPI_COMM_NULL, me() == 1 || me() == 2);
  if (g.policy_bridge() != MPI_COMM_NULL) {
    int r = -1;
    MPI_Comm_rank(g.policy_bridge(), &r);
    EXPECT_EQ(r, me() == 2 ? 0 : 1);
    // Weight sync over the bridge: the learner root's values reach the rollout rank.
    torch::Tensor w = torch::full({5}, double(me()));
    sdz::broadcast_tensors(g.policy_bridge(), 0, {w}, 1 << 20);
    EXPECT_TRUE(torch::equal(w, torch::full({5}, 2.0)));
  }
}

TEST(Groups, ColocatedLayoutUsesTheWholeWorldEverywhere) {
  sdz::Groups g(MPI_COMM_WORLD, sdz::make_layout("colocated", 0, 0, 0, 3, true));
  EXPECT_EQ(g.role(), sdz::Role::All);
  int n = 0;
  MPI_Comm_size(g.learners(), &n);
  EXPECT_EQ(n, 3);
  EXPECT_TRUE(g.has(sdz::Role::Teacher));
}
