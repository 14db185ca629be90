// Math equivalence: structure first (unions, sets, tuples/intervals, lists), then scalars by exact
// match, exact fractions, or numeric evaluation with tolerance (variables sampled at rational points).
#include <algorithm>
#include <cctype>
#include <cmath>

#include "math_internal.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/tasks/math.hpp"

namespace sdz::tasks {

namespace {

using mathx::Budget;
using mathx::Expr;
using mathx::Val;

struct Ctx {
  const MathOptions& opt;
  Budget& bud;
  std::string rule;
};

bool is_open(char c) { return c == '(' || c == '[' || c == '{'; }
bool is_close(char c) { return c == ')' || c == ']' || c == '}'; }

// Split at top-level occurrences of sep (depth counts ( [ { and \{ \} alike).
std::vector<std::string> split_top(const std::string& s, const std::string& sep, Budget& b) {
  std::vector<std::string> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    b.tick();
    char c = s[k];
    if (c == '\\' && k + 1 < s.size() && (s[k + 1] == '{' || s[k + 1] == '}')) {
      depth += s[k + 1] == '{' ? 1 : -1;
      ++k;
      continue;
    }
    if (is_open(c)) ++depth;
    else if (is_close(c)) --depth;
    else if (depth == 0 && s.compare(k, sep.size(), sep) == 0) {
      parts.push_back(s.substr(start, k - start));
      start = k + sep.size();
      k = start - 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

// True when s[0] is an opening bracket whose partner (of any kind) is the last character.
bool one_group(const std::string& s, Budget& b) {
  if (s.size() < 2 || !(s[0] == '(' || s[0] == '[') || !(s.back() == ')' || s.back() == ']')) return false;
  int depth = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    b.tick();
    if (is_open(s[k])) ++depth;
    else if (is_close(s[k]) && --depth == 0) return k + 1 == s.size();
  }
  return false;
}

bool is_thousands(const std::string& s) {
  size_t k = s[0] == '-' ? 1 : 0;
  size_t comma = s.find(',', k);
  if (comma == std::string::npos || comma - k == 0 || comma - k > 3) return false;
  for (size_t j = k; j < comma; ++j)
    if (!std::isdigit((unsigned char)s[j])) return false;
  size_t p = comma;
  while (p < s.size() && s[p] == ',') {
    for (size_t j = p + 1; j <= p + 3; ++j)
      if (j >= s.size() || !std::isdigit((unsigned char)s[j])) return false;
    p += 4;
  }
  if (p == s.size()) return true;
  if (s[p] != '.') return false;
  for (size_t j = p + 1; j < s.size(); ++j)
    if (!std::isdigit((unsigned char)s[j])) return false;
  return p + 1 < s.size();
}

std::string drop_commas(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ','), s.end());
  return s;
}

// "x=5" -> "5", "f(x)=x^2" -> "x^2" when the left side is a name (letters, digits, _, braces, \cmd).
std::string strip_lhs(const std::string& s) {
  size_t eq = s.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 >= s.size()) return s;
  std::string lhs = s.substr(0, eq);
  bool name = std::isalpha((unsigned char)lhs[0]) || lhs[0] == '\\';
  for (char c : lhs)
    name &= std::isalnum((unsigned char)c) || c == '_' || c == '{' || c == '}' || c == '\\' || c == '(' ||
            c == ')' || c == '=' || c == '\'';
  return name ? s.substr(eq + 1) : s;
}

bool close_enough(const Val& x, const Val& y, const MathOptions& o) {
  if (x.exact && y.exact) return x.n == y.n && x.d == y.d;
  double a = x.real(), b = y.real();
  return std::fabs(a - b) <= o.abs_tol + o.rel_tol * std::max(std::fabs(a), std::fabs(b));
}

bool all_letters(const std::string& s) {
  if (s.size() < 2) return false;
  for (char c : s)
    if (!std::isalpha((unsigned char)c)) return false;
  return true;
}

// A plain decimal literal in canonical form ("-0012.500" -> "-12.5"), "" for anything else; lets
// integers of any length compare exactly, beyond what fractions in 128 bits hold.
std::string canonical_decimal(const std::string& s) {
  size_t k = s[0] == '-' ? 1 : 0;
  std::string ip, fp;
  bool dot = false;
  for (size_t j = k; j < s.size(); ++j) {
    if (s[j] == '.' && !dot) dot = true;
    else if (std::isdigit((unsigned char)s[j])) (dot ? fp : ip) += s[j];
    else return "";
  }
  if (ip.empty() && fp.empty()) return "";
  ip.erase(0, std::min(ip.find_first_not_of('0'), ip.size()));
  while (!fp.empty() && fp.back() == '0') fp.pop_back();
  std::string out = (ip.empty() ? "0" : ip) + (fp.empty() ? "" : "." + fp);
  return out == "0" || k == 0 ? out : "-" + out;
}

bool scalar_equal(const std::string& a, const std::string& b, Ctx& c) {
  if (a == b) return c.rule = "exact match", true;
  std::string da = canonical_decimal(a), db = canonical_decimal(b);
  if (!da.empty() && !db.empty()) {
    c.rule = "exact value";
    return da == db;
  }
  if (all_letters(a) && all_letters(b)) {
    std::string la = a, lb = b;
    std::transform(la.begin(), la.end(), la.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
    std::transform(lb.begin(), lb.end(), lb.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
    if (la == lb) return c.rule = "exact match", true;
  }
  Expr ea = Expr::parse(a, c.bud), eb = Expr::parse(b, c.bud);
  if (!ea.ok() || !eb.ok()) return false;
  std::vector<std::string> vars = ea.variables();
  for (const auto& v : eb.variables())
    if (std::find(vars.begin(), vars.end(), v) == vars.end()) vars.push_back(v);
  std::sort(vars.begin(), vars.end());
  int points = vars.empty() ? 1 : 3, compared = 0;
  bool all_exact = true;
  for (int k = 0; k < points; ++k) {
    std::map<std::string, Val> env;
    for (size_t j = 0; j < vars.size(); ++j)
      env[vars[j]] = mathx::make_exact(2 + 3 * int(j) + 11 * k + int(j) * k, 7 + 2 * k + int(j));
    Val x, y;
    bool okx = ea.evaluate(env, c.bud, x), oky = eb.evaluate(env, c.bud, y);
    if (!okx && !oky) continue;
    if (okx != oky || !close_enough(x, y, c.opt)) return false;
    all_exact &= x.exact && y.exact;
    ++compared;
  }
  if (compared == 0) return false;
  c.rule = all_exact ? "exact value" : "numeric";
  return true;
}

bool equal_rec(std::string a, std::string b, Ctx& c, int depth);

// Order-insensitive: every element of a pairs with a distinct equal element of b.
bool set_equal(const std::vector<std::string>& a, const std::vector<std::string>& b, Ctx& c, int depth) {
  if (a.size() != b.size() || a.size() > 64) return false;
  std::vector<char> used(b.size(), 0);
  for (const auto& x : a) {
    bool found = false;
    for (size_t j = 0; j < b.size() && !found; ++j)
      if (!used[j] && equal_rec(x, b[j], c, depth + 1)) used[j] = 1, found = true;
    if (!found) return false;
  }
  return true;
}

bool list_equal(const std::vector<std::string>& a, const std::vector<std::string>& b, Ctx& c, int depth) {
  if (a.size() != b.size() || a.size() > 64) return false;
  for (size_t k = 0; k < a.size(); ++k)
    if (!equal_rec(a[k], b[k], c, depth + 1)) return false;
  return true;
}

bool is_set(const std::string& s) { return starts_with(s, "\\{") && ends_with(s, "\\}") && s.size() >= 4; }

bool equal_rec(std::string a, std::string b, Ctx& c, int depth) {
  c.bud.tick();
  if (depth > 8) return false;
  a = trim(a), b = trim(b);
  if (a.empty() || b.empty()) return false;
  if (is_thousands(a)) a = drop_commas(a);
  if (is_thousands(b)) b = drop_commas(b);
  if (a == b) return c.rule = "exact match", true;
  // Unions of intervals or sets: order-insensitive.
  auto ua = split_top(a, "\\cup", c.bud), ub = split_top(b, "\\cup", c.bud);
  if (ua.size() > 1 || ub.size() > 1) {
    bool r = set_equal(ua, ub, c, depth);
    if (r) c.rule = "union";
    return r;
  }
  if (is_set(a) || is_set(b)) {
    if (!(is_set(a) && is_set(b))) return false;
    bool r = set_equal(split_top(a.substr(2, a.size() - 4), ",", c.bud), split_top(b.substr(2, b.size() - 4), ",", c.bud),
                       c, depth);
    if (r) c.rule = "set";
    return r;
  }
  // Tuples and intervals: same brackets, element-wise in order.
  bool ga = one_group(a, c.bud), gb = one_group(b, c.bud);
  auto ia = ga ? split_top(a.substr(1, a.size() - 2), ",", c.bud) : std::vector<std::string>{};
  auto ib = gb ? split_top(b.substr(1, b.size() - 2), ",", c.bud) : std::vector<std::string>{};
  if (ia.size() > 1 || ib.size() > 1) {
    if (ia.size() < 2 || ib.size() < 2 || a.front() != b.front() || a.back() != b.back()) return false;
    bool r = list_equal(ia, ib, c, depth);
    if (r) c.rule = a.front() == '[' || a.back() == ']' ? "interval" : "tuple";
    return r;
  }
  // Bare lists ("2, 3" or "x=2, x=3"): order-insensitive.
  auto la = split_top(a, ",", c.bud), lb = split_top(b, ",", c.bud);
  if (la.size() > 1 || lb.size() > 1) {
    bool r = set_equal(la, lb, c, depth);
    if (r) c.rule = "list";
    return r;
  }
  std::string sa = strip_lhs(a), sb = strip_lhs(b);
  if ((sa != a || sb != b) && equal_rec(sa, sb, c, depth + 1)) return true;
  return scalar_equal(a, b, c);
}

std::string clip(const std::string& s) { return s.size() > 40 ? s.substr(0, 37) + "..." : s; }

}  // namespace

MathCompare math_equal(const std::string& a, const std::string& b, const MathOptions& opt) {
  Budget bud;
  bud.deadline = std::chrono::steady_clock::now() +
                 std::chrono::microseconds(long(std::max(0.0, std::min(opt.time_limit_s, 3600.0)) * 1e6));
  Ctx c{opt, bud, ""};
  try {
    bud.check_now();
    if (a.size() > opt.max_answer_chars || b.size() > opt.max_answer_chars)
      return {a == b, a == b ? "exact match" : "answer too long to compare"};
    std::string na = normalize_math_answer(a), nb = normalize_math_answer(b);
    if (na.empty() || nb.empty()) return {false, "empty answer"};
    if (na == nb) return {true, "exact match"};
    bool eq = equal_rec(na, nb, c, 0);
    return {eq, eq ? c.rule : "not equal"};
  } catch (const mathx::TimeUp&) {
    return {false, "time limit"};
  }
}

Verdict verify_math(const std::string& response, const std::string& reference, const MathOptions& opt) {
  std::string ref = reference.find("\\boxed") != std::string::npos || reference.find("\\fbox") != std::string::npos
                        ? extract_math_answer(reference)
                        : reference;
  if (trim(ref).empty()) return fail("empty reference answer");
  std::string got = extract_math_answer(response);
  if (trim(got).empty()) return fail("no answer found");
  MathCompare m = math_equal(got, ref, opt);
  if (m.equal) return pass("ok: " + m.rule);
  if (m.rule == "time limit") return fail("time limit comparing '" + clip(got) + "'");
  return fail("expected '" + clip(ref) + "', got '" + clip(got) + "'");
}

}  // namespace sdz::tasks
