// defines: the small parsers that the built-in tasks' verifiers share: the last `a op b=v` of a
// response, the final `#N` answer of a scratchpad, and strict integer parsing with overflow checks.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sdz::tasks {

struct Equation {
  int64_t a = 0, b = 0, v = 0;
  char op = '+';  // one of + - * /
  std::string text;  // "57*8=456" as written
};

// The last well-formed `a op b=v` in text (a, b non-negative integers, v may be negative);
// nullopt when there is none. Numbers longer than 15 digits are not accepted.
std::optional<Equation> last_equation(const std::string& text);
// Every well-formed `a op b=v`, in order (used to compare scratchpad steps).
std::vector<Equation> all_equations(const std::string& text);
// The exact value of a op b (nullopt for division that is not exact or by zero).
std::optional<int64_t> apply_op(int64_t a, char op, int64_t b);

// The integer after the last '#' (optional '-', then digits, then only whitespace); nullopt otherwise.
std::optional<int64_t> final_hash_answer(const std::string& text);

// Strict: optional '-', 1..15 digits, nothing else.
std::optional<int64_t> parse_int(const std::string& s);
// "3,7,2,9>21" -> numbers {3,7,2,9}, target 21; throws nothing, returns false on malformed input.
bool parse_numbers_target(const std::string& s, std::vector<int64_t>& numbers, int64_t& target);

}  // namespace sdz::tasks
