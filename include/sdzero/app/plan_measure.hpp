// defines: the measurements behind `sdzero plan --memory --measure`: one learner step (the config's
// method, algo::train_step over random trajectories of the planned sizes) or one rollout generate call
// on dist.device, reporting the device's peak bytes. Each runs in a fresh child process (this binary
// with --measure-role), because a CPU process's peak RSS cannot be reset and the allocator keeps freed
// memory.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdzero/model/memory_plan.hpp"

namespace sdz {
class Config;
}

namespace sdz::app {

constexpr int64_t kCueTokens = 16;  // "\n\n" + a revision cue + "\n\n" in a BPE vocabulary

// In the child: runs `role` ("learner" | "rollout") and prints one JSON line with peak_bytes (CUDA:
// the allocator's peak; CPU: peak RSS minus the RSS before the model was built). Returns 0.
int measure_role(const Config& cfg, const model::ModelConfig& mc, const model::RunSizes& rs, const std::string& role);
// In the parent: runs `sdzero plan <args> --measure-role=<role>` and returns its JSON line.
nlohmann::json measure_in_child(const std::vector<std::string>& args, const std::string& role);

}  // namespace sdz::app
