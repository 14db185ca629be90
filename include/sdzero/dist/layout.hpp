// defines: Layout — how the world's ranks split into rollout, teacher and learner groups, and the
// role of each rank. `colocated` puts every role in every rank (the only layout for one rank).
// Ranks are assigned in blocks: [0, R) rollout, [R, R+T) teacher, [R+T, R+T+L) learner.
#pragma once
#include <string>

namespace sdz {
class Config;
class Schema;

enum class Role { Rollout, Teacher, Learner, All };
const char* role_name(Role r);

struct Layout {
  bool colocated = true;
  int rollout = 1, teacher = 0, learner = 0;  // rank counts in a split layout
  int world = 1;
  Role role_of(int rank) const;
  int first_rank(Role r) const;  // first world rank of a group (split layouts)
  int group_size(Role r) const;
  int learner_root() const { return colocated ? 0 : rollout + teacher; }
  std::string describe() const;  // "colocated x3" or "rollout 2 + teacher 1 + learner 1"
};

// From [layout]: checked against the world size and the method's needs before any work starts.
Layout make_layout(const Config& cfg, int world_size, bool method_needs_teacher);
Layout make_layout(const std::string& mode, int rollout, int teacher, int learner, int world_size,
                   bool method_needs_teacher);

void declare_dist_keys(Schema& s);

}  // namespace sdz
