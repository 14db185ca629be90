// Thread choice and launcher environment parsing, without MPI running.
#include <gtest/gtest.h>

#include <cstdlib>

#include "sdzero/dist/world.hpp"

TEST(LaunchInfo, ReadsOpenMpiAndSlurmVariables) {
  setenv("OMPI_COMM_WORLD_RANK", "5", 1);
  setenv("OMPI_COMM_WORLD_SIZE", "8", 1);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1", 1);
  setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "4", 1);
  setenv("SLURM_CPUS_ON_NODE", "16", 1);
  sdz::LaunchInfo li = sdz::launch_info_from_env();
  EXPECT_EQ(li.rank, 5);
  EXPECT_EQ(li.world, 8);
  EXPECT_EQ(li.local_rank, 1);
  EXPECT_EQ(li.local_size, 4);
  EXPECT_EQ(li.cores, 16);
  EXPECT_EQ(sdz::threads_per_rank(li, 0), 4);
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                        "OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_CPUS_ON_NODE"})
    unsetenv(v);
  setenv("SLURM_PROCID", "2", 1);
  setenv("SLURM_NTASKS", "3", 1);
  setenv("SLURM_TASKS_PER_NODE", "3(x1)", 1);
  li = sdz::launch_info_from_env();
  EXPECT_EQ(li.rank, 2);
  EXPECT_EQ(li.world, 3);
  EXPECT_EQ(li.local_size, 3);
  for (const char* v : {"SLURM_PROCID", "SLURM_NTASKS", "SLURM_TASKS_PER_NODE"}) unsetenv(v);
}

TEST(LaunchInfo, NeverFewerThanOneThread) {
  sdz::LaunchInfo li;
  li.cores = 2;
  li.local_size = 3;
  EXPECT_EQ(sdz::threads_per_rank(li, 0), 1);
}
