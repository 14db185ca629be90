#include "sdzero/dist/groups.hpp"

#include "sdzero/dist/nccl.hpp"

#include "sdzero/core/error.hpp"

namespace sdz {

static MPI_Comm split(MPI_Comm world, bool member, int key) {
  MPI_Comm out = MPI_COMM_NULL;
  MPI_Comm_split(world, member ? 0 : MPI_UNDEFINED, key, &out);
  return out;
}

Groups::Groups(MPI_Comm world, const Layout& layout) : layout_(layout), world_(world) {
  int size = 0;
  MPI_Comm_rank(world, &world_rank_);
  MPI_Comm_size(world, &size);
  if (size != layout.world)
    throw Error("layout is for " + std::to_string(layout.world) + " ranks but the world has " + std::to_string(size), "layout");
  role_ = layout.role_of(world_rank_);
  if (layout.colocated) {
    MPI_Comm_dup(world, &role_comm_);
    MPI_Comm_dup(world, &learners_);
    MPI_Comm_dup(world, &policy_bridge_);
    MPI_Comm_dup(world, &teacher_bridge_);
    MPI_Comm_dup(world, &trainers_);
    return;
  }
  // Every split is collective over the world, so every rank calls every split in the same order.
  MPI_Comm_split(world, int(role_), world_rank_, &role_comm_);
  learners_ = split(world, role_ == Role::Learner, world_rank_);
  bool root = world_rank_ == layout.learner_root();
  // key -1 for the learner root makes it rank 0 of each bridge.
  policy_bridge_ = split(world, root || role_ == Role::Rollout, root ? -1 : world_rank_);
  teacher_bridge_ = split(world, root || role_ == Role::Teacher, root ? -1 : world_rank_);
  trainers_ = split(world, role_ != Role::Rollout, world_rank_);
}

Groups::~Groups() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  for (MPI_Comm* c : {&role_comm_, &learners_, &policy_bridge_, &teacher_bridge_, &trainers_})
    if (*c != MPI_COMM_NULL) nccl::release(*c), MPI_Comm_free(c);
}

}  // namespace sdz
