// cd: Countdown-lite. "3,7,2,9>21" -> "3*7=21": two of the numbers and one of + - * reach the target.
#include <algorithm>

#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/tasks/equation.hpp"
#include "task_impl.hpp"

namespace sdz::tasks {

namespace {

struct Cand {
  int64_t a, b, v;
  char op;
};

std::string write(const Cand& c) {
  return strprintf("%lld%c%lld=%lld", (long long)c.a, c.op, (long long)c.b, (long long)c.v);
}

// Every pair of positions i < j with each operator of ops, in the order + - * (subtraction larger
// first, positive results only).
std::vector<Cand> candidates(const std::vector<int64_t>& n, const std::string& ops) {
  const auto has = [&](char op) { return ops.find(op) != std::string::npos; };
  std::vector<Cand> out;
  for (size_t i = 0; i < n.size(); ++i)
    for (size_t j = i + 1; j < n.size(); ++j) {
      int64_t a = n[i], b = n[j];
      if (has('+')) out.push_back({a, b, a + b, '+'});
      if (has('-') && a != b) out.push_back({std::max(a, b), std::min(a, b), std::max(a, b) - std::min(a, b), '-'});
      if (has('*')) out.push_back({a, b, a * b, '*'});
    }
  return out;
}

class Cd : public BuiltinTask {
 public:
  explicit Cd(const TaskKnobs& k) : k_(k) {}
  std::string name() const override { return "cd"; }
  Problem generate(uint64_t seed) const override {
    Rng r(seed);
    std::vector<int64_t> n(size_t(std::max(2, k_.cd_numbers)));
    std::vector<Cand> c;
    while (c.empty()) {  // only "-" with equal numbers has no candidate; the default draws once
      for (auto& x : n) x = r.randint(1, std::max(2, k_.cd_max));
      c = candidates(n, k_.cd_ops);
    }
    const Cand& pick = c[size_t(r.randint(0, int64_t(c.size()) - 1))];
    std::vector<std::string> parts;
    for (auto x : n) parts.push_back(std::to_string(x));
    std::string q = join(parts, ",") + ">" + std::to_string(pick.v);
    return {q, q, std::to_string(pick.v)};
  }
  std::string solution(const Problem& p) const override {
    std::vector<int64_t> n;
    int64_t t;
    if (!parse_numbers_target(p.question, n, t)) return "";
    for (const auto& c : candidates(n, k_.cd_ops))
      if (c.v == t) return write(c);
    return "";
  }
  // data.demo_style = other: where several equations hit the target, one of the others than the worked
  // solution (by a hash of the question), the first in the search order the pretraining teaches. A
  // correct answer in the same notation that the base was not taught to write for this question, as a
  // demonstration from another model would be; a question with one answer keeps it.
  std::string demonstration(const Problem& p) const override {
    const std::string own = solution(p);
    std::vector<int64_t> n;
    int64_t t;
    if (!k_.demo_other_style || !parse_numbers_target(p.question, n, t)) return own;
    std::vector<std::string> others;
    for (const auto& c : candidates(n, k_.cd_ops))
      if (c.v == t && write(c) != own && std::find(others.begin(), others.end(), write(c)) == others.end())
        others.push_back(write(c));
    if (others.empty()) return own;
    return others[hash_string(p.question) % others.size()];
  }
  bool has_other_style_demonstrations() const override { return true; }
  std::string wrong_attempt(const Problem& p, uint64_t seed) const override {
    std::vector<int64_t> n;
    int64_t t;
    if (!parse_numbers_target(p.question, n, t)) return "";
    std::vector<Cand> wrong;
    for (const auto& c : candidates(n, k_.cd_ops))
      if (c.v != t) wrong.push_back(c);
    if (wrong.empty()) return "";
    Rng r(seed);
    return write(wrong[size_t(r.randint(0, int64_t(wrong.size()) - 1))]);
  }
  // The correct candidate nearest the failed attempt, in the generator's own one-equation format (a
  // revision in another format would give phase 2 a teacher that scores tokens the student never
  // writes): a slip's own equation with its true value first, then the same two numbers with another
  // operator, then one number kept; the worked solution's order breaks ties. What the attempt shows
  // (its numbers, its value against the target) is what a reviser can use and a fresh sample cannot.
  std::string correction(const Problem& p, const std::string& failed) const override {
    std::vector<int64_t> n;
    int64_t t;
    if (!parse_numbers_target(p.question, n, t)) return "";
    auto e = last_equation(failed);
    if (!e) return solution(p);
    Cand best{0, 0, 0, '+'};
    int best_score = -1;
    for (const auto& c : candidates(n, k_.cd_ops)) {
      if (c.v != t) continue;
      std::vector<int64_t> tried = {e->a, e->b};
      int shared = 0;
      for (int64_t x : {c.a, c.b}) {
        auto it = std::find(tried.begin(), tried.end(), x);
        if (it != tried.end()) ++shared, tried.erase(it);
      }
      const int score = 2 * shared + (c.op == e->op ? 1 : 0);
      if (score > best_score) best = c, best_score = score;
    }
    return best_score < 0 ? solution(p) : write(best);
  }
  std::vector<std::string> correct_responses(const Problem& p) const override {
    std::vector<int64_t> n;
    int64_t t;
    std::vector<std::string> out;
    if (!parse_numbers_target(p.question, n, t)) return out;
    auto add = [&](const Cand& c) {
      if (std::find(out.begin(), out.end(), write(c)) == out.end()) out.push_back(write(c));
    };
    for (const auto& c : candidates(n, k_.cd_ops)) {
      if (c.v != t) continue;
      add(c);
      if (c.op != '-') add({c.b, c.a, c.v, c.op});
    }
    return out;
  }
  Verdict verify(const std::string& response, const std::string& target) const override {
    std::vector<int64_t> n;
    int64_t t;
    if (!parse_numbers_target(target, n, t)) return fail("malformed cd target '" + target.substr(0, 40) + "'");
    auto e = last_equation(response);
    if (!e) return fail("no equation a op b=v found");
    if (e->op == '/') return fail("division is not allowed");
    std::vector<int64_t> left = n;
    for (int64_t x : {e->a, e->b}) {
      auto it = std::find(left.begin(), left.end(), x);
      if (it == left.end()) return fail(strprintf("%lld is not an available number", (long long)x));
      left.erase(it);
    }
    int64_t truth = *apply_op(e->a, e->op, e->b);
    if (e->v != truth) return fail(strprintf("arithmetic: %s, true value %lld", e->text.c_str(), (long long)truth));
    if (e->v != t) return fail(strprintf("value %lld is not the target %lld", (long long)e->v, (long long)t));
    return pass();
  }

 private:
  TaskKnobs k_;
};

}  // namespace

std::unique_ptr<BuiltinTask> make_cd_task(const TaskKnobs& k) { return std::make_unique<Cd>(k); }

}  // namespace sdz::tasks
