// load_tokenizer(): one entry point for both file kinds, told apart by their JSON.
#include <nlohmann/json.hpp>

#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/text/bpe.hpp"
#include "sdzero/text/char_tokenizer.hpp"

namespace sdz::text {

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  const std::string text = read_file(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(std::string("not valid JSON: ") + e.what(), path,
                "expected a Hugging Face tokenizer.json or an sdzero char tokenizer file");
  }
  if (j.is_object() && j.value("type", "") == "sdzero-char")
    return std::make_unique<CharTokenizer>(CharTokenizer::from_parsed(j, path));
  if (j.is_object() && j.contains("model")) return BpeTokenizer::from_parsed(j, path);
  throw Error("neither a tokenizer.json (no \"model\") nor a char tokenizer file (no \"type\": \"sdzero-char\")",
              path, "pass the tokenizer.json that ships with the model");
}

}  // namespace sdz::text
