// mul: scratchpad multiplication by one digit, least significant digit first.
// "4721*8" -> "1*8+0=08|2*8+0=16|7*8+1=57|4*8+5=37|#37768" (each step: digit*m+carry=two digits).
#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/tasks/equation.hpp"
#include "task_impl.hpp"

namespace sdz::tasks {

namespace {

struct MulStep {
  int64_t d, m, c, v;
  bool operator==(const MulStep& o) const { return d == o.d && m == o.m && c == o.c && v == o.v; }
};

bool parse_mul(const std::string& s, int64_t& x, int64_t& m) {
  size_t star = s.find('*');
  if (star == std::string::npos) return false;
  auto a = parse_int(s.substr(0, star)), b = parse_int(s.substr(star + 1));
  if (!a || !b || *a < 0 || *b < 0 || *a > 999999999999LL || *b > 9) return false;
  x = *a, m = *b;
  return true;
}

// Steps with an optional corruption of step `bad` (its value moved by delta, later carries follow).
std::vector<MulStep> plan(int64_t x, int64_t m, int bad = -1, int64_t delta = 0) {
  std::vector<MulStep> steps;
  int64_t c = 0;
  std::string digits = std::to_string(x);
  for (int i = int(digits.size()) - 1, k = 0; i >= 0; --i, ++k) {
    int64_t d = digits[size_t(i)] - '0';
    int64_t v = d * m + c;
    if (k == bad) v += delta;
    steps.push_back({d, m, c, v});
    c = v / 10;
  }
  return steps;
}

std::string final_of(const std::vector<MulStep>& s) {
  std::string out;
  for (auto it = s.rbegin(); it != s.rend(); ++it) out += char('0' + it->v % 10);
  if (!s.empty() && s.back().v / 10 > 0) out = std::to_string(s.back().v / 10) + out;
  size_t nz = out.find_first_not_of('0');
  return nz == std::string::npos ? "0" : out.substr(nz);
}

std::string write_steps(const std::vector<MulStep>& s, size_t from) {
  std::string out;
  for (size_t i = from; i < s.size(); ++i)
    out += strprintf("%lld*%lld+%lld=%02lld|", (long long)s[i].d, (long long)s[i].m, (long long)s[i].c,
                     (long long)s[i].v);
  return out + "#" + final_of(s);
}

// "d*m+c=v" exactly; false otherwise.
bool parse_step(const std::string& t, MulStep& s) {
  size_t star = t.find('*'), plus = t.find('+'), eq = t.find('=');
  if (star == std::string::npos || plus == std::string::npos || eq == std::string::npos) return false;
  if (!(star < plus && plus < eq)) return false;
  auto d = parse_int(t.substr(0, star)), m = parse_int(t.substr(star + 1, plus - star - 1)),
       c = parse_int(t.substr(plus + 1, eq - plus - 1)), v = parse_int(t.substr(eq + 1));
  if (!d || !m || !c || !v) return false;
  s = {*d, *m, *c, *v};
  return true;
}

class Mul : public BuiltinTask {
 public:
  explicit Mul(const TaskKnobs& k) : k_(k) {}
  std::string name() const override { return "mul"; }
  Problem generate(uint64_t seed) const override {
    Rng r(seed);
    int digits = std::max(1, std::min(12, k_.mul_digits));
    int64_t lo = 1;
    for (int i = 1; i < digits; ++i) lo *= 10;
    int64_t x = r.randint(digits == 1 ? 1 : lo, lo * 10 - 1);
    int64_t m = r.randint(2, std::max(2, std::min(9, k_.mul_multiplier_max)));
    std::string q = strprintf("%lld*%lld", (long long)x, (long long)m);
    return {q, q, std::to_string(x * m)};
  }
  std::string solution(const Problem& p) const override {
    int64_t x, m;
    return parse_mul(p.question, x, m) ? write_steps(plan(x, m), 0) : "";
  }
  std::string wrong_attempt(const Problem& p, uint64_t seed) const override {
    int64_t x, m;
    if (!parse_mul(p.question, x, m)) return "";
    Rng r(seed);
    auto good = plan(x, m);
    int bad = int(r.randint(0, int64_t(good.size()) - 1));
    int64_t delta = 0;
    while (delta == 0 || good[size_t(bad)].v + delta < 0 || good[size_t(bad)].v + delta > 99)
      delta = r.randint(-9, 9);
    return write_steps(plan(x, m, bad, delta), 0);
  }
  std::string correction(const Problem& p, const std::string& failed) const override {
    int64_t x, m;
    if (!parse_mul(p.question, x, m)) return "";
    auto good = plan(x, m);
    std::string body = failed.substr(0, failed.rfind('#') == std::string::npos ? failed.size() : failed.rfind('#'));
    auto parts = split(body, '|');
    size_t first_bad = 0;
    while (first_bad < good.size() && first_bad < parts.size()) {
      MulStep s;
      if (!parse_step(parts[first_bad], s) || !(s == good[first_bad])) break;
      ++first_bad;
    }
    return write_steps(good, first_bad);  // redo from the first wrong step; all steps right: just "#N"
  }
  Verdict verify(const std::string& response, const std::string& target) const override {
    int64_t x, m;
    if (!parse_mul(target, x, m)) return fail("malformed mul target '" + target.substr(0, 40) + "'");
    auto got = final_hash_answer(response);
    if (!got) return fail("no final answer #N");
    if (*got != x * m) return fail(strprintf("expected %lld, got %lld", (long long)(x * m), (long long)*got));
    return pass();
  }

 private:
  TaskKnobs k_;
};

}  // namespace

std::unique_ptr<BuiltinTask> make_mul_task(const TaskKnobs& k) { return std::make_unique<Mul>(k); }

}  // namespace sdz::tasks
