// defines: the staleness rule of async training: a trajectory sampled by policy version v may train
// the learner at version V only when 0 <= V - v <= max_staleness (0 = strictly on-policy).
#pragma once
#include <cstdint>

namespace sdz::pipeline {

inline bool within_staleness(int64_t lag, int64_t max_staleness) { return lag >= 0 && lag <= max_staleness; }

}  // namespace sdz::pipeline
