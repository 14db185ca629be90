// Olmo-2/Olmo-3's tokenizer.json is cl100k_base with Dolma 2 special tokens, in the
// Sequence[Split(cl100k pattern), ByteLevel(use_regex=false)] shape. No npm package ships it, so
// this builds that shape from the fetched cl100k file: merges rewritten as ["a", "b"] pairs and the
// Olmo chat/PII specials added after the vocabulary. Ordinary text must encode exactly as cl100k;
// the specials must be matched. Also: one tokenizer used from several threads at once.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "text_test_util.hpp"

namespace sdz::text {
namespace {

using nlohmann::json;

TEST(OlmoShape, PairMergesAndDolmaSpecials) {
  const BpeTokenizer* cl = testing::reference("cl100k");
  ASSERT_NE(cl, nullptr);
  std::ifstream in(testing::cache_dir() + "/cl100k/tokenizer.json");
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str());
  json pairs = json::array();
  for (const auto& m : j["model"]["merges"]) {
    const std::string s = m.get<std::string>();
    const size_t sp = s.find(' ');
    pairs.push_back({s.substr(0, sp), s.substr(sp + 1)});
  }
  j["model"]["merges"] = pairs;
  const std::vector<std::string> specials = {"<|im_start|>", "<|im_end|>", "|||IP_ADDRESS|||", "<functions>",
                                             "</functions>", "<|pad|>"};
  for (size_t i = 0; i < specials.size(); ++i)
    j["added_tokens"].push_back({{"id", 100277 + static_cast<int>(i)}, {"content", specials[i]}, {"special", true},
                                 {"normalized", false}});
  auto olmo = BpeTokenizer::from_parsed(j, "olmo-shape tokenizer.json");
  for (const auto& row : testing::read_jsonl(testing::fixture_path("cl100k.jsonl"))) {
    if (!row.contains("text")) continue;
    const std::string t = row["text"];
    bool has_special = false;
    for (const auto& s : specials) has_special = has_special || t.find(s) != std::string::npos;
    if (!has_special) {
      EXPECT_EQ(olmo->encode(t), cl->encode(t)) << row.dump();
    }
  }
  const auto ids = olmo->encode("<|im_start|>user\nWhat is 2+2?<|im_end|>\n|||IP_ADDRESS|||");
  EXPECT_EQ(ids.front(), 100277);
  EXPECT_EQ(ids.back(), 100279);
  EXPECT_EQ(olmo->decode(ids), "<|im_start|>user\nWhat is 2+2?<|im_end|>\n|||IP_ADDRESS|||");
  // "\n\nhello": the cl100k Split keeps "\n\n" together (a bare GPT-2 ByteLevel would not).
  EXPECT_EQ(olmo->encode("\n\nhello"), cl->encode("\n\nhello"));
  EXPECT_EQ(olmo->encode("\n\nhello").size(), 2u);
}

TEST(Concurrency, OneTokenizerManyThreads) {
  const BpeTokenizer* q = testing::reference("qwen3");
  ASSERT_NE(q, nullptr);
  const auto rows = testing::read_jsonl(testing::fixture_path("qwen3.jsonl"));
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int pass = 0; pass < 3; ++pass)
        for (size_t i = t; i < rows.size(); i += 2) {
          const std::string text = rows[i].contains("hex") ? testing::from_hex(rows[i]["hex"]) : rows[i]["text"].get<std::string>();
          if (q->encode(text) != rows[i]["ids"].get<std::vector<int32_t>>()) ++failures[t];
        }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace sdz::text
