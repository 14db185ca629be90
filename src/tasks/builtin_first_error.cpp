// Where a response to a built-in task first goes wrong (see first_error_position in builtin.hpp).
// The tasks with a unique correct response (their worked solution) are checked against it; the
// others have several correct responses, so "the first error" is not defined for them.
#include <algorithm>

#include "sdzero/tasks/builtin.hpp"

namespace sdz::tasks {

bool has_first_error_hook(const std::string& task) { return task == "mul" || task == "div" || task == "arith"; }

std::optional<int64_t> first_error_position(const std::string& task, const std::string& response,
                                            const std::string& question) {
  if (!has_first_error_hook(task)) return std::nullopt;
  // The default knobs: a solution depends on the question text only, never on generation knobs.
  static const TaskKnobs defaults;
  thread_local std::unique_ptr<BuiltinTask> mul, div, arith;
  std::unique_ptr<BuiltinTask>& slot = task == "mul" ? mul : task == "div" ? div : arith;
  if (!slot) slot = make_builtin_task(task, defaults);
  const std::string worked = slot->solution(Problem(question, question, ""));
  if (worked.empty()) return std::nullopt;  // the question does not parse
  // Each character of the worked solution is forced by the ones before it (the digit, the
  // multiplier, the carry, the step value, then the next step), so the step-by-step check is the
  // first character where the response and the worked solution differ.
  const size_t n = std::min(worked.size(), response.size());
  for (size_t i = 0; i < n; ++i)
    if (response[i] != worked[i]) return int64_t(i);
  if (response.size() == worked.size()) return -1;
  return int64_t(n);  // stopped early (n == response.size()) or went on past the answer
}

}  // namespace sdz::tasks
