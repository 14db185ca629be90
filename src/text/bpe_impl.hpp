// defines: BpeTokenizer::Impl, the loaded tables shared by bpe_load.cpp and bpe_encode.cpp.
#pragma once
#include <array>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "sdzero/text/bpe.hpp"
#include "sdzero/text/regex.hpp"

namespace sdz::text {

struct PreTokStep {
  enum Kind { Split, ByteLevelRegex } kind = Split;
  std::unique_ptr<Regex> regex;
  enum Behavior { Isolated, Removed, MergedWithPrevious, MergedWithNext } behavior = Isolated;
  bool invert = false;
};

struct BpeTokenizer::Impl {
  std::string where;  // the file, for errors
  // Model. Tokens are kept as raw bytes: the ByteLevel alphabet is undone at load time, so encoding
  // never builds byte-level strings.
  std::unordered_map<std::string, int32_t> bytes_to_id;
  std::unordered_map<std::string, int32_t> added_to_id;  // added tokens by content
  std::unordered_map<std::string, int32_t> odd_to_id;    // vocab tokens outside the ByteLevel alphabet
  std::vector<std::string> id_bytes;                     // what decode emits per id
  std::vector<std::string> id_token;                     // id_to_token()
  std::vector<uint8_t> id_known, id_special, id_added;
  std::array<int32_t, 256> byte_id{};
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;  // (left, right) -> (rank, merged id)
  bool ignore_merges = false;
  // Normalizer and pre-tokenizers.
  bool nfc = false;
  bool add_prefix_space = false;
  std::vector<PreTokStep> steps;
  std::string pretok_desc, normalizer_desc;
  // Added tokens: raw-text ones and normalized-text ones, each indexed by first byte, longest first.
  std::vector<AddedToken> added;
  std::array<std::vector<int>, 256> raw_by_byte, norm_by_byte;
  bool has_raw = false, has_norm = false;
  // Piece cache (pieces repeat: words, whitespace runs). Bounded; cleared when full.
  mutable std::mutex cache_mu;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache;
  static constexpr size_t kCacheMax = 1 << 18, kCachePieceMax = 256;

  void bpe_piece(const char* p, size_t n, std::vector<int32_t>& out) const;
  void encode_segment(const std::string& text, bool match_norm_added, std::vector<int32_t>& out) const;
  void encode_normalized(const std::string& text, std::vector<int32_t>& out) const;
  void pretokenize(const std::string& text, std::vector<std::pair<size_t, size_t>>& pieces) const;
};

// GPT-2's ByteLevel alphabet: printable Latin-1 bytes stand for themselves, the rest map to U+0100+.
const std::array<uint32_t, 256>& byte_level_chars();
// Byte-level token text -> raw bytes; false when a char is outside the alphabet.
bool byte_level_to_bytes(const std::string& token, std::string& bytes);

}  // namespace sdz::text
