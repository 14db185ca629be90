// Encoding and decoding for BpeTokenizer.
#include <algorithm>
#include <tuple>

#include "bpe_impl.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/text/unicode.hpp"

namespace sdz::text {

namespace {

struct Cand {
  int32_t rank;
  int32_t pos;
  int32_t left, right;  // the ids it was made from: a stale candidate no longer matches them
  bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

struct Scratch {
  std::vector<int32_t> id, prev, next;
  std::vector<Cand> heap;
  std::vector<std::pair<size_t, size_t>> spans, tmp, matches;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

// Merges by rank, lowest first, leftmost on ties (the tokenizers library's order). A heap of
// candidate pairs with lazy deletion keeps long pieces O(n log n).
void BpeTokenizer::Impl::bpe_piece(const char* p, size_t n, std::vector<int32_t>& out) const {
  if (n == 0) return;
  if (n == 1) {
    out.push_back(byte_id[static_cast<unsigned char>(p[0])]);
    return;
  }
  std::string key(p, n);
  if (ignore_merges) {
    auto it = bytes_to_id.find(key);
    if (it != bytes_to_id.end()) {
      out.push_back(it->second);
      return;
    }
  }
  const bool cacheable = n <= kCachePieceMax;
  if (cacheable) {
    std::lock_guard<std::mutex> lk(cache_mu);
    auto it = cache.find(key);
    if (it != cache.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  Scratch& s = scratch();
  const int32_t N = static_cast<int32_t>(n);
  s.id.resize(n);
  s.prev.resize(n);
  s.next.resize(n);
  s.heap.clear();
  for (int32_t i = 0; i < N; ++i) {
    s.id[i] = byte_id[static_cast<unsigned char>(p[i])];
    s.prev[i] = i - 1;
    s.next[i] = i + 1 < N ? i + 1 : -1;
  }
  auto push = [&](int32_t pos) {
    int32_t r = s.next[pos];
    if (pos < 0 || r < 0) return;
    auto it = merges.find((uint64_t(uint32_t(s.id[pos])) << 32) | uint32_t(s.id[r]));
    if (it == merges.end()) return;
    s.heap.push_back({it->second.first, pos, s.id[pos], s.id[r]});
    std::push_heap(s.heap.begin(), s.heap.end(), std::greater<Cand>());
  };
  for (int32_t i = 0; i + 1 < N; ++i) push(i);
  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), std::greater<Cand>());
    Cand c = s.heap.back();
    s.heap.pop_back();
    int32_t r = s.next[c.pos];
    if (s.id[c.pos] != c.left || r < 0 || s.id[r] != c.right) continue;
    s.id[c.pos] = merges.find((uint64_t(uint32_t(c.left)) << 32) | uint32_t(c.right))->second.second;
    s.id[r] = -1;
    s.next[c.pos] = s.next[r];
    if (s.next[r] >= 0) s.prev[s.next[r]] = c.pos;
    push(s.prev[c.pos]);
    push(c.pos);
  }
  size_t before = out.size();
  for (int32_t i = 0; i >= 0; i = s.next[i]) out.push_back(s.id[i]);
  if (cacheable) {
    std::lock_guard<std::mutex> lk(cache_mu);
    if (cache.size() >= kCacheMax) cache.clear();
    cache.emplace(std::move(key), std::vector<int32_t>(out.begin() + before, out.end()));
  }
}

// Each Split step cuts every current piece into matches and the gaps between them, then keeps,
// drops or joins them by its behaviour (invert swaps the roles of matches and gaps).
void BpeTokenizer::Impl::pretokenize(const std::string& text,
                                     std::vector<std::pair<size_t, size_t>>& pieces) const {
  pieces.clear();
  pieces.emplace_back(0, text.size());
  Scratch& s = scratch();
  std::vector<std::tuple<size_t, size_t, bool>> spans;  // begin, end, is_match
  for (const PreTokStep& st : steps) {
    s.tmp.clear();
    for (auto [b, e] : pieces) {
      s.matches.clear();
      st.regex->find_all(std::string_view(text).substr(b, e - b), s.matches);
      spans.clear();
      size_t at = b;
      for (auto [mb, me] : s.matches) {
        if (at < b + mb) spans.emplace_back(at, b + mb, st.invert);
        spans.emplace_back(b + mb, b + me, !st.invert);
        at = b + me;
      }
      if (at < e) spans.emplace_back(at, e, st.invert);
      size_t pending = SIZE_MAX;  // MergedWithNext: start of matches waiting for the next span
      for (auto [x, y, is_match] : spans) {
        switch (st.behavior) {
          case PreTokStep::Isolated: s.tmp.emplace_back(x, y); break;
          case PreTokStep::Removed: if (!is_match) s.tmp.emplace_back(x, y); break;
          case PreTokStep::MergedWithPrevious:
            if (is_match && !s.tmp.empty() && s.tmp.back().second == x) s.tmp.back().second = y;
            else s.tmp.emplace_back(x, y);
            break;
          case PreTokStep::MergedWithNext:
            if (is_match) {
              if (pending == SIZE_MAX) pending = x;
            } else {
              s.tmp.emplace_back(pending == SIZE_MAX ? x : pending, y);
              pending = SIZE_MAX;
            }
            break;
        }
      }
      if (pending != SIZE_MAX) s.tmp.emplace_back(pending, e);
    }
    pieces.swap(s.tmp);
  }
}

void BpeTokenizer::Impl::encode_normalized(const std::string& text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (add_prefix_space && text[0] != ' ') return encode_normalized(" " + text, out);
  std::vector<std::pair<size_t, size_t>> pieces;
  if (steps.empty()) pieces.emplace_back(0, text.size());
  else pretokenize(text, pieces);
  for (auto [b, e] : pieces) bpe_piece(text.data() + b, e - b, out);
}

// Finds added tokens (leftmost, longest first) in `text` and encodes the parts between them with
// `rest`. lstrip/rstrip widen a match over adjacent whitespace.
template <class Rest>
static void split_added(const BpeTokenizer::Impl& im, const std::string& text,
                        const std::array<std::vector<int>, 256>& index, std::vector<int32_t>& out, Rest rest) {
  size_t start = 0, i = 0, n = text.size();
  while (i < n) {
    const auto& cands = index[static_cast<unsigned char>(text[i])];
    const AddedToken* hit = nullptr;
    for (int k : cands) {
      const std::string& c = im.added[k].content;
      if (text.compare(i, c.size(), c) == 0) { hit = &im.added[k]; break; }
    }
    if (!hit) { ++i; continue; }
    size_t b = i, e = i + hit->content.size();
    if (hit->lstrip) while (b > start && is_space(text[b - 1])) --b;
    if (hit->rstrip) while (e < n && is_space(text[e])) ++e;
    if (b > start) rest(text.substr(start, b - start));
    out.push_back(hit->id);
    start = i = e;
  }
  if (start < n) rest(text.substr(start));
}

void BpeTokenizer::Impl::encode_segment(const std::string& raw, bool match_added, std::vector<int32_t>& out) const {
  std::string text = nfc ? sdz::text::nfc(raw) : raw;
  if (match_added && has_norm)
    split_added(*this, text, norm_by_byte, out, [&](const std::string& part) { encode_normalized(part, out); });
  else
    encode_normalized(text, out);
}

BpeTokenizer::BpeTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BpeTokenizer::~BpeTokenizer() = default;

std::vector<int32_t> BpeTokenizer::encode(const std::string& text) const {
  std::string s = sanitize_utf8(text);
  std::vector<int32_t> out;
  out.reserve(s.size() / 3 + 4);
  if (impl_->has_raw)
    split_added(*impl_, s, impl_->raw_by_byte, out,
                [&](const std::string& part) { impl_->encode_segment(part, true, out); });
  else
    impl_->encode_segment(s, true, out);
  return out;
}

std::vector<int32_t> BpeTokenizer::encode_ordinary(const std::string& text) const {
  std::vector<int32_t> out;
  impl_->encode_segment(sanitize_utf8(text), false, out);
  return out;
}

static void check_id(const BpeTokenizer::Impl& im, int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= im.id_known.size() || !im.id_known[id])
    throw Error("token id " + std::to_string(id) + " is not in the vocabulary", im.where,
                "ids run from 0 to " + std::to_string(static_cast<long>(im.id_known.size()) - 1) +
                    "; was the text encoded with another tokenizer?");
}

// Added tokens come out verbatim; the bytes between them are decoded with U+FFFD for invalid
// sequences (the reference decoders do both).
std::string BpeTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out, run;
  for (int32_t id : ids) {
    check_id(*impl_, id);
    if (impl_->id_added[id]) {
      out += sanitize_utf8(run);
      run.clear();
      out += impl_->id_bytes[id];
    } else {
      run += impl_->id_bytes[id];
    }
  }
  out += sanitize_utf8(run);
  return out;
}

std::string BpeTokenizer::decode_bytes(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) {
    check_id(*impl_, id);
    out += impl_->id_bytes[id];
  }
  return out;
}

int32_t BpeTokenizer::vocab_size() const { return static_cast<int32_t>(impl_->id_known.size()); }

std::optional<int32_t> BpeTokenizer::token_to_id(const std::string& token) const {
  if (auto it = impl_->added_to_id.find(token); it != impl_->added_to_id.end()) return it->second;
  if (auto it = impl_->odd_to_id.find(token); it != impl_->odd_to_id.end()) return it->second;
  std::string bytes;
  if (!byte_level_to_bytes(token, bytes)) return std::nullopt;
  auto it = impl_->bytes_to_id.find(bytes);
  if (it == impl_->bytes_to_id.end()) return std::nullopt;
  return it->second;
}

std::string BpeTokenizer::id_to_token(int32_t id) const {
  check_id(*impl_, id);
  return impl_->id_token[id];
}

bool BpeTokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->id_special.size() && impl_->id_special[id];
}

const std::vector<AddedToken>& BpeTokenizer::added_tokens() const { return impl_->added; }

std::string BpeTokenizer::describe() const {
  bool jit = true;
  for (const auto& st : impl_->steps) jit = jit && st.regex->jit();
  return strprintf("byte-level BPE: %d ids, %zu merges, %zu added tokens, normalizer %s, pre-tokenizer %s%s%s",
                   vocab_size(), impl_->merges.size(), impl_->added.size(), impl_->normalizer_desc.c_str(),
                   impl_->pretok_desc.c_str(), impl_->steps.empty() ? "" : jit ? ", regex JIT" : ", regex interpreted",
                   impl_->ignore_merges ? ", ignore_merges" : "");
}

}  // namespace sdz::text
