// The math verifier's expression reader: LaTeX-flavoured arithmetic (\frac \sqrt \pi \cdot \times,
// powers, implicit multiplication, functions, |x|, n!, variables) parsed into a node array and
// evaluated as exact fractions where possible, doubles otherwise. Depth, size and time are bounded.
#include <cmath>
#include <cstring>

#include "math_internal.hpp"

namespace sdz::tasks::mathx {

namespace {
using i128 = __int128;
constexpr i128 kLim = i128(1) << 62;
i128 absv(i128 a) { return a < 0 ? -a : a; }
i128 gcd128(i128 a, i128 b) {
  a = absv(a), b = absv(b);
  while (b != 0) {
    i128 t = a % b;
    a = b, b = t;
  }
  return a;
}
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

const char* const kFunctions[] = {"sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan",
                                  "sinh", "cosh", "tanh", "ln", "log", "exp"};
const char* const kGreek[] = {"alpha", "beta", "gamma", "delta", "epsilon", "theta", "lambda", "mu",
                              "phi", "varphi", "psi", "omega", "sigma", "tau", "rho", "eta", "zeta", "xi"};
bool in(const char* const* list, size_t n, const std::string& s) {
  for (size_t k = 0; k < n; ++k)
    if (s == list[k]) return true;
  return false;
}
bool is_function(const std::string& s) { return in(kFunctions, sizeof(kFunctions) / sizeof(*kFunctions), s); }
bool is_greek(const std::string& s) { return in(kGreek, sizeof(kGreek) / sizeof(*kGreek), s); }
}  // namespace

Val make_exact(i128 n, i128 d) {
  if (d == 0) return make_real(NAN);
  if (d < 0) n = -n, d = -d;
  i128 g = gcd128(n, d);
  if (g > 1) n /= g, d /= g;
  if (absv(n) >= kLim || d >= kLim) return make_real(double(n) / double(d));
  Val v;
  v.exact = true, v.n = n, v.d = d, v.x = double(n) / double(d);
  return v;
}

Val make_real(double x) {
  Val v;
  v.exact = false, v.x = x;
  return v;
}

struct Expr::Node {
  enum Kind { Num, Var, Add, Sub, Mul, Div, Pow, Neg, Fn, Fact, Sqrt, Binom, Log } k = Num;
  Val v;
  std::string name;
  int a = -1, b = -1;
};

Expr::Expr() = default;
Expr::~Expr() = default;
Expr::Expr(Expr&&) noexcept = default;
Expr& Expr::operator=(Expr&&) noexcept = default;

struct Fail {};

struct ExprParser {
  const std::string& s;
  Budget& bud;
  Expr& e;
  size_t i = 0;
  int depth = 0;

  int add(Expr::Node::Kind k, int a = -1, int b = -1) {
    bud.tick();
    if (e.nodes_.size() > 20000) throw Fail{};
    Expr::Node n;
    n.k = k, n.a = a, n.b = b;
    e.nodes_.push_back(std::move(n));
    return int(e.nodes_.size()) - 1;
  }
  int num(Val v) {
    int id = add(Expr::Node::Num);
    e.nodes_[size_t(id)].v = v;
    return id;
  }
  void skip() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
  }
  bool at(char c) {
    skip();
    return i < s.size() && s[i] == c;
  }
  void expect(char c) {
    if (!at(c)) throw Fail{};
    ++i;
  }
  std::string peek_command() {
    skip();
    if (i >= s.size() || s[i] != '\\') return "";
    size_t j = i + 1;
    while (j < s.size() && is_letter(s[j])) ++j;
    return s.substr(i + 1, j - i - 1);
  }
  void take_command(const std::string& c) { i += 1 + c.size(); }

  struct DepthGuard {
    ExprParser& p;
    explicit DepthGuard(ExprParser& q) : p(q) {
      if (++p.depth > 150) throw Fail{};
    }
    ~DepthGuard() { --p.depth; }
  };

  int expr() {
    DepthGuard g(*this);
    int left;
    if (at('+')) ++i;
    if (at('-')) {
      ++i;
      left = add(Expr::Node::Neg, term());
    } else {
      left = term();
    }
    while (true) {
      if (at('+')) ++i, left = add(Expr::Node::Add, left, term());
      else if (at('-')) ++i, left = add(Expr::Node::Sub, left, term());
      else break;
    }
    return left;
  }
  bool starts_primary() {
    skip();
    if (i >= s.size()) return false;
    char c = s[i];
    if (is_digit(c) || c == '.' || c == '(' || c == '[' || c == '{' || is_letter(c)) return true;
    if (c != '\\') return false;
    std::string cmd = peek_command();
    return cmd == "frac" || cmd == "sqrt" || cmd == "pi" || cmd == "binom" || is_function(cmd) || is_greek(cmd);
  }
  int term() {
    int left = factor();
    while (true) {
      std::string cmd = peek_command();
      if (at('*')) ++i, left = add(Expr::Node::Mul, left, factor());
      else if (at('/')) ++i, left = add(Expr::Node::Div, left, factor());
      else if (cmd == "cdot" || cmd == "times") take_command(cmd), left = add(Expr::Node::Mul, left, factor());
      else if (cmd == "div") take_command(cmd), left = add(Expr::Node::Div, left, factor());
      else if (starts_primary()) left = add(Expr::Node::Mul, left, power());
      else break;
    }
    return left;
  }
  int factor() {
    DepthGuard g(*this);
    if (at('-')) return ++i, add(Expr::Node::Neg, factor());
    if (at('+')) return ++i, factor();
    return power();
  }
  int power() {
    int base = postfix();
    if (at('^')) {
      ++i;
      int ex = at('{') ? group() : factor();
      return add(Expr::Node::Pow, base, ex);
    }
    return base;
  }
  int postfix() {
    int p = primary();
    while (at('!')) ++i, p = add(Expr::Node::Fact, p);
    return p;
  }
  int group() {  // {expr} or a single digit / letter (\frac12)
    skip();
    if (at('{')) {
      ++i;
      int v = expr();
      expect('}');
      return v;
    }
    if (i < s.size() && is_digit(s[i])) return num(make_exact(s[i++] - '0', 1));
    if (i < s.size() && is_letter(s[i])) return variable(std::string(1, s[i++]));
    throw Fail{};
  }
  int variable(const std::string& name) {
    std::string n = name;
    if (i < s.size() && s[i] == '_') {  // x_1, x_{12}
      ++i;
      if (i < s.size() && s[i] == '{') {
        size_t close = s.find('}', i);
        if (close == std::string::npos || close - i > 20) throw Fail{};
        n += "_" + s.substr(i + 1, close - i - 1);
        i = close + 1;
      } else if (i < s.size() && (is_digit(s[i]) || is_letter(s[i]))) {
        n += std::string("_") + s[i++];
      } else {
        throw Fail{};
      }
    }
    int id = add(Expr::Node::Var);
    e.nodes_[size_t(id)].name = n;
    bool seen = false;
    for (const auto& v : e.vars_) seen |= v == n;
    if (!seen) {
      if (e.vars_.size() >= 8) throw Fail{};
      e.vars_.push_back(n);
    }
    return id;
  }
  int number() {
    size_t st = i;
    i128 n = 0, d = 1;
    int digits = 0;
    bool exact = true;
    while (i < s.size() && is_digit(s[i])) {
      if (++digits > 30) exact = false;
      else n = n * 10 + (s[i] - '0');
      ++i;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && is_digit(s[i])) {
        if (++digits > 30) exact = false;
        else n = n * 10 + (s[i] - '0'), d *= 10;
        ++i;
      }
    }
    if (digits == 0) throw Fail{};
    long ex = 0;
    if (i + 1 < s.size() && (s[i] == 'e' || s[i] == 'E')) {  // scientific, only when digits follow
      size_t j = i + 1;
      bool neg = false;
      if (j < s.size() && (s[j] == '+' || s[j] == '-')) neg = s[j] == '-', ++j;
      if (j < s.size() && is_digit(s[j])) {
        size_t k = j;
        while (k < s.size() && is_digit(s[k]) && k - j < 6) ex = ex * 10 + (s[k++] - '0');
        if (k < s.size() && is_digit(s[k])) throw Fail{};
        if (neg) ex = -ex;
        i = k;
      }
    }
    if (!exact) return num(make_real(std::strtod(s.substr(st, i - st).c_str(), nullptr)));
    Val v = make_exact(n, d);
    if (ex != 0) {
      if (std::labs(ex) > 30) return num(make_real(v.real() * std::pow(10.0, double(ex))));
      i128 p = 1;
      for (long k = 0; k < std::labs(ex); ++k) p *= 10;
      v = ex > 0 ? make_exact(v.n * p, v.d) : make_exact(v.n, v.d * p);
    }
    return num(v);
  }
  int primary() {
    DepthGuard g(*this);
    skip();
    if (i >= s.size()) throw Fail{};
    char c = s[i];
    if (is_digit(c) || c == '.') return number();
    if (c == '(' || c == '[' || c == '{') {
      char close = c == '(' ? ')' : c == '[' ? ']' : '}';
      ++i;
      int v = expr();
      expect(close);
      return v;
    }
    if (c == '|') {
      ++i;
      int v = expr();
      expect('|');
      int id = add(Expr::Node::Fn, v);
      e.nodes_[size_t(id)].name = "abs";
      return id;
    }
    if (c == 'e' && !(i + 1 < s.size() && s[i + 1] == '_')) return ++i, num(make_real(M_E));
    if (is_letter(c)) return ++i, variable(std::string(1, c));
    if (c != '\\') throw Fail{};
    std::string cmd = peek_command();
    take_command(cmd);
    if (cmd == "frac") {
      int a = group();
      int b = group();
      return add(Expr::Node::Div, a, b);
    }
    if (cmd == "binom") {
      int a = group();
      int b = group();
      return add(Expr::Node::Binom, a, b);
    }
    if (cmd == "sqrt") {
      int index = -1;
      if (at('[')) {
        ++i;
        index = expr();
        expect(']');
      }
      int arg = at('{') ? group() : postfix();
      return index < 0 ? add(Expr::Node::Sqrt, arg) : add(Expr::Node::Pow, arg, add(Expr::Node::Div, num(make_exact(1, 1)), index));
    }
    if (cmd == "pi") return num(make_real(M_PI));
    if (is_greek(cmd)) return variable("\\" + cmd);
    if (is_function(cmd)) {
      int base = -1;
      if (cmd == "log" && at('_')) ++i, base = group();
      int pw = -1;
      if (at('^')) ++i, pw = at('{') ? group() : factor();
      int arg = power();
      int f;
      if (base >= 0) {
        f = add(Expr::Node::Log, arg, base);
      } else {
        f = add(Expr::Node::Fn, arg);
        e.nodes_[size_t(f)].name = cmd;
      }
      return pw >= 0 ? add(Expr::Node::Pow, f, pw) : f;
    }
    throw Fail{};
  }
};

Expr Expr::parse(const std::string& text, Budget& b) {
  Expr e;
  if (text.empty() || text.size() > 2000) return e;
  ExprParser p{text, b, e};
  try {
    int root = p.expr();
    p.skip();
    if (p.i != text.size()) return Expr();
    e.root_ = root;
  } catch (const Fail&) {
    return Expr();
  }
  return e;
}

namespace {

bool finite(const Val& v) { return v.exact || std::isfinite(v.x); }

Val op_add(const Val& a, const Val& b, bool sub) {
  if (a.exact && b.exact) return make_exact(sub ? a.n * b.d - b.n * a.d : a.n * b.d + b.n * a.d, a.d * b.d);
  return make_real(sub ? a.real() - b.real() : a.real() + b.real());
}
Val op_mul(const Val& a, const Val& b) {
  if (a.exact && b.exact) return make_exact(a.n * b.n, a.d * b.d);
  return make_real(a.real() * b.real());
}
bool op_div(const Val& a, const Val& b, Val& out) {
  if (b.exact ? b.n == 0 : b.x == 0) return false;
  out = a.exact && b.exact ? make_exact(a.n * b.d, a.d * b.n) : make_real(a.real() / b.real());
  return true;
}
bool exact_root(i128 v, i128& r) {  // integer square root when v is a perfect square
  if (v < 0) return false;
  i128 g = i128(std::llround(std::sqrt(double(v))));
  for (i128 c = g - 2; c <= g + 2; ++c)
    if (c >= 0 && c * c == v) return r = c, true;
  return false;
}
bool op_pow(const Val& a, const Val& b, Budget& bud, Val& out) {
  if (a.exact && b.exact && b.d == 1 && absv(b.n) <= 256) {
    long k = long(absv(b.n));
    Val r = make_exact(1, 1), base = a;
    for (long t = 0; t < k; ++t) {
      bud.tick();
      r = op_mul(r, base);
      if (!r.exact && !std::isfinite(r.x)) break;
    }
    if (b.n < 0) return op_div(make_exact(1, 1), r, out);
    return out = r, true;
  }
  if (a.exact && b.exact && b.d == 2 && b.n > 0 && b.n <= 256) {  // square roots of perfect squares stay exact
    i128 rn, rd;
    if (exact_root(a.n, rn) && exact_root(a.d, rd)) return op_pow(make_exact(rn, rd), make_exact(b.n, 1), bud, out);
  }
  double x = std::pow(a.real(), b.real());
  if (!std::isfinite(x)) return false;
  return out = make_real(x), true;
}

}  // namespace

bool Expr::evaluate(const std::map<std::string, Val>& vars, Budget& b, Val& out) const {
  if (root_ < 0) return false;
  // Children always precede parents in nodes_, so one forward pass evaluates the whole tree without
  // recursion (no stack depth to worry about).
  std::vector<Val> val(nodes_.size());
  std::vector<char> okv(nodes_.size(), 0);
  for (size_t k = 0; k < nodes_.size(); ++k) {
    b.tick();
    const Node& n = nodes_[k];
    const Val* A = n.a >= 0 && okv[size_t(n.a)] ? &val[size_t(n.a)] : nullptr;
    const Val* B = n.b >= 0 && okv[size_t(n.b)] ? &val[size_t(n.b)] : nullptr;
    if ((n.a >= 0 && !A) || (n.b >= 0 && !B)) continue;
    Val r;
    bool good = true;
    switch (n.k) {
      case Node::Num: r = n.v; break;
      case Node::Var: {
        auto it = vars.find(n.name);
        if (it == vars.end()) good = false;
        else r = it->second;
        break;
      }
      case Node::Add: r = op_add(*A, *B, false); break;
      case Node::Sub: r = op_add(*A, *B, true); break;
      case Node::Mul: r = op_mul(*A, *B); break;
      case Node::Div: good = op_div(*A, *B, r); break;
      case Node::Pow: good = op_pow(*A, *B, b, r); break;
      case Node::Neg: r = A->exact ? make_exact(-A->n, A->d) : make_real(-A->x); break;
      case Node::Sqrt: good = op_pow(*A, make_exact(1, 2), b, r) && A->real() >= 0; break;
      case Node::Fact: {
        if (!A->exact || A->d != 1 || A->n < 0 || A->n > 20) { good = false; break; }
        i128 f = 1;
        for (i128 t = 2; t <= A->n; ++t) f *= t;
        r = make_exact(f, 1);
        break;
      }
      case Node::Binom: {
        if (!A->exact || !B->exact || A->d != 1 || B->d != 1 || B->n < 0 || B->n > A->n || A->n > 60) {
          good = false;
          break;
        }
        i128 c = 1;
        for (i128 t = 1; t <= B->n; ++t) c = c * (A->n - B->n + t) / t;
        r = make_exact(c, 1);
        break;
      }
      case Node::Log: {
        double x = A->real(), base = B->real();
        if (x <= 0 || base <= 0 || base == 1) { good = false; break; }
        r = make_real(std::log(x) / std::log(base));
        break;
      }
      case Node::Fn: {
        double x = A->real(), y = NAN;
        const std::string& f = n.name;
        if (f == "abs") { r = A->exact ? make_exact(absv(A->n), A->d) : make_real(std::fabs(A->x)); break; }
        if (f == "sin") y = std::sin(x);
        else if (f == "cos") y = std::cos(x);
        else if (f == "tan") y = std::tan(x);
        else if (f == "sec") y = 1 / std::cos(x);
        else if (f == "csc") y = 1 / std::sin(x);
        else if (f == "cot") y = 1 / std::tan(x);
        else if (f == "arcsin") y = std::asin(x);
        else if (f == "arccos") y = std::acos(x);
        else if (f == "arctan") y = std::atan(x);
        else if (f == "sinh") y = std::sinh(x);
        else if (f == "cosh") y = std::cosh(x);
        else if (f == "tanh") y = std::tanh(x);
        else if (f == "ln" || f == "log") y = x > 0 ? std::log(x) : NAN;
        else if (f == "exp") y = std::exp(x);
        r = make_real(y);
        break;
      }
    }
    if (good && finite(r)) val[k] = r, okv[k] = 1;
  }
  if (!okv[size_t(root_)]) return false;
  out = val[size_t(root_)];
  return true;
}

}  // namespace sdz::tasks::mathx
