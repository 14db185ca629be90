// Finding the answer in a response and stripping LaTeX decoration from it. Plain byte scanning:
// linear in the input, no regex, no recursion.
#include <algorithm>
#include <cctype>
#include <cstring>

#include "sdzero/core/strings.hpp"
#include "sdzero/tasks/math.hpp"

namespace sdz::tasks {

namespace {

bool is_letter(char c) { return std::isalpha((unsigned char)c) != 0; }

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  size_t p = 0;
  while ((p = s.find(from, p)) != std::string::npos) {
    s.replace(p, from.size(), to);
    p += to.size();
  }
}

// Replace "\cmd" only where the command name ends (so \left does not eat \leftarrow).
void replace_command(std::string& s, const std::string& cmd, const std::string& to) {
  size_t p = 0;
  while ((p = s.find(cmd, p)) != std::string::npos) {
    size_t end = p + cmd.size();
    if (end < s.size() && is_letter(s[end]) && is_letter(cmd.back())) {
      p = end;
      continue;
    }
    s.replace(p, cmd.size(), to);
    p += to.size();
  }
}

// The index after the '}' matching the '{' at open, or npos.
size_t match_brace(const std::string& s, size_t open) {
  int depth = 0;
  for (size_t k = open; k < s.size(); ++k) {
    if (s[k] == '\\' && k + 1 < s.size()) {  // \{ and \} are literal braces
      ++k;
      continue;
    }
    if (s[k] == '{') ++depth;
    else if (s[k] == '}' && --depth == 0) return k + 1;
  }
  return std::string::npos;
}

// \text{...} -> " ..." for every wrapper command.
void unwrap(std::string& s, const std::string& cmd) {
  size_t p = 0;
  while ((p = s.find(cmd, p)) != std::string::npos) {
    size_t open = p + cmd.size();
    while (open < s.size() && s[open] == ' ') ++open;
    if (open >= s.size() || s[open] != '{') {
      p = open;
      continue;
    }
    size_t close = match_brace(s, open);
    if (close == std::string::npos) {
      s.erase(p, open + 1 - p);
      continue;
    }
    std::string inner = s.substr(open + 1, close - open - 2);
    s.replace(p, close - p, " " + inner + " ");
    // p stays: the inner text may hold another wrapper
  }
}

const char* const kUnits[] = {
    "square units", "sq units", "square feet", "square meters", "square inches", "square centimeters",
    "cubic units", "cubic feet", "cubic meters", "cubic inches", "cubic centimeters",
    "units", "unit", "centimeters", "centimeter", "meters", "meter", "kilometers", "kilometer",
    "millimeters", "inches", "inch", "feet", "foot", "miles", "mile", "yards", "yard", "cm", "mm", "km",
    "ft", "in", "m", "degrees", "degree", "dollars", "dollar", "cents", "cent", "seconds", "second",
    "minutes", "minute", "hours", "hour", "days", "day", "weeks", "week", "years", "year", "months",
    "month", "mph", "kg", "grams", "gram", "g", "pounds", "pound", "lbs", "liters", "liter", "ml",
    "percent", "points", "point", "people", "students", "ways", "times", "sq", "s"};

// Trailing unit words after a number ("5 cm", "12 square units", "3 cm^2"). Short units (<= 2
// letters) need a space before them so "2m" (two times m) is left alone.
void strip_units(std::string& s) {
  for (int round = 0; round < 3; ++round) {
    std::string t = trim(s);
    // optional ^2 / ^{3} after the unit
    if (t.size() > 2 && t[t.size() - 2] == '^' && std::isdigit((unsigned char)t.back())) t.resize(t.size() - 2);
    else if (t.size() > 4 && ends_with(t, "}") && t.rfind("^{") == t.size() - 4) t.resize(t.size() - 4);
    bool cut = false;
    for (const char* u : kUnits) {
      std::string unit = u;
      if (!ends_with(t, unit)) continue;
      size_t st = t.size() - unit.size();
      if (st == 0) continue;
      char before = t[st - 1];
      bool ok = before == ' ' || (unit.size() > 2 && std::isdigit((unsigned char)before));
      std::string rest = trim(t.substr(0, st));
      if (!ok || rest.empty() || !(std::isdigit((unsigned char)rest.back()) || rest.back() == '}' || rest.back() == ')'))
        continue;
      s = rest;
      cut = true;
      break;
    }
    if (!cut) return;
  }
}

std::string strip_outer_braces(std::string s) {
  while (s.size() >= 2 && s.front() == '{' && match_brace(s, 0) == s.size()) s = s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

std::string extract_math_answer(const std::string& r) {
  // 1. The last \boxed{...} (or \fbox{...}), braces matched.
  size_t best = std::string::npos;
  size_t arg = 0;
  for (const char* tag : {"\\boxed", "\\fbox"}) {
    size_t p = r.rfind(tag);
    if (p != std::string::npos && (best == std::string::npos || p > best)) best = p, arg = p + std::strlen(tag);
  }
  if (best != std::string::npos) {
    size_t k = arg;
    while (k < r.size() && r[k] == ' ') ++k;
    if (k < r.size() && r[k] == '{') {
      size_t close = match_brace(r, k);
      if (close != std::string::npos) return trim(r.substr(k + 1, close - k - 2));
    } else if (k > arg && k < r.size()) {  // "\boxed 5"
      size_t e = k;
      while (e < r.size() && !std::isspace((unsigned char)r[e]) && r[e] != '$') ++e;
      return r.substr(k, e - k);
    }
  }
  // 2. "the answer is ..." up to the end of its line (case-insensitive).
  std::string lower = r;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  size_t p = lower.rfind("the answer is");
  if (p != std::string::npos) {
    size_t st = p + 13;
    size_t nl = r.find('\n', st);
    std::string a = trim(r.substr(st, nl == std::string::npos ? std::string::npos : nl - st));
    if (!a.empty() && a[0] == ':') a = trim(a.substr(1));
    while (!a.empty() && (a.back() == '.' || a.back() == '$')) a.pop_back();
    while (!a.empty() && a.front() == '$') a.erase(0, 1);
    if (!trim(a).empty()) return trim(a);
  }
  // 3. The last number: -?digits with thousands commas, optional decimals, optional /denominator.
  for (size_t e = r.size(); e-- > 0;) {
    if (!std::isdigit((unsigned char)r[e])) continue;
    size_t st = e;
    while (st > 0 && (std::isdigit((unsigned char)r[st - 1]) || r[st - 1] == '.' || r[st - 1] == '/' ||
                      (r[st - 1] == ',' && st >= 2 && std::isdigit((unsigned char)r[st - 2]))))
      --st;
    if (st > 0 && r[st - 1] == '-') --st;
    std::string n = r.substr(st, e + 1 - st);
    while (!n.empty() && (n[0] == '.' || n[0] == '/' || n[0] == ',')) n.erase(0, 1);
    return n;
  }
  return "";
}

std::string normalize_math_answer(const std::string& in) {
  std::string s = in;
  if (s.size() > 4000) s.resize(4000);
  replace_all(s, "\\\\", " ");
  replace_all(s, "\\$", "");
  replace_all(s, "$", "");
  replace_all(s, "\\(", "");
  replace_all(s, "\\)", "");
  replace_all(s, "\\[", "");
  replace_all(s, "\\]", "");
  replace_command(s, "\\displaystyle", "");
  replace_command(s, "\\left.", "");
  replace_command(s, "\\right.", "");
  replace_command(s, "\\left", "");
  replace_command(s, "\\right", "");
  replace_command(s, "\\bigl", "");
  replace_command(s, "\\bigr", "");
  for (const char* sp : {"\\!", "\\,", "\\;", "\\:", "\\ ", "~"}) replace_all(s, sp, "");
  replace_command(s, "\\quad", " ");
  replace_command(s, "\\qquad", " ");
  replace_all(s, "{,}", ",");
  replace_command(s, "\\dfrac", "\\frac");
  replace_command(s, "\\tfrac", "\\frac");
  replace_command(s, "\\cfrac", "\\frac");
  replace_command(s, "\\dbinom", "\\binom");
  replace_command(s, "\\tbinom", "\\binom");
  for (const char* deg : {"^{\\circ}", "^\\circ", "{}^\\circ", "\\circ", "\\degree", "\xc2\xb0"}) replace_all(s, deg, "");
  replace_all(s, "\\%", "");
  replace_all(s, "%", "");
  for (const char* w : {"\\textbf", "\\textit", "\\textrm", "\\texttt", "\\text", "\\mathrm", "\\mathbf", "\\mbox",
                        "\\operatorname", "\\mathit", "\\boxed"})
    unwrap(s, w);
  replace_all(s, "\xe2\x88\x9e", "\\infty");  // ∞
  replace_command(s, "\\inf", "\\infty");
  replace_all(s, "\\inftyty", "\\infty");
  replace_all(s, "\xe2\x88\x92", "-");  // unicode minus
  replace_all(s, "\xc3\x97", "\\times");
  replace_all(s, "\xcf\x80", "\\pi");
  // " or " / " and " between alternatives behave like commas ("x=2 or x=3").
  replace_all(s, " or ", ",");
  replace_all(s, " and ", ",");
  strip_units(s);
  // Whitespace goes, except between a command name and a letter ("\pi r" must not become "\pir").
  std::string out;
  out.reserve(s.size());
  for (size_t k = 0; k < s.size(); ++k) {
    char c = s[k];
    if (!std::isspace((unsigned char)c)) {
      out += c;
      continue;
    }
    size_t j = k;
    while (j < s.size() && std::isspace((unsigned char)s[j])) ++j;
    size_t b = out.size();
    while (b > 0 && is_letter(out[b - 1])) --b;
    bool after_command = b > 0 && b < out.size() && out[b - 1] == '\\';
    if (after_command && j < s.size() && is_letter(s[j])) out += ' ';
    k = j - 1;
  }
  s = out;
  // \frac12 -> \frac{1}{2}, \sqrt2 -> \sqrt{2}
  for (size_t p = s.find("\\frac"); p != std::string::npos; p = s.find("\\frac", p + 1)) {
    size_t a = p + 5;
    if (a + 1 < s.size() && s[a] != '{' && std::isalnum((unsigned char)s[a])) {
      s.replace(a, 1, std::string("{") + s[a] + "}");
      a += 3;
      if (a < s.size() && s[a] != '{' && std::isalnum((unsigned char)s[a])) s.replace(a, 1, std::string("{") + s[a] + "}");
    }
  }
  for (size_t p = s.find("\\sqrt"); p != std::string::npos; p = s.find("\\sqrt", p + 1)) {
    size_t a = p + 5;
    if (a < s.size() && std::isdigit((unsigned char)s[a])) s.replace(a, 1, std::string("{") + s[a] + "}");
  }
  // Trailing punctuation and a leading '+'.
  while (!s.empty() && (s.back() == '.' || s.back() == ',' || s.back() == ';' || s.back() == ':')) s.pop_back();
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  return strip_outer_braces(s);
}

}  // namespace sdz::tasks
