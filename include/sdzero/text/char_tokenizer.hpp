// defines: CharTokenizer, the tokenizer of the built-in tiny models: one id per character plus
// multi-character special tokens (<pad> <q> <a> <e> and the revision cues <w> <r>) matched whole.
// Saved with the model as a small JSON file that load_tokenizer() reads:
//   {"type": "sdzero-char", "version": 1, "tokens": ["<pad>", "<q>", ..., "0", "1", ...]}
// Id = position in "tokens". A token of more than one character is special.
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "sdzero/text/tokenizer.hpp"

namespace sdz {
class Config;
}

namespace sdz::text {

// The TOY-STUDY vocabulary: specials, then digits and the operators of the built-in tasks.
extern const char* const kToySpecials;  // "<pad> <q> <a> <e> <w> <r>"
extern const char* const kToyAlphabet;  // "0123456789+-*/=|#;,>"

class CharTokenizer : public Tokenizer {
 public:
  // `tokens` in id order; throws when empty, duplicated, or a one-character token repeats.
  explicit CharTokenizer(std::vector<std::string> tokens, std::string where = "char tokenizer");
  // Specials separated by spaces, then every UTF-8 character of `alphabet` ("" keeps defaults out).
  static CharTokenizer from_spec(const std::string& specials, const std::string& alphabet);
  static CharTokenizer toy() { return from_spec(kToySpecials, kToyAlphabet); }
  // From tokenizer.char_specials and tokenizer.char_alphabet.
  static CharTokenizer from_config(const Config& cfg);
  static CharTokenizer from_parsed(const nlohmann::json& j, const std::string& where);

  std::string to_json() const;
  void save(const std::string& path) const;  // atomic write

  // Unknown characters are an sdz::Error naming the character and its byte offset.
  std::vector<int32_t> encode(const std::string& text) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(tokens_.size()); }
  std::optional<int32_t> token_to_id(const std::string& token) const override;
  std::string id_to_token(int32_t id) const override;
  std::string kind() const override { return "char"; }
  bool is_special(int32_t id) const override;
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  std::vector<std::string> tokens_;
  std::string where_;
  std::unordered_map<std::string, int32_t> index_;
  std::vector<int32_t> specials_by_length_;  // longest first
  std::vector<uint8_t> special_;
};

}  // namespace sdz::text
