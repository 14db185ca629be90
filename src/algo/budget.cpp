// Generation budget accounting (see budget.hpp).
#include "sdzero/algo/budget.hpp"

#include <algorithm>

#include "sdzero/core/error.hpp"

namespace sdz::algo {

Budget::Budget(BudgetLimits limits) : limits_(limits) {
  SDZ_CHECK(limits_.max_generations >= 0 && limits_.max_generated_tokens >= 0, "budget limits must be >= 0",
            "budget.max_generations / budget.max_generated_tokens");
}

int64_t Budget::questions_that_fit(int64_t questions, int64_t samples_per_question) const {
  SDZ_CHECK(questions >= 0 && samples_per_question > 0, "bad question or sample count", "algo::Budget");
  if (exhausted()) return 0;
  if (limits_.max_generations == 0) return questions;
  return std::min(questions, (limits_.max_generations - generations_) / samples_per_question);
}

void Budget::count(int64_t generations, int64_t generated_tokens) {
  SDZ_CHECK(generations >= 0 && generated_tokens >= 0, "negative generation count", "algo::Budget::count");
  generations_ += generations;
  tokens_ += generated_tokens;
}

bool Budget::exhausted() const {
  return (limits_.max_generations > 0 && generations_ >= limits_.max_generations) ||
         (limits_.max_generated_tokens > 0 && tokens_ >= limits_.max_generated_tokens);
}

std::map<std::string, double> Budget::metrics() const {
  double frac = 0;
  if (limits_.max_generations > 0) frac = std::max(frac, double(generations_) / double(limits_.max_generations));
  if (limits_.max_generated_tokens > 0) frac = std::max(frac, double(tokens_) / double(limits_.max_generated_tokens));
  return {{"budget/generations", double(generations_)},
          {"budget/generated_tokens", double(tokens_)},
          {"budget/fraction_used", frac}};
}

void Budget::restore(int64_t generations, int64_t generated_tokens) {
  generations_ = 0;
  tokens_ = 0;
  count(generations, generated_tokens);
}

}  // namespace sdz::algo
