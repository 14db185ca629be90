// defines: evaluation of a policy on held-out questions: greedy accuracy, avg@k and pass@k of k
// samples, mean response length. Questions are shared out over the ranks of `comm` (position %
// ranks) and the counts summed, so every rank returns the same numbers.
#pragma once
#include <mpi.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "sdzero/pipeline/components.hpp"

namespace sdz::pipeline {

struct EvalOptions {
  int64_t k = 4;              // samples per question for avg@k / pass@k
  double temperature = 1.0;   // of the k samples (greedy is always temperature 0)
  int64_t max_new_tokens = 64;
  int64_t slots = 64;
  uint64_t seed = 1234;
};

struct EvalResult {
  int64_t questions = 0;
  double greedy = 0, avg_k = 0, pass_k = 0, mean_length = 0;
  int64_t k = 0;
  nlohmann::json to_json() const;
};

EvalResult evaluate(const Components& c, const model::Transformer& policy, const std::vector<tasks::Question>& questions,
                    const EvalOptions& opt, MPI_Comm comm);

}  // namespace sdz::pipeline
