// PCRE2 wrapper for the pre-tokenizer patterns.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "sdzero/text/regex.hpp"

#include <pcre2.h>

#include "sdzero/core/error.hpp"

namespace sdz::text {

namespace {
// Per-thread match data and JIT stack: pcre2 match data is not shareable between threads, and
// allocating it per call costs more than tokenizing a short string.
struct MatchState {
  pcre2_match_data* md = nullptr;
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* ctx = nullptr;
  MatchState() {
    md = pcre2_match_data_create(16, nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    ctx = pcre2_match_context_create(nullptr);
    pcre2_jit_stack_assign(ctx, nullptr, stack);
  }
  ~MatchState() {
    pcre2_match_context_free(ctx);
    pcre2_jit_stack_free(stack);
    pcre2_match_data_free(md);
  }
};
MatchState& match_state() {
  thread_local MatchState s;
  return s;
}
std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<char*>(buf);
}
}  // namespace

Regex::Regex(const std::string& pattern, const std::string& where) : pattern_(pattern) {
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &off, nullptr);
  if (!code)
    throw Error("the regex does not compile: " + pcre2_message(err) + " at offset " + std::to_string(off),
                where, "Split patterns must be PCRE2-compatible");
  code_ = code;
  jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

void Regex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  auto* code = static_cast<pcre2_code*>(code_);
  MatchState& st = match_state();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t n = text.size(), pos = 0;
  while (pos < n) {
    // The text was validated (sanitize_utf8) before it got here.
    int rc = jit_ ? pcre2_jit_match(code, subject, n, pos, PCRE2_NO_UTF_CHECK, st.md, st.ctx)
                  : pcre2_match(code, subject, n, pos, PCRE2_NO_UTF_CHECK, st.md, st.ctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
      rc = pcre2_match(code, subject, n, pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, st.md, st.ctx);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) throw Error("regex match failed: " + pcre2_message(rc), "pre-tokenizer /" + pattern_ + "/");
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.md);
    size_t b = ov[0], e = ov[1];
    if (e == b) {  // empty match: step over one UTF-8 character
      size_t step = 1;
      while (b + step < n && (static_cast<unsigned char>(text[b + step]) & 0xC0) == 0x80) ++step;
      pos = b + step;
      continue;
    }
    out.emplace_back(b, e);
    pos = e;
  }
}

}  // namespace sdz::text
