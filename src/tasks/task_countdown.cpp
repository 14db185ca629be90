// countdown: reach the target with the given numbers, each used at most once, + - * / and
// parentheses. "25,50,3,7,8,1>356" -> "50+3=53|53*7=371|...|#(50+3)*7-15". The verifier reads the
// expression after the last '#' (else the last \boxed{}, else the last line; "expr=356" counts as
// expr), evaluates it exactly and checks the numbers it uses.
#include <algorithm>
#include <functional>

#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/tasks/equation.hpp"
#include "sdzero/tasks/exact_expr.hpp"
#include "task_impl.hpp"

namespace sdz::tasks {

namespace {

struct Item {
  int64_t v;
  std::string expr;
  int prec;  // 3 literal, 2 * /, 1 + -
};

int prec_of(char op) { return op == '+' || op == '-' ? 1 : 2; }

Item combine(const Item& a, char op, const Item& b, int64_t v) {
  int p = prec_of(op);
  bool lp = a.prec < p;
  bool rp = b.prec < p || (b.prec == p && (op == '-' || op == '/'));
  std::string e = (lp ? "(" + a.expr + ")" : a.expr) + op + (rp ? "(" + b.expr + ")" : b.expr);
  return {v, e, p};
}

std::vector<char> valid_ops(int64_t a, int64_t b) {
  std::vector<char> ops = {'+'};
  if (a > b) ops.push_back('-');
  if (a > 1 && b > 1 && a * b <= 1000000) ops.push_back('*');
  if (b > 1 && a % b == 0) ops.push_back('/');
  return ops;
}

// One random combination of a random subset; returns the steps text and the final item.
Item random_combination(const std::vector<int64_t>& nums, Rng& r, std::string& steps) {
  std::vector<Item> items;
  for (auto v : nums) items.push_back({v, std::to_string(v), 3});
  r.shuffle(items);
  items.resize(size_t(r.randint(2, int64_t(items.size()))));
  steps.clear();
  while (items.size() > 1) {
    size_t i = size_t(r.randint(0, int64_t(items.size()) - 1)), j = i;
    while (j == i) j = size_t(r.randint(0, int64_t(items.size()) - 1));
    if (items[i].v < items[j].v) std::swap(i, j);
    auto ops = valid_ops(items[i].v, items[j].v);
    char op = ops[size_t(r.randint(0, int64_t(ops.size()) - 1))];
    int64_t v = *apply_op(items[i].v, op, items[j].v);
    steps += strprintf("%lld%c%lld=%lld|", (long long)items[i].v, op, (long long)items[j].v, (long long)v);
    Item c = combine(items[i], op, items[j], v);
    items.erase(items.begin() + long(std::max(i, j)));
    items.erase(items.begin() + long(std::min(i, j)));
    items.push_back(c);
  }
  return items[0];
}

// Depth-first search over pairs with a node budget (questions read from files carry no solution).
bool solve(std::vector<Item>& items, std::vector<std::string>& steps, int64_t target, long& budget, Item& found) {
  for (const auto& it : items)
    if (it.v == target) return found = it, true;
  if (items.size() < 2 || --budget < 0) return false;
  for (size_t i = 0; i < items.size(); ++i)
    for (size_t j = 0; j < items.size(); ++j) {
      if (i == j || items[i].v < items[j].v) continue;
      for (char op : valid_ops(items[i].v, items[j].v)) {
        int64_t v = *apply_op(items[i].v, op, items[j].v);
        std::vector<Item> next;
        for (size_t k = 0; k < items.size(); ++k)
          if (k != i && k != j) next.push_back(items[k]);
        next.push_back(combine(items[i], op, items[j], v));
        steps.push_back(strprintf("%lld%c%lld=%lld", (long long)items[i].v, op, (long long)items[j].v, (long long)v));
        if (solve(next, steps, target, budget, found)) return true;
        steps.pop_back();
        if (budget < 0) return false;
      }
    }
  return false;
}

std::string extract_expression(const std::string& response) {
  std::string e;
  size_t h = response.rfind('#');
  size_t bx = response.rfind("\\boxed{");
  if (h != std::string::npos) {
    e = response.substr(h + 1);
  } else if (bx != std::string::npos) {
    size_t st = bx + 7, depth = 1, k = st;
    for (; k < response.size() && depth > 0; ++k)
      depth += response[k] == '{' ? 1 : response[k] == '}' ? size_t(-1) : 0;
    e = response.substr(st, depth == 0 ? k - 1 - st : response.size() - st);
  } else {
    auto lines = split(response, '\n');
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
      if (!trim(*it).empty()) {
        e = *it;
        break;
      }
  }
  size_t eq = e.find('=');
  if (eq != std::string::npos) e = e.substr(0, eq);
  return trim(e);
}

class Countdown : public BuiltinTask {
 public:
  explicit Countdown(const TaskKnobs& k) : k_(k) {}
  std::string name() const override { return "countdown"; }
  Problem generate(uint64_t seed) const override {
    Rng r(seed);
    int n = std::max(3, std::min(8, k_.countdown_numbers));
    const int64_t large[] = {25, 50, 75, 100};
    int n_large = int(r.randint(0, std::min(4, n / 2)));
    std::vector<int64_t> nums;
    for (int i = 0; i < n_large; ++i) nums.push_back(large[r.randint(0, 3)]);
    while (int(nums.size()) < n) nums.push_back(r.randint(1, 10));
    r.shuffle(nums);
    std::string steps;
    Item best{0, "", 3};
    for (int attempt = 0; attempt < 2000; ++attempt) {
      best = random_combination(nums, r, steps);
      if (best.v >= k_.countdown_target_min && best.v <= k_.countdown_target_max) break;
    }
    std::vector<std::string> parts;
    for (auto v : nums) parts.push_back(std::to_string(v));
    std::string q = join(parts, ",") + ">" + std::to_string(best.v);
    return {q, q, std::to_string(best.v), steps + "#" + best.expr};
  }
  std::string solution(const Problem& p) const override {
    if (!p.worked.empty()) return p.worked;
    std::vector<int64_t> n;
    int64_t t;
    if (!parse_numbers_target(p.question, n, t)) return "";
    std::vector<Item> items;
    for (auto v : n) items.push_back({v, std::to_string(v), 3});
    std::vector<std::string> steps;
    long budget = 2000000;
    Item found{0, "", 3};
    if (!solve(items, steps, t, budget, found)) return "";
    return join(steps, "|") + (steps.empty() ? "#" : "|#") + found.expr;
  }
  std::string wrong_attempt(const Problem& p, uint64_t seed) const override {
    std::vector<int64_t> n;
    int64_t t;
    if (!parse_numbers_target(p.question, n, t)) return "";
    Rng r(seed);
    std::string steps;
    for (int attempt = 0; attempt < 1000; ++attempt) {
      Item it = random_combination(n, r, steps);
      if (it.v != t) return steps + "#" + it.expr;
    }
    return "";
  }
  std::string correction(const Problem& p, const std::string&) const override { return solution(p); }
  Verdict verify(const std::string& response, const std::string& target) const override {
    std::vector<int64_t> n;
    int64_t t;
    if (!parse_numbers_target(target, n, t)) return fail("malformed countdown target '" + target.substr(0, 40) + "'");
    std::string e = extract_expression(response);
    if (e.empty()) return fail("no expression found");
    ExactValue v = eval_exact(e);
    if (!v.ok) return fail("cannot evaluate: " + v.error);
    std::vector<int64_t> left = n;
    for (int64_t x : v.literals) {
      auto it = std::find(left.begin(), left.end(), x);
      if (it == left.end()) return fail(strprintf("%lld is not available (each number at most once)", (long long)x));
      left.erase(it);
    }
    if (v.den != 1)
      return fail(strprintf("value %lld/%lld is not the target %lld", (long long)v.num, (long long)v.den, (long long)t));
    if (v.num != t) return fail(strprintf("value %lld is not the target %lld", (long long)v.num, (long long)t));
    return pass();
  }

 private:
  TaskKnobs k_;
};

}  // namespace

std::unique_ptr<BuiltinTask> make_countdown_task(const TaskKnobs& k) { return std::make_unique<Countdown>(k); }

}  // namespace sdz::tasks
