// sdz-mpi-ranks: 3
// The MPI bootstrap on 3 ranks: the world, node-local numbering, the launcher environment, and the
// logger's rank filtering seen from every rank at once.
#include <gtest/gtest.h>

#include <sstream>

#include "sdzero/core/log.hpp"
#include "sdzero/dist/world.hpp"

TEST(World, SeesThreeRanksAndNumbersThemOnTheNode) {
  int argc = 0;
  char** argv = nullptr;
  sdz::World w(&argc, &argv);
  EXPECT_EQ(w.size(), 3);
  EXPECT_GE(w.rank(), 0);
  EXPECT_LT(w.rank(), 3);
  EXPECT_EQ(w.local_size(), 3);  // one node
  EXPECT_EQ(w.local_rank(), w.rank());
  int sum = 0, me = w.rank();
  MPI_Allreduce(&me, &sum, 1, MPI_INT, MPI_SUM, w.comm());
  EXPECT_EQ(sum, 0 + 1 + 2);
}

TEST(World, LaunchEnvironmentAgreesWithMpi) {
  sdz::LaunchInfo li = sdz::launch_info_from_env();
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(li.rank, rank);
  EXPECT_EQ(li.world, size);
  EXPECT_EQ(li.local_size, 3);
  EXPECT_GE(li.cores, 1);
  // 3 ranks on this node share its cores; an explicit request wins.
  EXPECT_EQ(sdz::threads_per_rank(li, 0), std::max(1, li.cores / 3));
  EXPECT_EQ(sdz::threads_per_rank(li, 5), 5);
}

TEST(World, OnlyRankZeroLogsInfoButEveryRankLogsErrors) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::ostringstream out;
  sdz::log::set_sink(&out);
  sdz::log::init(rank, 3);
  sdz::log::info("step done");
  int info_printed = out.str().empty() ? 0 : 1;
  sdz::log::error("boom");
  bool error_tagged = out.str().find(" r" + std::to_string(rank) + "] ERROR: boom") != std::string::npos;
  sdz::log::set_sink(nullptr);

  int counts[3] = {0, 0, 0};
  MPI_Allgather(&info_printed, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
  EXPECT_EQ(counts[0], 1);
  EXPECT_EQ(counts[1], 0);
  EXPECT_EQ(counts[2], 0);
  EXPECT_TRUE(error_tagged) << out.str();
}
