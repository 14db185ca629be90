// Parsers for the built-in tasks' answers. They scan bytes by hand (no regex) so that any input
// string, however long or strange, is handled in linear time without exceptions.
#include "sdzero/tasks/equation.hpp"

#include <cctype>

namespace sdz::tasks {

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::optional<int64_t> parse_int(const std::string& s) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && s[i] == '-') neg = true, ++i;
  if (i == s.size() || s.size() - i > 15) return std::nullopt;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (!is_digit(s[i])) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return neg ? -v : v;
}

std::optional<int64_t> apply_op(int64_t a, char op, int64_t b) {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': {
      __int128 p = (__int128)a * b;
      if (p > INT64_MAX || p < INT64_MIN) return std::nullopt;
      return int64_t(p);
    }
    case '/':
      if (b == 0 || a % b != 0) return std::nullopt;
      return a / b;
  }
  return std::nullopt;
}

// Tries to read `a op b=v` whose '=' is at text[eq]. Digits must not continue past the match on
// either side, so "123*4=492" inside "x123*4=4920" is not taken for a different equation.
static std::optional<Equation> equation_at(const std::string& t, size_t eq) {
  size_t r = eq + 1;
  size_t vs = r;
  if (r < t.size() && t[r] == '-') ++r;
  size_t vd = r;
  while (r < t.size() && is_digit(t[r])) ++r;
  if (r == vd || r - vd > 15) return std::nullopt;
  size_t bend = eq, bs = eq;
  while (bs > 0 && is_digit(t[bs - 1])) --bs;
  if (bs == bend || bend - bs > 15 || bs == 0) return std::nullopt;
  char op = t[bs - 1];
  if (op != '+' && op != '-' && op != '*' && op != '/') return std::nullopt;
  size_t aend = bs - 1, as = aend;
  while (as > 0 && is_digit(t[as - 1])) --as;
  if (as == aend || aend - as > 15) return std::nullopt;
  Equation e;
  e.a = *parse_int(t.substr(as, aend - as));
  e.b = *parse_int(t.substr(bs, bend - bs));
  e.v = *parse_int(t.substr(vs, r - vs));
  e.op = op;
  e.text = t.substr(as, r - as);
  return e;
}

std::optional<Equation> last_equation(const std::string& text) {
  for (size_t i = text.size(); i-- > 0;)
    if (text[i] == '=')
      if (auto e = equation_at(text, i)) return e;
  return std::nullopt;
}

std::vector<Equation> all_equations(const std::string& text) {
  std::vector<Equation> out;
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '=')
      if (auto e = equation_at(text, i)) out.push_back(*e);
  return out;
}

std::optional<int64_t> final_hash_answer(const std::string& text) {
  size_t h = text.rfind('#');
  if (h == std::string::npos) return std::nullopt;
  std::string rest = text.substr(h + 1);
  while (!rest.empty() && std::isspace((unsigned char)rest.back())) rest.pop_back();
  return parse_int(rest);
}

bool parse_numbers_target(const std::string& s, std::vector<int64_t>& numbers, int64_t& target) {
  numbers.clear();
  size_t gt = s.find('>');
  if (gt == std::string::npos || s.size() > 4096) return false;
  auto t = parse_int(s.substr(gt + 1));
  if (!t) return false;
  target = *t;
  std::string list = s.substr(0, gt);
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    auto n = parse_int(list.substr(start, comma - start));
    if (!n || *n < 0) return false;
    numbers.push_back(*n);
    start = comma + 1;
  }
  return !numbers.empty();
}

}  // namespace sdz::tasks
