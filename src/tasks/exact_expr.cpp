// Recursive descent over + - * / ( ) with exact fractions in 128-bit arithmetic.
#include "sdzero/tasks/exact_expr.hpp"

#include <cstdlib>

namespace sdz::tasks {

namespace {

using i128 = __int128;
constexpr i128 kLimit = i128(1) << 62;  // magnitudes beyond this are refused (no silent overflow)

i128 gcd128(i128 a, i128 b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b != 0) {
    i128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

struct Frac {
  i128 n = 0, d = 1;
};

struct Parser {
  const std::string& s;
  size_t i = 0;
  int depth = 0;
  std::string err;
  std::vector<int64_t> lits;

  explicit Parser(const std::string& text) : s(text) {}

  bool fail(const std::string& m) {
    if (err.empty()) err = m;
    return false;
  }
  void skip() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool norm(Frac& f) {
    if (f.d == 0) return fail("division by zero");
    if (f.d < 0) f.n = -f.n, f.d = -f.d;
    i128 g = gcd128(f.n, f.d);
    if (g > 1) f.n /= g, f.d /= g;
    if (f.n > kLimit || f.n < -kLimit || f.d > kLimit) return fail("number too large");
    return true;
  }
  // Returns the operator at i (consuming it) or 0. Accepts UTF-8 × and ÷.
  char peek_op(bool mul) {
    skip();
    if (i >= s.size()) return 0;
    char c = s[i];
    if (!mul && (c == '+' || c == '-')) return ++i, c;
    if (mul && (c == '*' || c == '/')) return ++i, c;
    if (mul && i + 1 < s.size() && (unsigned char)c == 0xC3) {
      unsigned char c2 = (unsigned char)s[i + 1];
      if (c2 == 0x97) return i += 2, '*';
      if (c2 == 0xB7) return i += 2, '/';
    }
    return 0;
  }
  bool expr(Frac& out) {
    if (++depth > 64) return fail("nesting too deep");
    if (!term(out)) return false;
    while (char op = peek_op(false)) {
      Frac r;
      if (!term(r)) return false;
      Frac t{op == '+' ? out.n * r.d + r.n * out.d : out.n * r.d - r.n * out.d, out.d * r.d};
      if (!norm(t)) return false;
      out = t;
    }
    --depth;
    return true;
  }
  bool term(Frac& out) {
    if (!factor(out)) return false;
    while (char op = peek_op(true)) {
      Frac r;
      if (!factor(r)) return false;
      Frac t = op == '*' ? Frac{out.n * r.n, out.d * r.d} : Frac{out.n * r.d, out.d * r.n};
      if (!norm(t)) return false;
      out = t;
    }
    return true;
  }
  bool factor(Frac& out) {
    skip();
    if (i >= s.size()) return fail("expression ends early");
    if (s[i] == '(') {
      ++i;
      if (!expr(out)) return false;
      skip();
      if (i >= s.size() || s[i] != ')') return fail("missing ')' at " + std::to_string(i));
      ++i;
      return true;
    }
    if (s[i] == '-') return fail("unary minus at " + std::to_string(i) + " is not allowed");
    size_t st = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == st) return fail(std::string("unexpected '") + s[st] + "' at " + std::to_string(st));
    if (i - st > 15) return fail("number too long at " + std::to_string(st));
    int64_t v = std::strtoll(s.substr(st, i - st).c_str(), nullptr, 10);
    lits.push_back(v);
    out = {v, 1};
    return true;
  }
};

}  // namespace

ExactValue eval_exact(const std::string& text) {
  ExactValue r;
  if (text.size() > 2000) return r.error = "expression longer than 2000 characters", r;
  Parser p(text);
  Frac f;
  bool ok = p.expr(f);
  if (ok) {
    p.skip();
    if (p.i != text.size()) ok = p.fail(std::string("unexpected '") + text[p.i] + "' at " + std::to_string(p.i));
  }
  if (!ok) return r.error = p.err, r;
  r.ok = true;
  r.num = int64_t(f.n);
  r.den = int64_t(f.d);
  r.literals = std::move(p.lits);
  return r;
}

}  // namespace sdz::tasks
