// defines: BpeTokenizer, byte-level BPE loaded from a Hugging Face tokenizer.json (Qwen3, cl100k,
// Olmo-2/Olmo-3). Pipeline, as in the tokenizers library: added tokens matched on the raw text ->
// normalizer (none or NFC) -> pre-tokenizers (Split regex, ByteLevel) -> BPE by merge rank ->
// ids. Post-processors are not applied (the add_special_tokens=false behaviour): prompts spell
// their special tokens out.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sdzero/text/tokenizer.hpp"

namespace sdz::text {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool lstrip = false, rstrip = false;  // the match swallows whitespace on that side
  bool normalized = false;              // matched on the normalized text instead of the raw text
};

class BpeTokenizer : public Tokenizer {
 public:
  // `json_text` is the tokenizer.json content; `where` (its path) prefixes every error.
  static std::unique_ptr<BpeTokenizer> from_json(const std::string& json_text, const std::string& where);
  static std::unique_ptr<BpeTokenizer> from_parsed(const nlohmann::json& j, const std::string& where);
  static std::unique_ptr<BpeTokenizer> from_file(const std::string& path);
  ~BpeTokenizer() override;

  std::vector<int32_t> encode(const std::string& text) const override;
  // Without matching added/special tokens: "<|im_end|>" in user text becomes ordinary pieces.
  std::vector<int32_t> encode_ordinary(const std::string& text) const;
  std::string decode(const std::vector<int32_t>& ids) const override;
  std::string decode_bytes(const std::vector<int32_t>& ids) const override;
  int32_t vocab_size() const override;
  std::optional<int32_t> token_to_id(const std::string& token) const override;
  std::string id_to_token(int32_t id) const override;  // byte-level form ("Ġworld") or added content
  std::string kind() const override { return "bpe"; }
  bool is_special(int32_t id) const override;

  const std::vector<AddedToken>& added_tokens() const;
  std::string describe() const;  // one line: sizes, normalizer, pre-tokenizer, regex JIT on/off

  struct Impl;

 private:
  explicit BpeTokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sdz::text
