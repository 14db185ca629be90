// sdz-mpi-ranks: 4
// A 2+1+1 layout on 4 ranks: two rollout ranks share the policy bridge; data routed with
// Alltoallv from rollout ranks to the learner arrives in rank order.
#include <gtest/gtest.h>

#include "sdzero/dist/bytes.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/dist/groups.hpp"

TEST(Groups, TwoRolloutRanksOneTeacherOneLearner) {
  sdz::Groups g(MPI_COMM_WORLD, sdz::make_layout("split", 2, 1, 1, 4, true));
  int me = g.world_rank();
  int n = 0;
  if (g.policy_bridge() != MPI_COMM_NULL) MPI_Comm_size(g.policy_bridge(), &n);
  EXPECT_EQ(n, (me == 0 || me == 1 || me == 3) ? 3 : 0);
  // Every rollout rank sends its trajectories (here: its rank, 3 times) to the learner root.
  std::vector<sdz::Bytes> send(4);
  if (g.role() == sdz::Role::Rollout) {
    sdz::ByteWriter w;
    w.put_vec(std::vector<int32_t>(3, me));
    send[3] = w.bytes();
  }
  auto got = sdz::alltoallv(g.world(), send);
  if (g.is_learner_root()) {
    for (int from = 0; from < 2; ++from) {
      sdz::ByteReader r(got[size_t(from)]);
      EXPECT_EQ(r.get_vec<int32_t>(), std::vector<int32_t>(3, from));
    }
    EXPECT_TRUE(got[2].empty());
  }
}
