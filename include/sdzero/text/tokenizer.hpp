// defines: the Tokenizer interface every layer uses (model/ for `sdzero generate`, algo/ for prompt
// layouts, tasks/ never). Implementations: byte-level BPE from a Hugging Face tokenizer.json and the
// char tokenizer of the built-in tiny models. Ids are int32 (Qwen3's vocab is ~151k).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sdz::text {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Text -> ids. Special/added tokens written in the text are matched exactly.
  virtual std::vector<int32_t> encode(const std::string& text) const = 0;
  // Ids -> text; an id outside the vocabulary is an sdz::Error naming it.
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int32_t vocab_size() const = 0;
  virtual std::optional<int32_t> token_to_id(const std::string& token) const = 0;
  virtual std::string id_to_token(int32_t id) const = 0;
  virtual std::string kind() const = 0;  // "bpe" | "char"
  // Special tokens (chat markers, <pad>, cues of the char tokenizer): generation stops on some of
  // them and loss masks may skip them.
  virtual bool is_special(int32_t /*id*/) const { return false; }
  // Ids -> the raw bytes they stand for, without replacing an incomplete UTF-8 sequence at the end
  // (for streaming output a piece at a time); decode() = sanitize_utf8(decode_bytes()).
  virtual std::string decode_bytes(const std::vector<int32_t>& ids) const { return decode(ids); }
};

// Loads a tokenizer file: a Hugging Face tokenizer.json (byte-level BPE) or a char-tokenizer file
// saved with a tiny model. Errors name the file and what is wrong with it.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace sdz::text
