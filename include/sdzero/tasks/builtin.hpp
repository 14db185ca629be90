// defines: BuiltinTask, the synthetic tasks of the demo and the tests. Each task generates a
// question deterministically from one seed (derive it with sdz::key_seed), writes a worked solution
// (base-model pretraining), a plausible WRONG attempt and a correction that uses a failed attempt
// (revision chains), and verifies a response exactly. Everything is a plain string: this layer knows
// nothing about tokens.
//
// Formats (the char-level toy study, docs/TASKS.md):
//   div        456/8                -> 57*8=456
//   cd         3,7,2,9>21           -> 3*7=21                      (Countdown-lite: 2 of the numbers)
//   mul        4721*8               -> 1*8+0=08|2*8+0=16|7*8+1=57|4*8+5=37|#37768
//   arith      37+5*12-8            -> 5*12=60|37+60=97|97-8=89|#89
//   countdown  25,50,3,7,8,1>356    -> 50+3=53|53*7=371|...|#(50+3)*7-15   (each number at most once)
// The verification target of a built-in task is the question text itself.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sdzero/tasks/verdict.hpp"

namespace sdz::tasks {

// Difficulty knobs ([data] keys, see keys.cpp). Verification never depends on them.
struct TaskKnobs {
  int div_quotient_min = 10, div_quotient_max = 49, div_divisor_min = 2, div_divisor_max = 9;
  int cd_numbers = 4, cd_max = 9;                 // Countdown-lite: how many numbers, each 1..cd_max
  std::string cd_ops = "+-*";                     // Countdown-lite: the operators questions are built from
  int mul_digits = 4, mul_multiplier_max = 9;     // multiplicand digits; multiplier 2..max (one digit)
  int arith_ops = 3, arith_max = 99;              // operators per expression, operands 1..arith_max
  bool arith_mul = true;                          // allow '*' (evaluated first, like in school)
  int countdown_numbers = 6, countdown_target_min = 100, countdown_target_max = 999;
  bool demo_other_style = false;  // data.demo_style = other: demonstrations in another notation (div)
};

struct Problem {
  Problem() = default;
  Problem(std::string q, std::string t, std::string a, std::string w = "")
      : question(std::move(q)), target(std::move(t)), answer(std::move(a)), worked(std::move(w)) {}
  std::string question;  // what the model sees
  std::string target;    // what the verifier gets (the question itself for built-in tasks)
  std::string answer;    // the final value, for people reading data files ("57", "37768")
  std::string worked;    // countdown only: the solution built at generation (solution() returns it)
};

class BuiltinTask {
 public:
  virtual ~BuiltinTask() = default;
  virtual std::string name() const = 0;
  virtual Problem generate(uint64_t seed) const = 0;
  virtual std::string solution(const Problem& p) const = 0;
  // A plausible wrong response (never verifies): div a near-miss quotient with its true product,
  // cd another candidate, mul/arith one corrupted step propagated, countdown another combination.
  virtual std::string wrong_attempt(const Problem& p, uint64_t seed) const = 0;
  // What a reviser writes after a failed attempt; it verifies. div moves the quotient by
  // (target - value) / divisor; mul/arith redo from the attempt's first wrong step; cd/countdown
  // (no structure to reuse) write the worked solution.
  virtual std::string correction(const Problem& p, const std::string& failed) const = 0;
  // Every response in the task's own notation that verifies (the unlikelihood of the demo's self
  // chains asks where a failed attempt leaves all of them). Default: the worked solution alone; cd
  // lists each equation that hits the target, both operand orders where the operator commutes.
  virtual std::vector<std::string> correct_responses(const Problem& p) const { return {solution(p)}; }
  virtual Verdict verify(const std::string& response, const std::string& target) const = 0;
  // The demonstration a question carries (what SDFT's teacher reads): the worked solution, or with
  // data.demo_style = other a solution in another notation that reaches the same answer, as the
  // paper's demonstrations come from another model (div: long division by tens and units).
  virtual std::string demonstration(const Problem& p) const { return solution(p); }
  virtual bool has_other_style_demonstrations() const { return false; }
};

const std::vector<std::string>& builtin_task_names();  // div cd mul arith countdown
bool is_builtin_task(const std::string& name);
// Throws sdz::Error for an unknown name (listing the known ones).
std::unique_ptr<BuiltinTask> make_builtin_task(const std::string& name, const TaskKnobs& knobs = {});
// Verification only (no knobs needed); an unknown name gives reward 0 with a reason.
Verdict verify_builtin(const std::string& name, const std::string& response, const std::string& target);

// First-error hook of the self-localization diagnostic. Tasks whose correct response is unique (mul,
// div, arith: the worked solution) compare the response with it step by step, character by character:
// the result is the index of the first character of `response` that leaves the worked solution of
// `question` (every earlier character agrees with it); a response that stops early errs at its end
// (index == response.size()); -1 when the response is exactly the worked solution. nullopt when the
// task has no unique solution to compare with (cd, countdown), the name is unknown or the question
// does not parse.
std::optional<int64_t> first_error_position(const std::string& task, const std::string& response,
                                            const std::string& question);
bool has_first_error_hook(const std::string& task);

}  // namespace sdz::tasks
