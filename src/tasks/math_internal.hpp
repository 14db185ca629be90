// Private to the math verifier: the work budget (deadline + step count) and the expression values.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sdz::tasks::mathx {

struct TimeUp {};  // thrown when the budget is spent; caught at the top of math_equal

struct Budget {
  std::chrono::steady_clock::time_point deadline;
  long steps = 0;
  long max_steps = 20000000;
  void tick() {
    if (++steps > max_steps) throw TimeUp{};
    if ((steps & 1023) == 0 && std::chrono::steady_clock::now() >= deadline) throw TimeUp{};
  }
  void check_now() const {
    if (std::chrono::steady_clock::now() >= deadline) throw TimeUp{};
  }
};

// A number that stays an exact fraction while it can (|num|, den < 2^62) and becomes a double after.
struct Val {
  bool exact = true;
  __int128 n = 0, d = 1;
  double x = 0;
  double real() const { return exact ? double(n) / double(d) : x; }
};
Val make_exact(__int128 n, __int128 d);  // normalises; falls back to double on overflow
Val make_real(double x);

// A parsed expression; evaluate() with variable values (missing variables -> not evaluable).
class Expr {
 public:
  struct Node;
  Expr();
  ~Expr();
  Expr(Expr&&) noexcept;
  Expr& operator=(Expr&&) noexcept;
  // nullptr-like (ok() false) when the text is not an expression this evaluator understands.
  static Expr parse(const std::string& text, Budget& b);
  bool ok() const { return root_ >= 0; }
  const std::vector<std::string>& variables() const { return vars_; }
  // false when the value is undefined (division by zero, sqrt of a negative, ...).
  bool evaluate(const std::map<std::string, Val>& vars, Budget& b, Val& out) const;

 private:
  std::vector<Node> nodes_;
  int root_ = -1;
  std::vector<std::string> vars_;
  friend struct ExprParser;
};

}  // namespace sdz::tasks::mathx
