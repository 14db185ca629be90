// UTF-8 validation, lossy decoding and encoding.
#include "sdzero/text/unicode.hpp"

namespace sdz::text {

// Length of the well-formed sequence starting at p (1..4), or 0 and the length of the maximal
// invalid subpart in *bad (the unit one U+FFFD replaces, per Unicode's "substitution of maximal
// subparts", which TextDecoder and Rust follow).
static size_t seq_len(const unsigned char* p, size_t n, size_t* bad) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) need = 2;
  else if (c == 0xE0) { need = 3; lo = 0xA0; }
  else if (c >= 0xE1 && c <= 0xEC) need = 3;
  else if (c == 0xED) { need = 3; hi = 0x9F; }
  else if (c >= 0xEE && c <= 0xEF) need = 3;
  else if (c == 0xF0) { need = 4; lo = 0x90; }
  else if (c >= 0xF1 && c <= 0xF3) need = 4;
  else if (c == 0xF4) { need = 4; hi = 0x8F; }
  else { *bad = 1; return 0; }
  for (size_t i = 1; i < need; ++i) {
    if (i >= n) { *bad = i; return 0; }
    unsigned char b = p[i];
    unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
    if (b < l || b > h) { *bad = i; return 0; }
  }
  return need;
}

bool is_valid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0, bad = 0;
  while (i < n) {
    if (p[i] < 0x80) { ++i; continue; }
    size_t l = seq_len(p + i, n - i, &bad);
    if (l == 0) return false;
    i += l;
  }
  return true;
}

std::string sanitize_utf8(const std::string& s) {
  if (is_valid_utf8(s)) return s;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0, bad = 0;
  std::string out;
  out.reserve(n + 8);
  while (i < n) {
    size_t l = seq_len(p + i, n - i, &bad);
    if (l) {
      out.append(s, i, l);
      i += l;
    } else {
      out += "\xEF\xBF\xBD";
      i += bad;
    }
  }
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::vector<uint32_t> utf8_to_codepoints(const std::string& s) {
  std::vector<uint32_t> cps;
  cps.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    uint32_t cp;
    size_t l;
    if (c < 0x80) { cp = c; l = 1; }
    else if (c < 0xE0) { cp = c & 0x1F; l = 2; }
    else if (c < 0xF0) { cp = c & 0x0F; l = 3; }
    else { cp = c & 0x07; l = 4; }
    for (size_t k = 1; k < l && i + k < n; ++k) cp = (cp << 6) | (p[i + k] & 0x3F);
    cps.push_back(cp);
    i += l;
  }
  return cps;
}

std::string codepoints_to_utf8(const std::vector<uint32_t>& cps) {
  std::string out;
  out.reserve(cps.size() * 2);
  for (uint32_t cp : cps) append_utf8(out, cp);
  return out;
}

}  // namespace sdz::text
