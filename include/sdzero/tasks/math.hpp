// defines: the math verifier. extract_math_answer() finds the answer in a response (the last
// \boxed{...}, brace-matched; fallbacks "the answer is ...", then the last number);
// normalize_math_answer() removes LaTeX decoration (\left \right, \dfrac, \text{}, ^\circ, \%, units,
// "x =", spacing, thousands separators, trailing punctuation); math_equal() decides equivalence by
// exact match, exact rational arithmetic, numeric evaluation with tolerance (sqrt, pi, powers,
// variables sampled at rational points) and element-wise for tuples, intervals and (unordered) sets.
// Every check has a wall-clock limit and step/size/depth bounds: no input string crashes or hangs it.
#pragma once
#include <string>

#include "sdzero/tasks/verdict.hpp"

namespace sdz::tasks {

struct MathOptions {
  double time_limit_s = 2.0;  // wall clock per check; over it the check scores 0 ("time limit")
  double rel_tol = 1e-6;      // numeric comparisons: |a-b| <= abs_tol + rel_tol * max(|a|,|b|)
  double abs_tol = 1e-9;
  size_t max_answer_chars = 1000;  // longer extracted answers compare by exact string only
};

std::string extract_math_answer(const std::string& response);  // "" when none is found
std::string normalize_math_answer(const std::string& answer);

struct MathCompare {
  bool equal = false;
  std::string rule;  // "exact match", "exact value", "numeric", "tuple", "set", "interval", "time limit", ...
};
MathCompare math_equal(const std::string& a, const std::string& b, const MathOptions& opt = {});

// response -> extract -> compare with the reference (a \boxed{} inside the reference is extracted).
Verdict verify_math(const std::string& response, const std::string& reference, const MathOptions& opt = {});

}  // namespace sdz::tasks
