// defines: Groups — the communicators carved from MPI_COMM_WORLD for a Layout: this rank's role
// group, the learner data-parallel group, and the two bridges weight sync uses (learner root +
// rollout ranks, learner root + teacher ranks; the learner root is rank 0 of each bridge), and the
// teacher + learner group of the async schedule.
#pragma once
#include <mpi.h>

#include "sdzero/dist/layout.hpp"

namespace sdz {

class Groups {
 public:
  Groups(MPI_Comm world, const Layout& layout);
  ~Groups();
  Groups(const Groups&) = delete;
  Groups& operator=(const Groups&) = delete;

  const Layout& layout() const { return layout_; }
  Role role() const { return role_; }
  int world_rank() const { return world_rank_; }
  bool is_learner_root() const { return world_rank_ == layout_.learner_root(); }
  bool has(Role r) const { return role_ == Role::All || role_ == r; }
  MPI_Comm world() const { return world_; }
  MPI_Comm role_comm() const { return role_comm_; }
  // Learner data-parallel group; MPI_COMM_NULL on non-learner ranks.
  MPI_Comm learners() const { return learners_; }
  // Bridges; MPI_COMM_NULL on ranks outside them. In a colocated layout both are the world.
  MPI_Comm policy_bridge() const { return policy_bridge_; }
  MPI_Comm teacher_bridge() const { return teacher_bridge_; }
  // Teacher and learner ranks (everyone but rollout; world rank - rollout count = rank here): the
  // async schedule moves scored trajectories over it while the rollout ranks keep generating.
  // MPI_COMM_NULL on rollout ranks; the world in a colocated layout.
  MPI_Comm trainers() const { return trainers_; }

 private:
  Layout layout_;
  Role role_;
  int world_rank_ = 0;
  MPI_Comm world_, role_comm_ = MPI_COMM_NULL, learners_ = MPI_COMM_NULL;
  MPI_Comm policy_bridge_ = MPI_COMM_NULL, teacher_bridge_ = MPI_COMM_NULL, trainers_ = MPI_COMM_NULL;
};

}  // namespace sdz
