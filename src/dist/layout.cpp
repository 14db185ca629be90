#include "sdzero/dist/layout.hpp"

#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz {

const char* role_name(Role r) {
  switch (r) {
    case Role::Rollout: return "rollout";
    case Role::Teacher: return "teacher";
    case Role::Learner: return "learner";
    case Role::All: return "all";
  }
  return "?";
}

Role Layout::role_of(int rank) const {
  if (colocated) return Role::All;
  if (rank < rollout) return Role::Rollout;
  if (rank < rollout + teacher) return Role::Teacher;
  return Role::Learner;
}

int Layout::first_rank(Role r) const {
  switch (r) {
    case Role::Rollout: return 0;
    case Role::Teacher: return rollout;
    case Role::Learner: return rollout + teacher;
    case Role::All: return 0;
  }
  return 0;
}

int Layout::group_size(Role r) const {
  if (colocated) return world;
  switch (r) {
    case Role::Rollout: return rollout;
    case Role::Teacher: return teacher;
    case Role::Learner: return learner;
    case Role::All: return world;
  }
  return 0;
}

std::string Layout::describe() const {
  if (colocated) return strprintf("colocated x%d", world);
  return strprintf("rollout %d + teacher %d + learner %d", rollout, teacher, learner);
}

Layout make_layout(const std::string& mode, int rollout, int teacher, int learner, int world_size,
                   bool method_needs_teacher) {
  Layout l;
  l.world = world_size;
  if (mode == "auto") {
    // Split when there is a rank for each role the method needs; colocated otherwise.
    int need = method_needs_teacher ? 3 : 2;
    if (world_size < need) return make_layout("colocated", 0, 0, 0, world_size, method_needs_teacher);
    int t = method_needs_teacher ? std::max(1, world_size / 4) : 0;
    int lr = std::max(1, world_size / 4);
    return make_layout("split", world_size - t - lr, t, lr, world_size, method_needs_teacher);
  }
  if (mode == "colocated") {
    l.colocated = true;
    return l;
  }
  if (mode != "split") throw Error("unknown layout mode '" + mode + "'", "layout.mode", "use auto, colocated or split");
  l.colocated = false;
  l.rollout = rollout, l.teacher = teacher, l.learner = learner;
  if (rollout + teacher + learner != world_size)
    throw Error(strprintf("layout rollout %d + teacher %d + learner %d = %d ranks, but the job has %d", rollout,
                          teacher, learner, rollout + teacher + learner, world_size),
                "layout", "make the counts add up to the number of MPI ranks, or use layout.mode=auto");
  if (rollout < 1 || learner < 1)
    throw Error("a split layout needs at least one rollout and one learner rank", "layout");
  if (method_needs_teacher && teacher < 1)
    throw Error("this method needs a teacher but layout.teacher = 0", "layout.teacher",
                "give the teacher group at least one rank, or use layout.mode=colocated");
  return l;
}

Layout make_layout(const Config& cfg, int world_size, bool method_needs_teacher) {
  return make_layout(cfg.get_string("layout.mode"), int(cfg.get_int("layout.rollout")), int(cfg.get_int("layout.teacher")),
                     int(cfg.get_int("layout.learner")), world_size, method_needs_teacher);
}

void declare_dist_keys(Schema& s) {
  s.add_string("layout.mode", "auto",
               "How ranks split into roles: auto (split when there are enough ranks), colocated (every role "
               "in every rank), split (the counts below).",
               {"auto", "colocated", "split"});
  s.add_int("layout.rollout", 1, "Rollout ranks in a split layout (generate + verify).", 0);
  s.add_int("layout.teacher", 1, "Teacher ranks in a split layout (score in the revision context).", 0);
  s.add_int("layout.learner", 1, "Learner ranks in a split layout (data-parallel training).", 0);
  s.add_int("dist.max_staleness", 0,
            "Async mode: rollout may generate step k+s while the learners train step k; a trajectory more "
            "than s policy versions old is never trained on (dropped and counted). 0: strictly on-policy.",
            0, 64);
  s.add_bool("dist.zero1", false,
             "ZeRO-1: shard the AdamW state over the learners (gradients reduce-scattered, each learner "
             "updates the parameters it owns, parameters all-gathered); same result as unsharded.");
  s.add_string("dist.device", "auto",
               "Where each rank computes: auto (a GPU when this build has CUDA and one is visible, else the CPU), "
               "cpu, or cuda (one GPU per rank by node-local rank; more ranks per node than GPUs is an error). "
               "See docs/GPU.md.",
               {"auto", "cpu", "cuda"});
  s.add_int("dist.bucket_mb", 64, "Size of the flat buckets for weight sync and gradient allreduce, MiB.", 1, 4096);
}

}  // namespace sdz
