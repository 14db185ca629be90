// defines: the generation budget every method shares ("same question set and training sample
// budget"): generations and generated tokens are counted; a run stops when either limit is reached;
// a step asks how many questions it may still sample so the last step never overshoots.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace sdz::algo {

struct BudgetLimits {
  int64_t max_generations = 0;       // 0: unlimited
  int64_t max_generated_tokens = 0;  // 0: unlimited
};

class Budget {
 public:
  explicit Budget(BudgetLimits limits = {});
  // How many of `questions` (each sampled `samples_per_question` times) still fit in the generation
  // limit. The token limit cannot be known ahead; it stops the run after the step that crosses it.
  int64_t questions_that_fit(int64_t questions, int64_t samples_per_question) const;
  void count(int64_t generations, int64_t generated_tokens);
  bool exhausted() const;
  int64_t generations() const { return generations_; }
  int64_t generated_tokens() const { return tokens_; }
  const BudgetLimits& limits() const { return limits_; }
  // For metrics.jsonl: budget/generations, budget/generated_tokens, budget/fraction_used.
  std::map<std::string, double> metrics() const;
  // Checkpoint state.
  void restore(int64_t generations, int64_t generated_tokens);

 private:
  BudgetLimits limits_;
  int64_t generations_ = 0, tokens_ = 0;
};

}  // namespace sdz::algo
