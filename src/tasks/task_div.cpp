// div: guess-and-check division. "456/8" -> "57*8=456".
#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/tasks/equation.hpp"
#include "task_impl.hpp"

namespace sdz::tasks {

namespace {

struct DivQ {
  int64_t n = 0, d = 0;
};
bool parse_div(const std::string& s, DivQ& q) {
  size_t slash = s.find('/');
  if (slash == std::string::npos) return false;
  auto n = parse_int(s.substr(0, slash)), d = parse_int(s.substr(slash + 1));
  if (!n || !d || *d <= 0 || *n < 0 || *n % *d != 0) return false;
  q.n = *n, q.d = *d;
  return true;
}

std::string eq(int64_t q, int64_t d) { return strprintf("%lld*%lld=%lld", (long long)q, (long long)d, (long long)(q * d)); }

class Div : public BuiltinTask {
 public:
  explicit Div(const TaskKnobs& k) : k_(k) {}
  std::string name() const override { return "div"; }
  Problem generate(uint64_t seed) const override {
    Rng r(seed);
    int64_t q = r.randint(k_.div_quotient_min, k_.div_quotient_max);
    int64_t d = r.randint(k_.div_divisor_min, k_.div_divisor_max);
    std::string s = strprintf("%lld/%lld", (long long)(q * d), (long long)d);
    return {s, s, std::to_string(q)};
  }
  std::string solution(const Problem& p) const override {
    DivQ q;
    if (!parse_div(p.question, q)) return "";
    return eq(q.n / q.d, q.d);
  }
  // Long division, tens then units: "456/8" -> "8*50=400|456-400=56|8*7=56|50+7=57". The same answer
  // in a notation the pretraining never shows (its last equation is an addition, which the verifier
  // would not accept as an answer: the teacher has to read it, not copy it).
  std::string demonstration(const Problem& p) const override {
    if (!k_.demo_other_style) return solution(p);
    DivQ q;
    if (!parse_div(p.question, q)) return "";
    const int64_t quot = q.n / q.d, tens = quot / 10 * 10, units = quot - tens, rest = q.n - tens * q.d;
    return strprintf("%lld*%lld=%lld|%lld-%lld=%lld|%lld*%lld=%lld|%lld+%lld=%lld", (long long)q.d, (long long)tens,
                     (long long)(tens * q.d), (long long)q.n, (long long)(tens * q.d), (long long)rest, (long long)q.d,
                     (long long)units, (long long)(units * q.d), (long long)tens, (long long)units, (long long)quot);
  }
  bool has_other_style_demonstrations() const override { return true; }
  std::string wrong_attempt(const Problem& p, uint64_t seed) const override {
    DivQ q;
    if (!parse_div(p.question, q)) return "";
    Rng r(seed);
    int64_t good = q.n / q.d, guess = good;
    while (guess == good || guess < 1) guess = good + r.randint(-3, 3);
    return eq(guess, q.d);  // a near miss, with its TRUE product: the value is right, the target is not
  }
  std::string correction(const Problem& p, const std::string& failed) const override {
    DivQ q;
    if (!parse_div(p.question, q)) return "";
    auto e = last_equation(failed);
    int64_t good = q.n / q.d;
    if (!e || e->op != '*' || (e->b != q.d && e->a != q.d)) return solution(p);
    int64_t guess = e->b == q.d ? e->a : e->b;
    int64_t value = guess * q.d;  // the true product, whatever the attempt wrote
    if (value == q.n) return eq(good, q.d);
    // Move the quotient by (target - value) / divisor, written as steps the verifier can read.
    int64_t diff = q.n - value, k = (diff < 0 ? -diff : diff) / q.d;
    if (diff > 0)
      return strprintf("%lld-%lld=%lld|%lld/%lld=%lld|%lld+%lld=%lld|", (long long)q.n, (long long)value,
                       (long long)diff, (long long)diff, (long long)q.d, (long long)k, (long long)guess,
                       (long long)k, (long long)good) + eq(good, q.d);
    return strprintf("%lld-%lld=%lld|%lld/%lld=%lld|%lld-%lld=%lld|", (long long)value, (long long)q.n,
                     (long long)-diff, (long long)-diff, (long long)q.d, (long long)k, (long long)guess,
                     (long long)k, (long long)good) + eq(good, q.d);
  }
  Verdict verify(const std::string& response, const std::string& target) const override {
    DivQ q;
    if (!parse_div(target, q)) return fail("malformed div target '" + target.substr(0, 40) + "'");
    auto e = last_equation(response);
    if (!e) return fail("no equation a*b=v found");
    if (e->op != '*') return fail("last equation " + e->text + " is not a multiplication");
    if (e->a != q.d && e->b != q.d) return fail("last equation " + e->text + " does not use the divisor");
    int64_t truth = e->a * e->b;
    if (e->v != truth) return fail(strprintf("arithmetic: %s, true value %lld", e->text.c_str(), (long long)truth));
    if (e->v != q.n) return fail(strprintf("value %lld is not the target %lld", (long long)e->v, (long long)q.n));
    return pass();
  }

 private:
  TaskKnobs k_;
};

}  // namespace

std::unique_ptr<BuiltinTask> make_div_task(const TaskKnobs& k) { return std::make_unique<Div>(k); }

}  // namespace sdz::tasks
