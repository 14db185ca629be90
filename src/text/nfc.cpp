// NFC: decompose, order combining marks canonically, recompose (Unicode UAX #15), over the tables in
// nfc_data.cpp. Hangul syllables are handled arithmetically.
#include <algorithm>
#include <unordered_map>

#include "nfc_data.hpp"
#include "sdzero/text/unicode.hpp"

namespace sdz::text {
namespace {

constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

struct Tables {
  // Two-stage tables indexed by code point: [cp >> 8] -> block, block[cp & 255] -> value.
  std::vector<uint16_t> ccc_stage1, unstable_stage1;
  std::vector<uint8_t> ccc_blocks, unstable_blocks;
  std::unordered_map<uint32_t, std::pair<uint32_t, uint32_t>> decomp;  // cp -> (offset, length)
  std::unordered_map<uint64_t, uint32_t> comp;

  static void build_stage(std::vector<uint16_t>& stage1, std::vector<uint8_t>& blocks,
                          const std::vector<std::pair<uint32_t, uint8_t>>& values) {
    stage1.assign(0x1100, 0);
    blocks.assign(256, 0);  // block 0: all zero
    for (const auto& [cp, v] : values) {
      uint32_t hi = cp >> 8;
      if (stage1[hi] == 0) {
        stage1[hi] = static_cast<uint16_t>(blocks.size() / 256);
        blocks.resize(blocks.size() + 256, 0);
      }
      blocks[stage1[hi] * 256u + (cp & 255)] = v;
    }
  }

  Tables() {
    using namespace nfc_data;
    std::vector<std::pair<uint32_t, uint8_t>> v;
    for (size_t i = 0; i < kCccCount; ++i) v.emplace_back(kCcc[i][0], static_cast<uint8_t>(kCcc[i][1]));
    build_stage(ccc_stage1, ccc_blocks, v);
    v.clear();
    for (size_t i = 0; i < kUnstableCount; ++i)
      for (uint32_t cp = kUnstable[i][0]; cp <= kUnstable[i][1]; ++cp) v.emplace_back(cp, 1);
    build_stage(unstable_stage1, unstable_blocks, v);
    for (size_t i = 0; i < kDecompSize;) {
      uint32_t cp = kDecomp[i], n = kDecomp[i + 1];
      decomp[cp] = {static_cast<uint32_t>(i + 2), n};
      i += 2 + n;
    }
    for (size_t i = 0; i < kCompCount; ++i)
      comp[(uint64_t(kComp[i][0]) << 32) | kComp[i][1]] = kComp[i][2];
  }
  uint8_t ccc(uint32_t cp) const {
    if (cp < 0x300 || cp > 0x10FFFF) return 0;
    return ccc_blocks[ccc_stage1[cp >> 8] * 256u + (cp & 255)];
  }
  bool unstable(uint32_t cp) const {
    if (cp < 0x300 || cp > 0x10FFFF) return false;
    return unstable_blocks[unstable_stage1[cp >> 8] * 256u + (cp & 255)] != 0;
  }
  uint32_t compose(uint32_t a, uint32_t b) const {
    if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
      return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
        b < kTBase + kTCount)
      return a + (b - kTBase);
    auto it = comp.find((uint64_t(a) << 32) | b);
    return it == comp.end() ? 0 : it->second;
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const char* nfc_unicode_version() { return nfc_data::kUnicodeVersion; }

bool is_nfc_quick(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    if (p[i] < 0xCC) { i += p[i] < 0x80 ? 1 : 2; continue; }  // below U+0300: always stable
    break;
  }
  if (i >= n) return true;
  const Tables& t = tables();
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) { ++i; continue; }
    uint32_t cp;
    size_t l;
    if (c < 0xE0) { cp = c & 0x1F; l = 2; }
    else if (c < 0xF0) { cp = c & 0x0F; l = 3; }
    else { cp = c & 0x07; l = 4; }
    for (size_t k = 1; k < l && i + k < n; ++k) cp = (cp << 6) | (p[i + k] & 0x3F);
    if (t.unstable(cp)) return false;
    i += l;
  }
  return true;
}

static std::string nfc_full(const std::string& s) {
  const Tables& t = tables();
  std::vector<uint32_t> d;
  d.reserve(s.size());
  for (uint32_t cp : utf8_to_codepoints(s)) {
    if (cp >= kSBase && cp < kSBase + kSCount) {
      uint32_t si = cp - kSBase;
      d.push_back(kLBase + si / kNCount);
      d.push_back(kVBase + (si % kNCount) / kTCount);
      if (si % kTCount) d.push_back(kTBase + si % kTCount);
      continue;
    }
    auto it = t.decomp.find(cp);
    if (it == t.decomp.end()) { d.push_back(cp); continue; }
    for (uint32_t k = 0; k < it->second.second; ++k) d.push_back(nfc_data::kDecomp[it->second.first + k]);
  }
  // Canonical ordering: stable sort of every run of non-starters by class. stable_sort keeps long
  // runs O(n log n).
  for (size_t i = 0; i < d.size();) {
    if (t.ccc(d[i]) == 0) { ++i; continue; }
    size_t j = i;
    while (j < d.size() && t.ccc(d[j]) != 0) ++j;
    if (j - i > 1)
      std::stable_sort(d.begin() + i, d.begin() + j,
                       [&](uint32_t a, uint32_t b) { return t.ccc(a) < t.ccc(b); });
    i = j;
  }
  // Canonical composition: a char joins the last starter unless a char between them blocks it
  // (class 0, or a class >= its own; after ordering the last one between decides).
  std::vector<uint32_t> out;
  out.reserve(d.size());
  long starter = -1;
  bool between = false;
  uint8_t last_cc = 0;
  for (uint32_t cp : d) {
    uint8_t cc = t.ccc(cp);
    if (starter >= 0 && (!between || last_cc < cc)) {
      if (uint32_t c = t.compose(out[starter], cp)) {
        out[starter] = c;
        continue;
      }
    }
    if (cc == 0) {
      starter = static_cast<long>(out.size());
      between = false;
      last_cc = 0;
    } else {
      between = true;
      last_cc = cc;
    }
    out.push_back(cp);
  }
  return codepoints_to_utf8(out);
}

// Only the stretches around unstable code points are normalized: a stable code point (class 0,
// unchanged by NFC, never the second half of a composition) is a boundary that NFC never crosses.
std::string nfc(const std::string& s) {
  if (is_nfc_quick(s)) return s;
  const Tables& t = tables();
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  std::string out;
  out.reserve(n + 16);
  size_t copied = 0, last_stable = 0, i = 0;
  while (i < n) {
    unsigned char c = p[i];
    uint32_t cp;
    size_t l;
    if (c < 0x80) { cp = c; l = 1; }
    else if (c < 0xE0) { cp = c & 0x1F; l = 2; }
    else if (c < 0xF0) { cp = c & 0x0F; l = 3; }
    else { cp = c & 0x07; l = 4; }
    for (size_t k = 1; k < l && i + k < n; ++k) cp = (cp << 6) | (p[i + k] & 0x3F);
    if (!t.unstable(cp)) {
      last_stable = i;
      i += l;
      continue;
    }
    // [last_stable, end): from the last boundary before this code point to the next one after it.
    size_t end = i + l;
    while (end < n) {
      unsigned char d = p[end];
      uint32_t q;
      size_t m;
      if (d < 0x80) { q = d; m = 1; }
      else if (d < 0xE0) { q = d & 0x1F; m = 2; }
      else if (d < 0xF0) { q = d & 0x0F; m = 3; }
      else { q = d & 0x07; m = 4; }
      for (size_t k = 1; k < m && end + k < n; ++k) q = (q << 6) | (p[end + k] & 0x3F);
      if (!t.unstable(q)) break;
      end += m;
    }
    size_t begin = std::max(last_stable, copied);
    out.append(s, copied, begin - copied);
    out += nfc_full(s.substr(begin, end - begin));
    copied = i = last_stable = end;
  }
  out.append(s, copied, n - copied);
  return out;
}

}  // namespace sdz::text
