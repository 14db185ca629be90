// arith: multi-step integer arithmetic with a scratchpad. '*' first, then + and - left to right,
// one operation per step: "37+5*12-8" -> "5*12=60|37+60=97|97-8=89|#89".
#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/tasks/equation.hpp"
#include "task_impl.hpp"

namespace sdz::tasks {

namespace {

struct Step {
  int64_t a, b, v;
  char op;
  bool operator==(const Step& o) const { return a == o.a && b == o.b && v == o.v && op == o.op; }
};

struct Expr {
  std::vector<int64_t> nums;
  std::vector<char> ops;
};

bool parse_expr(const std::string& s, Expr& e) {
  e = {};
  if (s.empty() || s.size() > 400) return false;
  size_t i = 0;
  while (true) {
    size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    auto n = parse_int(s.substr(i, j - i));
    if (!n || j - i > 4) return false;
    e.nums.push_back(*n);
    if (j == s.size()) break;
    if (s[j] != '+' && s[j] != '-' && s[j] != '*') return false;
    e.ops.push_back(s[j]);
    i = j + 1;
  }
  return !e.ops.empty() && e.ops.size() <= 8;
}

// The steps of the school order; step `bad` gets its value moved by delta and later steps use it.
std::vector<Step> plan(Expr e, int bad = -1, int64_t delta = 0) {
  std::vector<Step> steps;
  auto apply = [&](size_t i) {
    int64_t v = *apply_op(e.nums[i], e.ops[i], e.nums[i + 1]);
    if (int(steps.size()) == bad) v += delta;
    steps.push_back({e.nums[i], e.nums[i + 1], v, e.ops[i]});
    e.nums[i] = v;
    e.nums.erase(e.nums.begin() + long(i) + 1);
    e.ops.erase(e.ops.begin() + long(i));
  };
  for (size_t i = 0; i < e.ops.size();)
    if (e.ops[i] == '*') apply(i);
    else ++i;
  while (!e.ops.empty()) apply(0);
  return steps;
}

std::string write_steps(const std::vector<Step>& s, size_t from) {
  std::string out;
  for (size_t i = from; i < s.size(); ++i)
    out += strprintf("%lld%c%lld=%lld|", (long long)s[i].a, s[i].op, (long long)s[i].b, (long long)s[i].v);
  return out + "#" + std::to_string(s.back().v);
}

// "a op b=v" with a and v possibly negative, nothing else.
bool parse_step(const std::string& t, Step& s) {
  size_t eq = t.find('=');
  if (eq == std::string::npos || eq < 3) return false;
  for (size_t k = 1; k < eq; ++k) {
    char c = t[k];
    if ((c == '+' || c == '-' || c == '*') && t[k - 1] >= '0' && t[k - 1] <= '9') {
      auto a = parse_int(t.substr(0, k)), b = parse_int(t.substr(k + 1, eq - k - 1)), v = parse_int(t.substr(eq + 1));
      if (!a || !b || !v) return false;
      s = {*a, *b, *v, c};
      return true;
    }
  }
  return false;
}

class Arith : public BuiltinTask {
 public:
  explicit Arith(const TaskKnobs& k) : k_(k) {}
  std::string name() const override { return "arith"; }
  Problem generate(uint64_t seed) const override {
    Rng r(seed);
    int n = std::max(1, std::min(8, k_.arith_ops));
    int64_t hi = std::max(2, std::min(99, k_.arith_max));
    std::string q = std::to_string(r.randint(1, hi));
    const char ops_all[] = {'+', '-', '*'};
    for (int i = 0; i < n; ++i) {
      q += ops_all[r.randint(0, k_.arith_mul ? 2 : 1)];
      q += std::to_string(r.randint(1, hi));
    }
    Expr e;
    parse_expr(q, e);
    return {q, q, std::to_string(plan(e).back().v)};
  }
  std::string solution(const Problem& p) const override {
    Expr e;
    return parse_expr(p.question, e) ? write_steps(plan(e), 0) : "";
  }
  std::string wrong_attempt(const Problem& p, uint64_t seed) const override {
    Expr e;
    if (!parse_expr(p.question, e)) return "";
    Rng r(seed);
    int bad = int(r.randint(0, int64_t(e.ops.size()) - 1));
    int64_t delta = 0;
    while (delta == 0) delta = r.randint(-9, 9);
    return write_steps(plan(e, bad, delta), 0);
  }
  std::string correction(const Problem& p, const std::string& failed) const override {
    Expr e;
    if (!parse_expr(p.question, e)) return "";
    auto good = plan(e);
    size_t h = failed.rfind('#');
    auto parts = split(failed.substr(0, h == std::string::npos ? failed.size() : h), '|');
    size_t first_bad = 0;
    while (first_bad < good.size() && first_bad < parts.size()) {
      Step s;
      if (!parse_step(parts[first_bad], s) || !(s == good[first_bad])) break;
      ++first_bad;
    }
    return write_steps(good, first_bad);
  }
  Verdict verify(const std::string& response, const std::string& target) const override {
    Expr e;
    if (!parse_expr(target, e)) return fail("malformed arith target '" + target.substr(0, 40) + "'");
    int64_t truth = plan(e).back().v;
    auto got = final_hash_answer(response);
    if (!got) return fail("no final answer #N");
    if (*got != truth) return fail(strprintf("expected %lld, got %lld", (long long)truth, (long long)*got));
    return pass();
  }

 private:
  TaskKnobs k_;
};

}  // namespace

std::unique_ptr<BuiltinTask> make_arith_task(const TaskKnobs& k) { return std::make_unique<Arith>(k); }

}  // namespace sdz::tasks
