// The demo's rank groups on 4 real ranks: how the world is carved (one group per rank, two groups of
// two, a count that does not divide refused by key), the static schedule (longest first to the least
// loaded group, the same on every rank), and the gather of finished rows to rank 0 in serial order
// with their numbers intact; the methods' schedule without a barrier (each stage after its own base)
// and the point-to-point signals that replace the barrier.
// sdz-mpi-ranks: 4
#include <gtest/gtest.h>
#include <mpi.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sdzero/app/demo.hpp"
#include "sdzero/core/error.hpp"

using namespace sdz;
using namespace sdz::app;

namespace {

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

DemoRow row(const std::string& model, uint64_t seed, double acc) {
  DemoRow r;
  r.model = model, r.seed = seed, r.lr = 3e-4, r.val_avg_k = acc / 3, r.generations = 2048, r.seconds = 1.0 / 3;
  r.test.sampling.avg_at_k = acc, r.test.sampling.k = 4, r.test.sampling.questions = 300;
  r.curve = {{0, 0.25}, {2048, acc / 3}};
  r.length_curve = {6.5, 6.25};
  r.info = {{"picked_at_step", 400}};
  return r;
}

}  // namespace

TEST(DemoGroups, OneGroupPerRankByDefault) {
  DemoGroups g = carve_groups(MPI_COMM_WORLD, 0);
  EXPECT_EQ(g.count, 4);
  EXPECT_EQ(g.index, world_rank());
  EXPECT_TRUE(g.leader);
  int size = 0;
  MPI_Comm_size(g.comm, &size);
  EXPECT_EQ(size, 1);
  MPI_Comm_free(&g.comm);
}

TEST(DemoGroups, TwoGroupsOfConsecutiveRanks) {
  DemoGroups g = carve_groups(MPI_COMM_WORLD, 2);
  EXPECT_EQ(g.count, 2);
  EXPECT_EQ(g.index, world_rank() / 2);
  EXPECT_EQ(g.leader, world_rank() % 2 == 0);
  int size = 0, rank = 0;
  MPI_Comm_size(g.comm, &size);
  MPI_Comm_rank(g.comm, &rank);
  EXPECT_EQ(size, 2);
  EXPECT_EQ(rank, world_rank() % 2);
  // The group is a real communicator: a sum over it sees only its own two ranks.
  int sum = 0, me = world_rank();
  MPI_Allreduce(&me, &sum, 1, MPI_INT, MPI_SUM, g.comm);
  EXPECT_EQ(sum, g.index == 0 ? 0 + 1 : 2 + 3);
  MPI_Comm_free(&g.comm);
}

TEST(DemoGroups, ACountThatDoesNotDivideTheRanksIsRefusedByKey) {
  for (int64_t n : {3, 5, 8}) {
    try {
      carve_groups(MPI_COMM_WORLD, n);
      ADD_FAILURE() << n << " groups of 4 ranks were accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("demo.groups"), std::string::npos) << e.what();
    }
  }
}

TEST(DemoGroups, ScheduleIsLongestFirstToTheLeastLoaded) {
  // Three bases (10) and the localization (8) over two groups: 10+10 and 10+8.
  EXPECT_EQ(schedule({10, 10, 10, 8}, 2), (std::vector<int>{0, 1, 0, 1}));
  // Ties go to the lowest group; equal costs alternate.
  EXPECT_EQ(schedule({2, 2, 2, 2, 2}, 2), (std::vector<int>{0, 1, 0, 1, 0}));
  // A long item first, whatever its position: 3 goes alone, the short ones share the other groups.
  EXPECT_EQ(schedule({1, 1, 1, 3}, 2), (std::vector<int>{1, 1, 1, 0}));
  EXPECT_EQ(schedule({5, 4, 3}, 1), (std::vector<int>{0, 0, 0}));
  EXPECT_TRUE(schedule({}, 3).empty());
  // The loads end balanced: 24 method runs (sdzero 3, others 2) over 2 groups differ by at most 1.
  std::vector<double> costs;
  for (int seed = 0; seed < 3; ++seed)
    for (int m = 0; m < 4; ++m)
      for (int lr = 0; lr < 2; ++lr) costs.push_back(m == 3 ? 3 : 2);
  std::vector<int> owner = schedule(costs, 2);
  double load[2] = {0, 0};
  for (size_t i = 0; i < costs.size(); ++i) load[owner[i]] += costs[i];
  EXPECT_LE(std::abs(load[0] - load[1]), 1.0);
  // Every rank computes the same schedule (it is what lets them skip a coordinator).
  int first = owner[7], lo = 0, hi = 0;
  MPI_Allreduce(&first, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&first, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_EQ(lo, hi);
}

TEST(DemoGroups, RowsReachRankZeroInSerialOrderWithExactNumbers) {
  // Each rank finished rows with orders rank, rank + 4 and (rank 2 only) the localization summary.
  const int r = world_rank();
  GroupResult mine;
  mine.rows.push_back({int64_t(r + 4), row("rft", 1234 + uint64_t(r), 0.1 * r + 1.0 / 7)});
  mine.rows.push_back({int64_t(r), row("base", 1234 + uint64_t(r), 0.2 * r + 1.0 / 3)});
  if (r == 2) mine.localization = {{"argmax_hit_rate", 0.494}, {"task", "mul"}};
  GroupResult all = gather_results(MPI_COMM_WORLD, mine);
  if (r != 0) {
    EXPECT_TRUE(all.rows.empty());
    return;
  }
  ASSERT_EQ(all.rows.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(all.rows[i].first, int64_t(i));
    const int from = int(i % 4);
    const DemoRow want = i < 4 ? row("base", 1234 + uint64_t(from), 0.2 * from + 1.0 / 3)
                               : row("rft", 1234 + uint64_t(from), 0.1 * from + 1.0 / 7);
    EXPECT_EQ(all.rows[i].second.to_json().dump(), want.to_json().dump()) << i;
    EXPECT_EQ(all.rows[i].second.test.sampling.avg_at_k, want.test.sampling.avg_at_k);  // bit for bit
  }
  EXPECT_EQ(all.localization.at("task"), "mul");
}

TEST(DemoGroups, MethodsStartWhenTheirOwnBaseIsReady) {
  // Three bases (10) and the localization (4) over two groups: group 0 builds bases 0 and 2 (done at
  // 10 and 20), group 1 base 1 and the localization (done at 10 and 14).
  const std::vector<double> costs1 = {10, 10, 10, 4};
  const std::vector<int> owner1 = schedule(costs1, 2);
  ASSERT_EQ(owner1, (std::vector<int>{0, 1, 0, 1}));
  // Four stages per seed (sdzero 3, the others 2).
  std::vector<double> costs2;
  std::vector<size_t> needs;
  for (size_t seed = 0; seed < 3; ++seed)
    for (double c : {2.0, 2.0, 3.0, 3.0}) costs2.push_back(c), needs.push_back(seed);
  const StagePlan p = schedule_after(costs1, owner1, costs2, needs, 2);
  ASSERT_EQ(p.owner.size(), costs2.size());
  ASSERT_EQ(p.order.size(), costs2.size());
  // Seeds 0 and 1 are ready at 10, seed 2 at 20: their stages come first, the longest first.
  EXPECT_EQ(needs[p.order.front()], 0u);
  EXPECT_EQ(costs2[p.order.front()], 3.0);
  for (size_t k = 0; k + 1 < p.order.size(); ++k) EXPECT_LE(needs[p.order[k]] == 2, needs[p.order[k + 1]] == 2);
  // Simulate both plans: with the barrier every stage starts at 20; without it group 1 starts at 14.
  double free[2] = {20, 14}, ready[3] = {10, 10, 20};
  for (size_t j : p.order) free[p.owner[j]] = std::max(free[p.owner[j]], ready[needs[j]]) + costs2[j];
  std::vector<int> barrier_owner = schedule(costs2, 2);
  double barrier[2] = {20, 20};
  for (size_t j = 0; j < costs2.size(); ++j) barrier[barrier_owner[j]] += costs2[j];
  EXPECT_LT(std::max(free[0], free[1]), std::max(barrier[0], barrier[1]));
  EXPECT_LE(std::max(free[0], free[1]), (20 + 14 + 30) / 2.0 + 3);  // within a stage of perfect balance
  // One group: everything in ready order.
  const StagePlan one = schedule_after(costs1, {0, 0, 0, 0}, costs2, needs, 1);
  for (int o : one.owner) EXPECT_EQ(o, 0);
}

TEST(DemoGroups, AStageReadsItsBaseOnlyAfterTheOwnerSaysItIsWritten) {
  // Two groups of two ranks. Item 0 is made by group 1 and used by group 0; item 1 by group 0, used by
  // both. The owner writes a file, then signals; the users read it after wait().
  DemoGroups g = carve_groups(MPI_COMM_WORLD, 2);
  const std::string dir = std::filesystem::temp_directory_path().string() + "/sdz_stage_signals";
  if (world_rank() == 0) std::filesystem::remove_all(dir), std::filesystem::create_directories(dir);
  MPI_Barrier(MPI_COMM_WORLD);
  // Users listed once per stage, as the demo lists them: each group must still get one message.
  StageSignals sig(MPI_COMM_WORLD, g, {1, 0}, {{0, 0, 0}, {0, 1, 1, 0}});
  auto item = [&](int i) { return dir + "/item" + std::to_string(i); };
  auto make = [&](int i) {
    if (g.leader) std::ofstream(item(i)) << "item " << i;
    MPI_Barrier(g.comm);
    sig.done(size_t(i));
  };
  auto read = [&](int i) {
    sig.wait(size_t(i));
    std::ifstream in(item(i));
    std::string text;
    std::getline(in, text);
    return text;
  };
  if (g.index == 1) {
    make(0);
    EXPECT_EQ(read(1), "item 1");
  } else {
    make(1);
    EXPECT_EQ(read(0), "item 0");
    EXPECT_EQ(read(1), "item 1");  // its own item: no message
  }
  sig.finish();
  MPI_Barrier(MPI_COMM_WORLD);
  int pending = 0;  // every message sent was received: none left over for a later receive to take
  MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &pending, MPI_STATUS_IGNORE);
  EXPECT_EQ(pending, 0);
  if (world_rank() == 0) std::filesystem::remove_all(dir);
  MPI_Comm_free(&g.comm);
}
