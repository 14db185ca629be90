// defines: exact evaluation of an integer arithmetic expression (+ - * / and parentheses) as a
// reduced fraction, collecting the literals it uses. Countdown's verifier is built on it. Bounded:
// input length, nesting depth and magnitudes are limited, so adversarial input gets an error, never
// a crash or a hang.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sdz::tasks {

struct ExactValue {
  bool ok = false;
  std::string error;              // set when !ok: "division by zero", "unexpected ')' at 7", ...
  int64_t num = 0, den = 1;       // reduced, den > 0
  std::vector<int64_t> literals;  // every number written, in order
};

ExactValue eval_exact(const std::string& expr);

}  // namespace sdz::tasks
