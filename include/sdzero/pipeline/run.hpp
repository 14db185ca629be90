// defines: train_run — one whole training run from a configuration: components, layout, role
// groups, the Trainer loop, and at the end the final policy on every rank (broadcast from the
// learner root) and saved as a model directory. `sdzero train` is this; the demo chains several.
#pragma once
#include <mpi.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "sdzero/pipeline/components.hpp"

namespace sdz {
class Config;
}

namespace sdz::pipeline {

struct TrainedRun {
  Components c;
  int64_t steps = 0, generations = 0, generated_tokens = 0;
  double seconds = 0;
  std::string saved_to;
  bool stopped_by_signal = false;  // SIGTERM/SIGUSR1: checkpointed, nothing else saved
};

// after_step(step, record, components): return false to end the run early (called on every rank).
using AfterStep = std::function<bool(int64_t, nlohmann::json&, Components&)>;
TrainedRun train_run(const Config& cfg, MPI_Comm world, const std::string& run_dir, const AfterStep& after_step = {});

// Whether the method ever asks a teacher (asked of the method, never decided by its name).
bool method_needs_teacher(const algo::Method& m);

}  // namespace sdz::pipeline
