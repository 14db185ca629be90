// defines: the rollout role's work for one step: sample responses for a set of questions with the
// generation engine, decode and verify them, and return Trajectories tagged with the policy version.
// Sampling randomness is keyed by (seed, step, question index, sample index), never by rank or slot.
#pragma once
#include <string>
#include <vector>

#include "sdzero/algo/types.hpp"
#include "sdzero/pipeline/components.hpp"

namespace sdz::pipeline {

struct RolloutResult {
  std::vector<algo::Trajectory> trajectories;  // question-major, samples in order
  std::vector<std::string> texts, reasons;     // decoded response and verifier reason, same order
  int64_t generated_tokens = 0;
  double seconds_generate = 0, seconds_verify = 0;
};

struct RolloutRequest {
  std::vector<int64_t> question_indices;  // into Components::questions
  algo::SamplingParams sampling;
  uint64_t seed = 0;   // already keyed by step
  int64_t version = 0; // policy version that samples
  int64_t slots = 64;
  const std::vector<tasks::Question>* questions = nullptr;  // null: Components::questions
  std::string progress_label;  // not empty: a progress line with ETA over this rank's responses
};

RolloutResult rollout(const Components& c, const model::Transformer& policy, const RolloutRequest& req);

// Response text without its trailing stop token (what the verifier reads).
std::string response_text(const Components& c, const algo::Ids& response);

}  // namespace sdz::pipeline
