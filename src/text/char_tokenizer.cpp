// The char tokenizer of the built-in tiny models.
#include "sdzero/text/char_tokenizer.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/text/unicode.hpp"

namespace sdz::text {

const char* const kToySpecials = "<pad> <q> <a> <e> <w> <r>";
const char* const kToyAlphabet = "0123456789+-*/=|#;,>";

static size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

CharTokenizer::CharTokenizer(std::vector<std::string> tokens, std::string where)
    : tokens_(std::move(tokens)), where_(std::move(where)) {
  if (tokens_.empty()) throw Error("the char vocabulary is empty", where_, "list at least one token");
  special_.assign(tokens_.size(), 0);
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const std::string& t = tokens_[i];
    if (t.empty() || !is_valid_utf8(t))
      throw Error("token " + std::to_string(i) + " is empty or not UTF-8", where_);
    if (!index_.emplace(t, static_cast<int32_t>(i)).second)
      throw Error("token \"" + t + "\" appears twice", where_, "each token needs one id");
    if (utf8_len(static_cast<unsigned char>(t[0])) != t.size()) {
      special_[i] = 1;
      specials_by_length_.push_back(static_cast<int32_t>(i));
    }
  }
  std::stable_sort(specials_by_length_.begin(), specials_by_length_.end(),
                   [&](int32_t a, int32_t b) { return tokens_[a].size() > tokens_[b].size(); });
}

CharTokenizer CharTokenizer::from_spec(const std::string& specials, const std::string& alphabet) {
  std::vector<std::string> tokens;
  for (const std::string& s : split(specials, ' '))
    if (!s.empty()) tokens.push_back(s);
  std::string a = sanitize_utf8(alphabet);
  for (size_t i = 0; i < a.size();) {
    size_t l = utf8_len(static_cast<unsigned char>(a[i]));
    tokens.push_back(a.substr(i, l));
    i += l;
  }
  return CharTokenizer(std::move(tokens), "char vocabulary (specials \"" + specials + "\", alphabet \"" + alphabet + "\")");
}

CharTokenizer CharTokenizer::from_config(const Config& cfg) {
  return from_spec(cfg.get_string("tokenizer.char_specials"), cfg.get_string("tokenizer.char_alphabet"));
}

CharTokenizer CharTokenizer::from_parsed(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || j.value("type", "") != "sdzero-char")
    throw Error("not a char tokenizer file", where + ": type", "expected \"type\": \"sdzero-char\"");
  if (!j.contains("version") || j["version"] != 1)
    throw Error("unsupported version " + (j.contains("version") ? j["version"].dump() : std::string("(missing)")),
                where + ": version", "this build reads version 1");
  if (!j.contains("tokens") || !j["tokens"].is_array())
    throw Error("missing or not an array", where + ": tokens");
  std::vector<std::string> tokens;
  for (size_t i = 0; i < j["tokens"].size(); ++i) {
    if (!j["tokens"][i].is_string())
      throw Error("not a string: " + j["tokens"][i].dump(), where + ": tokens[" + std::to_string(i) + "]");
    tokens.push_back(j["tokens"][i].get<std::string>());
  }
  return CharTokenizer(std::move(tokens), where);
}

std::string CharTokenizer::to_json() const {
  nlohmann::json j = {{"type", "sdzero-char"}, {"version", 1}, {"tokens", tokens_}};
  return j.dump() + "\n";
}

void CharTokenizer::save(const std::string& path) const { write_file_atomic(path, to_json()); }

std::vector<int32_t> CharTokenizer::encode(const std::string& raw) const {
  const std::string text = sanitize_utf8(raw);
  std::vector<int32_t> ids;
  ids.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    int32_t hit = -1;
    if (text[i] == '<' || !specials_by_length_.empty()) {
      for (int32_t s : specials_by_length_)
        if (text.compare(i, tokens_[s].size(), tokens_[s]) == 0) { hit = s; break; }
    }
    if (hit >= 0) {
      ids.push_back(hit);
      i += tokens_[hit].size();
      continue;
    }
    size_t l = std::min(utf8_len(static_cast<unsigned char>(text[i])), text.size() - i);
    auto it = index_.find(text.substr(i, l));
    if (it == index_.end()) {
      uint32_t cp = utf8_to_codepoints(text.substr(i, l))[0];
      throw Error(strprintf("character \"%s\" (U+%04X) at byte %zu is not in the char vocabulary",
                            text.substr(i, l).c_str(), cp, i),
                  where_, "add it to the alphabet, or check the input");
    }
    ids.push_back(it->second);
    i += l;
  }
  return ids;
}

std::string CharTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) out += id_to_token(id);
  return out;
}

std::optional<int32_t> CharTokenizer::token_to_id(const std::string& token) const {
  auto it = index_.find(token);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::string CharTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw Error("token id " + std::to_string(id) + " is not in the vocabulary", where_,
                "ids run from 0 to " + std::to_string(vocab_size() - 1));
  return tokens_[id];
}

bool CharTokenizer::is_special(int32_t id) const { return id >= 0 && id < vocab_size() && special_[id]; }

}  // namespace sdz::text
