// defines: Regex, a compiled PCRE2 pattern (UTF + UCP, JIT when available) that splits text the way
// a Hugging Face Split pre-tokenizer does. std::regex cannot do \p{L}; PCRE2 matches the pieces of
// the reference tokenizers.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sdz::text {

class Regex {
 public:
  // Throws sdz::Error naming `where` and the offset when the pattern does not compile.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  // Non-overlapping matches in valid UTF-8 `text`, as (begin, end) byte offsets. An empty match
  // advances by one character so that no pattern can loop.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
  bool jit() const { return jit_; }
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code*
  bool jit_ = false;
};

}  // namespace sdz::text
