// The demo's rank groups on 4 real ranks: how the world is carved (one group per rank, two groups of
// two, a count that does not divide refused by key), the static schedule (longest first to the least
// loaded group, the same on every rank), and the gather of finished rows to rank 0 in serial order
// with their numbers intact.
// sdz-mpi-ranks: 4
#include <gtest/gtest.h>
#include <mpi.h>

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
